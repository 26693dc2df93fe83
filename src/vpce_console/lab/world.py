"""The lab world's shape: its constants (region, org, zones) and the value types the seeding fills.

The seeding itself is `lab/seeding.py` (moto's backends in-process: seeding over HTTP is 5-10x slower, facts §9).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vpce_console.readyfile import LabPersona

REGION = "us-east-1"


AZS = ("us-east-1a", "us-east-1b", "us-east-1c")


VPCE_ZONE_ID = "Z7HUB4ULCMQR5"
"""Hosted zone id of `*.vpce.amazonaws.com` names in us-east-1, as DescribeVpcEndpoints shows it."""


LOG_GROUP = "aws-cloudtrail-logs-lab"


READ_ROLE = "vpce-console-read"


HUB_CIDR = "10.0.0.0/16"


OPERATOR_BASTION_IP = "10.0.200.10"
"""Where the operator's bastion sits (hub VPC ops subnet): sessions it assumes call from here."""


ORG_ID = "o-lab7h2k9q4x"


ORG_ROOT = "r-lb7q"


HUB_ORG_PATH = f"{ORG_ID}/{ORG_ROOT}/ou-lb7q-network/"


def org_path(environment: str) -> str:
    """The OU path of an account of this environment (aws:PrincipalOrgPaths value)."""
    return f"{ORG_ID}/{ORG_ROOT}/ou-lb7q-{environment}/"


DEMO_SERVICES = (
    "sqs",
    "sts",
    "kms",
    "logs",
    "ssm",
    "ssmmessages",
    "ec2messages",
    "secretsmanager",
    "ecr.api",
    "ecr.dkr",
    "monitoring",
    "ec2",
)


ORG_EXTRA_SERVICES = (
    "sns",
    "lambda",
    "ecs",
    "ecs-agent",
    "ecs-telemetry",
    "elasticloadbalancing",
    "autoscaling",
    "cloudformation",
    "events",
    "states",
    "execute-api",
    "kinesis-streams",
    "kinesis-firehose",
    "glue",
    "athena",
    "codebuild",
    "codecommit",
    "git-codecommit",
    "codepipeline",
    "config",
    "ebs",
    "elasticfilesystem",
    "rds",
    "sagemaker.api",
    "sagemaker.runtime",
    "servicecatalog",
    "xray",
    "application-autoscaling",
)


PERSONA_SERVICES = ("sqs", "kms", "sts", "secretsmanager", "ssm", "logs")
"""Services the background traffic calls as a persona unless its seeding names others."""


def service_dns_label(service: str) -> str:
    """`ecr.api` -> `api.ecr`: the label order AWS uses in endpoint and PHZ names."""
    return ".".join(reversed(service.split(".")))


def zone_name(service: str, region: str = REGION) -> str:
    """The PHZ a centralized design creates for a service (facts §5), without the trailing dot."""
    return f"{service_dns_label(service)}.{region}.amazonaws.com"


@dataclass
class Spoke:
    """One spoke VPC as the ready-file lists it (mutable while the seeder associates services)."""

    account_id: str
    vpc_id: str
    cidr: str
    name: str
    environment: str
    subnet_ids: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    """Services whose PHZ is associated with this VPC (the truth after faults)."""

    def ready(self) -> dict[str, Any]:
        """The ready-file entry."""
        return {
            "account_id": self.account_id,
            "vpc_id": self.vpc_id,
            "cidr": self.cidr,
            "name": self.name,
            "environment": self.environment,
        }


@dataclass
class World:
    """Everything the server needs to know about the seeded world (and the ready-file shows); built once."""

    scale: str
    seed: int
    region: str = REGION
    hub_account: str = "111111111111"
    hub_vpc_id: str = ""
    hub_cidr: str = HUB_CIDR
    operator_key: str = ""
    operator_secret: str = ""
    accounts: list[str] = field(default_factory=list)
    spokes: list[Spoke] = field(default_factory=list)
    endpoints: dict[str, str] = field(default_factory=dict)
    """service -> endpoint id in the hub."""
    zones: dict[str, str] = field(default_factory=dict)
    """service -> hosted zone id (without /hostedzone/)."""
    personas: list[LabPersona] = field(default_factory=list)
    seeded_faults: list[dict[str, str]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    target_env: dict[str, str] = field(default_factory=dict)
    """account -> environment label of its seeded queues/keys/secrets (`orders-<env>`, `alias/<env>-data`)."""
    dns: str = "direct"
    """How spokes subscribe: `direct` (PHZ associations), `profiles` (Route 53 Profiles) or `mixed`."""
    profiles: Any = None
    """The lab's Route 53 Profiles (lab.profiles.ProfileStore); moto has no such service."""
    profile_ids: dict[str, str] = field(default_factory=dict)
    """Profile name -> id, for the ready-file."""
    expected: dict[str, list[str]] = field(default_factory=dict)
    """vpc id -> services a Profile-subscribed spoke was seeded to use (its Profile may provide more)."""

    @property
    def services(self) -> list[str]:
        """Services with a hub endpoint."""
        return list(self.endpoints)
