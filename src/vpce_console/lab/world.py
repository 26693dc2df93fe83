"""Seed moto's backends in-process with a hub-and-spoke world, because seeding over HTTP is 5-10x slower (facts §9)."""

from __future__ import annotations

import importlib
import ipaddress
import json
import os
import random
import string
import tempfile
from dataclasses import dataclass, field
from typing import Any

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
DEFAULT_POLICY = '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
"""The full-access policy AWS attaches when none is given (facts §3, no Version element)."""


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


@dataclass(frozen=True, slots=True)
class LabPersona:
    """A workload with its own keys; fields mirror `vpce_console.policy.personas.Persona` plus the keys."""

    name: str
    kind: str
    account_id: str
    vpc_id: str | None
    private_ip: str | None
    role_arn: str
    tags: dict[str, str]
    access_key_id: str
    secret_access_key: str
    session_name: str = "session"
    instance_id: str | None = None
    function_arn: str | None = None
    cluster_arn: str | None = None
    namespace: str | None = None
    service_account: str | None = None
    oidc_provider_arn: str | None = None
    org_id: str | None = ORG_ID
    org_paths: tuple[str, ...] = ()
    public_ip: str | None = None
    """The NAT gateway address its VPC uses when a call bypasses the endpoints."""
    services: tuple[str, ...] = ("sqs", "kms", "sts", "secretsmanager", "ssm", "logs")
    """Services the traffic generator makes this persona call."""

    def ready(self) -> dict[str, Any]:
        """The ready-file entry (extra identity fields included for persona synthesis)."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "account_id": self.account_id,
            "vpc_id": self.vpc_id,
            "private_ip": self.private_ip,
            "role_arn": self.role_arn,
            "tags": dict(self.tags),
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "session_name": self.session_name,
        }
        out["org_id"] = self.org_id
        out["org_paths"] = list(self.org_paths)
        for key in (
            "instance_id",
            "function_arn",
            "cluster_arn",
            "namespace",
            "service_account",
            "oidc_provider_arn",
            "public_ip",
        ):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


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


class _Rng:
    """Repeatable random values for keys and suffixes (moto's own ids come from its seeded mock_random)."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def chars(self, n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def key(self, prefix: str) -> tuple[str, str]:
        return prefix + self.chars(16, string.ascii_uppercase + string.digits), self.chars(
            40, string.ascii_letters + string.digits
        )

    def host(self, cidr: str, used: set[str]) -> str:
        net = ipaddress.ip_network(cidr)
        while True:
            ip = str(net[self.r.randint(10, net.num_addresses - 6)])
            if ip not in used:
                used.add(ip)
                return ip


def _backends() -> dict[str, Any]:
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # 6,500 AMIs cost ~1.3 s per account
    if "MOTO_AMIS_PATH" not in os.environ:  # and ~1.3 s to parse at import; the lab launches no instances
        empty = os.path.join(tempfile.gettempdir(), "vpce-lab-no-amis.json")
        if not os.path.exists(empty):
            with open(empty, "w", encoding="utf-8") as fh:
                fh.write("[]")
        os.environ["MOTO_AMIS_PATH"] = empty
    from moto.ec2.models import ec2_backends
    from moto.iam.models import iam_backends
    from moto.kms.models import kms_backends
    from moto.logs.models import logs_backends
    from moto.route53.models import route53_backends
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.sqs.models import sqs_backends
    from moto.ssm.models import ssm_backends

    return {
        "ec2": ec2_backends,
        "iam": iam_backends,
        "kms": kms_backends,
        "logs": logs_backends,
        "route53": route53_backends,
        "secretsmanager": secretsmanager_backends,
        "sqs": sqs_backends,
        "ssm": ssm_backends,
    }


class _Seeder:
    """Builds the world into moto's in-process backends."""

    def __init__(self, scale: str, seed: int) -> None:
        from moto.moto_api._internal import mock_random

        mock_random.seed(seed)
        self.b = _backends()
        self.rng = _Rng(seed)
        self.world = World(scale=scale, seed=seed)
        self.used_ips: set[str] = set()
        self.tgw_id = ""
        self.hub_rt_id = ""
        self.sg_by_service: dict[str, str] = {}
        self.sg_cidrs: dict[str, list[str]] = {}
        self.sg_cidr: dict[str, str] = {}
        self.shared_kms_key: Any = None
        """vpc id -> the CIDR SG rules use for it (an account supernet at org scale, the rule limit is 60)."""

    def ec2(self, account: str) -> Any:
        return self.b["ec2"][account][REGION]

    def r53(self) -> Any:
        return self.b["route53"][self.world.hub_account]["aws"]

    # -- accounts and identities ---------------------------------------------------------------------------

    def operator(self) -> None:
        iam = self.b["iam"][self.world.hub_account]["aws"]
        iam.create_user(REGION, "vpce-operator", tags=[{"Key": "purpose", "Value": "lab operator"}])
        key = iam.create_access_key("vpce-operator")
        self.world.operator_key = key.access_key_id
        self.world.operator_secret = key.secret_access_key

    def read_role(self, account: str) -> None:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{self.world.hub_account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam = self.b["iam"][account]["aws"]
        iam.create_role(READ_ROLE, json.dumps(trust), "/", None, "vpce-console read-only inventory", [], None)

    def role(self, account: str, name: str, tags: dict[str, str], service: str = "ec2.amazonaws.com") -> str:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        iam = self.b["iam"][account]["aws"]
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        role = iam.create_role(name, json.dumps(trust), "/", None, f"lab workload role {name}", tag_list, None)
        return str(role.arn)

    # -- hub -----------------------------------------------------------------------------------------------

    def hub(self, services: tuple[str, ...]) -> None:
        w = self.world
        ec2 = self.ec2(w.hub_account)
        vpc = ec2.create_vpc(HUB_CIDR, tags=[{"Key": "Name", "Value": "network-hub-endpoints"}])
        vpc.enable_dns_hostnames = True
        w.hub_vpc_id = vpc.id
        subnets = []
        for i, az in enumerate(AZS):
            sub = ec2.create_subnet(
                vpc.id,
                f"10.0.{i}.0/24",
                availability_zone=az,
                tags={"subnet": {"Name": f"hub-endpoints-{az[-1]}"}},
            )
            subnets.append(sub)
        ops = ec2.create_subnet(
            vpc.id, "10.0.200.0/24", availability_zone=AZS[0], tags={"subnet": {"Name": "hub-ops-bastion"}}
        )
        self.used_ips.add(OPERATOR_BASTION_IP)
        tgw = ec2.create_transit_gateway("hub transit gateway", tags=[{"Key": "Name", "Value": "network-hub-tgw"}])
        self.tgw_id = tgw.id
        self._attach(w.hub_account, vpc.id, [s.id for s in subnets], "network-hub-endpoints")
        rt = ec2.create_route_table(vpc.id, tags=[{"Key": "Name", "Value": "hub-endpoints-rt"}])
        self.hub_rt_id = rt.id
        for sub in [*subnets, ops]:
            ec2.associate_route_table(rt.id, subnet_id=sub.id)
        for svc in services:
            self.endpoint(svc, subnets, private_dns=False)
        self.subnets = subnets

    def _attach(self, account: str, vpc_id: str, subnet_ids: list[str], name: str) -> None:
        from moto.ec2.models.transit_gateway_attachments import TransitGatewayVpcAttachment

        hub = self.ec2(self.world.hub_account)
        tgw = hub.transit_gateways[self.tgw_id]
        att = TransitGatewayVpcAttachment(
            hub, transit_gateway=tgw, tags={"Name": name}, vpc_id=vpc_id, subnet_ids=subnet_ids, options=None
        )
        att.resource_owner_id = account
        hub.transit_gateway_attachments[att.id] = att
        hub.set_route_table_association(
            transit_gateway_attachment_id=att.id,
            transit_gateway_route_table_id=att.transit_gateway_route_table.id,
        )
        self.last_attachment = att.id

    def endpoint(self, service: str, subnets: list[Any], *, private_dns: bool, register: bool = True) -> Any:
        w = self.world
        ec2 = self.ec2(w.hub_account)
        full = f"com.amazonaws.{REGION}.{service}"
        sg = ec2.create_security_group(
            f"vpce-{service}" if register else f"vpce-{service}-old",
            f"443 from subscribing spokes to the {service} endpoint",
            w.hub_vpc_id,
            tags={"Name": f"vpce-{service}"},
        )
        ep = ec2.create_vpc_endpoint(
            vpc_id=w.hub_vpc_id,
            service_name=full,
            endpoint_type="Interface",
            policy_document=DEFAULT_POLICY,
            route_table_ids=[],
            subnet_ids=None,
            security_group_ids=[sg.id],
            tags={"Name": f"hub-{service}"},
            private_dns_enabled=private_dns,
        )
        enis = []
        for sub in subnets:
            ip = self.rng.host(sub.cidr_block, self.used_ips)
            eni = ec2.create_network_interface(
                sub, ip, group_ids=[sg.id], description=f"VPC Endpoint Interface {ep.id}"
            )
            eni.interface_type = "vpc_endpoint"
            eni.requester_managed = True
            eni.requester_id = "727180483921"
            enis.append(eni.id)
        suffix = self.rng.chars(8)
        label = service_dns_label(service)
        entries = [
            {"dns_name": f"{ep.id}-{suffix}.{label}.{REGION}.vpce.amazonaws.com", "hosted_zone_id": VPCE_ZONE_ID}
        ]
        for sub in subnets:
            entries.append(
                {
                    "dns_name": f"{ep.id}-{suffix}-{sub.availability_zone}.{label}.{REGION}.vpce.amazonaws.com",
                    "hosted_zone_id": VPCE_ZONE_ID,
                }
            )
        ep.dns_entries = entries
        ep.subnet_ids = [s.id for s in subnets]
        ep.network_interface_ids = enis
        ep.ip_address_type = "ipv4"
        ep.dns_options = {"dns_record_ip_type": "ipv4", "private_dns_only_for_inbound_resolver_endpoint": False}
        if register:
            w.endpoints[service] = ep.id
            self.sg_by_service[service] = sg.id
            self.sg_cidrs[service] = []
        return ep

    def zones(self, services: tuple[str, ...]) -> None:
        w = self.world
        r53 = self.r53()
        ec2 = self.ec2(w.hub_account)
        for svc in services:
            zone = r53.create_hosted_zone(
                zone_name(svc) + ".",
                private_zone=True,
                caller_reference=f"lab-{svc}",
                vpcid=w.hub_vpc_id,
                vpcregion=REGION,
                comment=f"centralized endpoint zone for {svc}",
            )
            ep = ec2.vpc_end_points[w.endpoints[svc]]
            r53.change_resource_record_sets(
                zone.id,
                [
                    {
                        "Action": "CREATE",
                        "ResourceRecordSet": {
                            "Name": zone_name(svc) + ".",
                            "Type": "A",
                            "AliasTarget": {
                                "HostedZoneId": VPCE_ZONE_ID,
                                "DNSName": ep.dns_entries[0]["dns_name"],
                                "EvaluateTargetHealth": True,
                            },
                        },
                    }
                ],
            )
            w.zones[svc] = zone.resource_id

    # -- spokes --------------------------------------------------------------------------------------------

    def spoke(
        self, account: str, name: str, env: str, cidr: str, services: list[str], sg_cidr: str | None = None
    ) -> Spoke:
        ec2 = self.ec2(account)
        vpc = ec2.create_vpc(cidr, tags=[{"Key": "Name", "Value": name}, {"Key": "environment", "Value": env}])
        vpc.enable_dns_hostnames = True
        vpc.enable_dns_support = True
        net = ipaddress.ip_network(cidr)
        halves = list(net.subnets(new_prefix=net.prefixlen + 2))
        subnet_ids = []
        rt = ec2.create_route_table(vpc.id, tags=[{"Key": "Name", "Value": f"{name}-private"}])
        for i in range(2):
            sub = ec2.create_subnet(
                vpc.id,
                str(halves[i]),
                availability_zone=AZS[i],
                tags={"subnet": {"Name": f"{name}-private-{AZS[i][-1]}"}},
            )
            subnet_ids.append(sub.id)
            _associate(rt, sub.id)
        route = ec2.create_route(rt.id, HUB_CIDR, transit_gateway_id=self.tgw_id)
        # the TGW lives in the hub account (shared via RAM in reality); moto only looks in the spoke's backend
        route.transit_gateway = self.ec2(self.world.hub_account).transit_gateways[self.tgw_id]
        self._attach(account, vpc.id, subnet_ids, name)
        self._hub_route(cidr)
        spoke = Spoke(account, vpc.id, cidr, name, env, subnet_ids, [])
        if sg_cidr:
            self.sg_cidr[vpc.id] = sg_cidr
        for svc in services:
            self.associate(spoke, svc)
        self.world.spokes.append(spoke)
        return spoke

    def _hub_route(self, cidr: str) -> None:
        """Add `cidr -> TGW` to the hub route table directly: moto validates each new route against every existing
        one with ipaddress parsing, which is quadratic (minutes at 1,000 spokes)."""
        from moto.ec2.models.route_tables import Route

        hub = self.ec2(self.world.hub_account)
        table = hub.route_tables[self.hub_rt_id]
        route_cls: Any = Route  # moto's CloudFormation mixin leaves abstract stubs mypy objects to
        route = route_cls(table, cidr, None, transit_gateway=hub.transit_gateways[self.tgw_id])
        table._routes[route.id] = route

    def associate(self, spoke: Spoke, svc: str, *, sg: bool = True) -> None:
        zone = self.r53().zones[self.world.zones[svc]]
        zone.add_vpc(spoke.vpc_id, REGION)
        spoke.services.append(svc)
        if sg:
            self.sg_cidrs[svc].append(self.sg_cidr.get(spoke.vpc_id, spoke.cidr))

    def authorize_sgs(self) -> None:
        ec2 = self.ec2(self.world.hub_account)
        for svc, sg_id in self.sg_by_service.items():
            cidrs = list(dict.fromkeys(self.sg_cidrs[svc]))
            if not cidrs:
                continue
            ec2.authorize_security_group_ingress(
                sg_id,
                "tcp",
                "443",
                "443",
                [{"CidrIp": c, "Description": "spoke"} for c in cidrs],
            )

    def targets(self, account: str, env: str) -> None:
        """Queues, a key, a secret, a parameter and a log group: what personas call in their account."""
        self.world.target_env[account] = env
        self.b["sqs"][account][REGION].create_queue(f"orders-{env}")
        self.b["sqs"][account][REGION].create_queue(f"audit-{env}")
        kms_models: Any = importlib.import_module("moto.kms.models")
        if self.shared_kms_key is None:
            self.shared_kms_key = kms_models.generate_private_key("SYMMETRIC_DEFAULT")
        real = kms_models.generate_private_key
        kms_models.generate_private_key = lambda _spec: self.shared_kms_key  # ~0.15 s of RSA per key otherwise
        try:
            key = self.b["kms"][account][REGION].create_key(
                None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", f"{env} data key", None
            )
        finally:
            kms_models.generate_private_key = real
        self.b["kms"][account][REGION].create_alias(key.id, f"alias/{env}-data")
        self.b["secretsmanager"][account][REGION].create_secret(
            f"app/{env}/db", '{"password": "lab"}', None, f"{env} database", None, None, None, [], False
        )
        self.b["ssm"][account][REGION].put_parameter(
            f"/app/{env}/feature-flags", "flags", "on", "String", "", "", False, [], "text", None, None
        )
        logs = self.b["logs"][account][REGION]
        if f"/app/{env}" not in logs.groups:
            logs.create_log_group(f"/app/{env}", {})

    def metrics(self, hours: int = 48) -> None:
        """Hourly BytesProcessed per hub endpoint (AWS/PrivateLinkEndpoints, the four documented dimensions), so
        the console's traffic columns and the cost pane have numbers; volume grows with the subscriber count."""
        import datetime as dt

        from moto.cloudwatch.models import cloudwatch_backends

        w = self.world
        cw = cloudwatch_backends[w.hub_account][REGION]
        ec2 = self.ec2(w.hub_account)
        now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)  # moto compares naive
        for svc, endpoint_id in w.endpoints.items():
            ep = ec2.vpc_end_points[endpoint_id]
            subscribers = sum(1 for sp in w.spokes if svc in sp.services)
            base = (1 + subscribers) * self.rng.r.uniform(20e6, 400e6)
            dims = [
                {"Name": "Endpoint Type", "Value": "Interface"},
                {"Name": "Service Name", "Value": ep.service_name},
                {"Name": "VPC Endpoint Id", "Value": endpoint_id},
                {"Name": "VPC Id", "Value": w.hub_vpc_id},
            ]
            data = [
                {
                    "MetricName": "BytesProcessed",
                    "Dimensions": dims,
                    "Timestamp": now - dt.timedelta(hours=h),
                    "Value": round(base * (0.6 + 0.8 * self.rng.r.random()), 0),
                    "Unit": "Bytes",
                }
                for h in range(hours)
            ]
            cw.put_metric_data("AWS/PrivateLinkEndpoints", data)

    def log_group(self, account: str) -> None:
        logs = self.b["logs"][account][REGION]
        logs.create_log_group(LOG_GROUP, {"purpose": "cloudtrail"})
        logs.create_log_stream(LOG_GROUP, f"{account}_CloudTrail_{REGION}")


def _associate(route_table: Any, subnet_id: str) -> None:
    """Associate a fresh subnet with a route table without moto's scan of every table in the account."""
    from moto.ec2.utils import random_subnet_association_id

    route_table._associations[random_subnet_association_id()] = subnet_id


def _persona(
    s: _Seeder,
    *,
    name: str,
    kind: str,
    spoke: Spoke | None,
    account: str,
    role: str,
    tags: dict[str, str] | None = None,
    **extra: Any,
) -> LabPersona:
    rng = s.rng
    tags = dict(tags or {})
    if spoke is not None:
        tags.setdefault("vpc-id", spoke.vpc_id)
        tags.setdefault("environment", spoke.environment)
    if kind == "aws-service":
        role_arn = role
    elif kind == "iam-user":
        iam = s.b["iam"][account]["aws"]
        user = iam.create_user(REGION, role, tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        role_arn = str(user.arn)
    else:
        service = {
            "lambda": "lambda.amazonaws.com",
            "ecs-task": "ecs-tasks.amazonaws.com",
            "eks-pod-identity": "pods.eks.amazonaws.com",
        }.get(kind, "ec2.amazonaws.com")
        role_arn = s.role(account, role, tags, service)
    key, secret = rng.key("AKIA" if kind == "iam-user" else "ASIA")
    ip = None
    public_ip = None
    if spoke is not None:
        ip = rng.host(spoke.cidr, s.used_ips)
        public_ip = f"3.{rng.r.randint(80, 240)}.{rng.r.randint(0, 255)}.{rng.r.randint(1, 254)}"
    env = spoke.environment if spoke else "network"
    p = LabPersona(
        name=name,
        kind=kind,
        account_id=account,
        vpc_id=spoke.vpc_id if spoke else None,
        private_ip=ip,
        role_arn=role_arn,
        tags=tags,
        access_key_id=key,
        secret_access_key=secret,
        org_paths=(org_path(env),),
        public_ip=public_ip,
        **extra,
    )
    s.world.personas.append(p)
    return p


def _personas(s: _Seeder, by_name: dict[str, Spoke]) -> None:
    """One persona per credential kind, spread over spokes, one in an unassociated VPC."""
    w = s.world
    r = REGION

    def sp(n: str) -> Spoke:
        return by_name[n]

    dev = sp("dev-app")
    _persona(
        s,
        name="web-dev",
        kind="ec2-instance",
        spoke=dev,
        account=dev.account_id,
        role="dev-web-instance",
        tags={"team": "web"},
        instance_id="i-0" + s.rng.chars(16, "0123456789abcdef"),
        session_name="i-0web",
    )
    cl = sp("client-lambdas")
    fn = f"arn:aws:lambda:{r}:{cl.account_id}:function:client-ingest"
    _persona(
        s,
        name="client-fn",
        kind="lambda",
        spoke=cl,
        account=cl.account_id,
        role="client-ingest-exec",
        tags={"team": "clients", "data-class": "sensitive"},
        function_arn=fn,
        session_name="client-ingest",
    )
    st = sp("staging-app")
    _persona(
        s,
        name="orders-task",
        kind="ecs-task",
        spoke=st,
        account=st.account_id,
        role="orders-task-role",
        tags={"team": "orders"},
        cluster_arn=f"arn:aws:ecs:{r}:{st.account_id}:cluster/staging",
        session_name="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    )
    eks = sp("staging-eks")
    oidc = f"arn:aws:iam::{eks.account_id}:oidc-provider/oidc.eks.{r}.amazonaws.com/id/5C7E1B0D1E2F3A4B5C6D7E8F9A0B1C2D"
    _persona(
        s,
        name="payments-irsa",
        kind="eks-irsa",
        spoke=eks,
        account=eks.account_id,
        role="payments-irsa",
        tags={"team": "payments"},
        cluster_arn=f"arn:aws:eks:{r}:{eks.account_id}:cluster/staging",
        namespace="payments",
        service_account="payments-api",
        oidc_provider_arn=oidc,
        session_name="botocore-session-1700000000",
    )
    deks = sp("dev-eks")
    _persona(
        s,
        name="ledger-pod",
        kind="eks-pod-identity",
        spoke=deks,
        account=deks.account_id,
        role="ledger-pod-role",
        tags={"team": "ledger"},
        cluster_arn=f"arn:aws:eks:{r}:{deks.account_id}:cluster/dev",
        namespace="ledger",
        service_account="ledger",
        session_name="eks-dev-ledger-pod-1a2b",
    )
    batch = sp("dev-batch")
    _persona(
        s,
        name="ci-user",
        kind="iam-user",
        spoke=batch,
        account=batch.account_id,
        role="ci-deployer",
        tags={"team": "platform"},
    )
    _persona(
        s,
        name="ops-assumed",
        kind="assumed-role",
        spoke=dev,
        account=dev.account_id,
        role="ops-readonly",
        tags={"team": "ops"},
        session_name="alice",
    )
    legacy = sp("staging-legacy")
    _persona(
        s,
        name="legacy-ec2",
        kind="ec2-instance",
        spoke=legacy,
        account=legacy.account_id,
        role="legacy-instance",
        tags={"team": "legacy"},
        instance_id="i-0" + s.rng.chars(16, "0123456789abcdef"),
        session_name="i-0legacy",
    )
    _persona(
        s,
        name="lambda-service",
        kind="aws-service",
        spoke=None,
        account=w.hub_account,
        role="lambda.amazonaws.com",
        services=("sqs", "kms"),
    )


DNS_SCENARIOS = ("direct", "profiles", "mixed")
"""How spokes subscribe in a lab: PHZ associations, Route 53 Profiles, or both (dev account on Profiles)."""


def build_world(scale: str = "demo", seed: int = 1, dns: str = "direct") -> World:
    """Seed moto with `scale` (empty, demo or org) and return the description the server and ready-file use."""
    if scale not in ("empty", "demo", "org"):
        raise ValueError(f"unknown scale {scale!r}")
    if dns not in DNS_SCENARIOS:
        raise ValueError(f"unknown dns scenario {dns!r}")
    from vpce_console.lab.profiles import ProfileStore

    s = _Seeder(scale, seed)
    w = s.world
    w.dns = dns
    w.profiles = ProfileStore(REGION, seed=seed)
    w.accounts = [w.hub_account]
    s.operator()
    s.log_group(w.hub_account)
    s.read_role(w.hub_account)
    if scale == "empty":
        w.config = _config(w)
        return w
    if scale == "demo":
        services: tuple[str, ...] = DEMO_SERVICES
        layout = [
            ("222222222222", "dev", ["dev-app", "dev-batch", "dev-eks", "dev-sandbox"]),
            ("333333333333", "staging", ["staging-app", "staging-eks", "staging-legacy"]),
            ("444444444444", "prod", ["prod-app", "prod-data"]),
            ("555555555555", "sensitive", ["client-lambdas"]),
        ]
    else:
        services = (*DEMO_SERVICES, *ORG_EXTRA_SERVICES)
        services = services[:40]
        layout = [
            ("222222222222", "dev", ["dev-app", "dev-batch", "dev-eks", "dev-sandbox"]),
            ("333333333333", "staging", ["staging-app", "staging-eks", "staging-legacy"]),
            ("444444444444", "prod", ["prod-app", "prod-data"]),
            ("555555555555", "sensitive", ["client-lambdas"]),
        ]
        envs = ("dev", "staging", "prod", "dev", "staging")
        total = sum(len(n) for _, _, n in layout)
        extra_accounts = 20
        per = (1000 - total) // extra_accounts
        rest = (1000 - total) - per * extra_accounts
        for a in range(extra_accounts):
            env = envs[a % len(envs)]
            count = per + (1 if a < rest else 0)
            layout.append(
                (
                    f"6{a:02d}{a:02d}0000{a:03d}"[:12].ljust(12, "0"),
                    env,
                    [f"{env}-a{a:02d}-vpc{i:03d}" for i in range(count)],
                )
            )
    s.hub(services)
    s.zones(services)
    by_name: dict[str, Spoke] = {}
    profile_spokes: list[Spoke] = []
    demo_cidrs = iter(f"10.{i}.0.0/16" for i in range(1, 11))
    for index, (account, env_group, names) in enumerate(layout):
        supernet = ipaddress.ip_network(f"10.{64 + 4 * index}.0.0/14")
        org_cidrs = iter(supernet.subnets(new_prefix=20))
        if account not in w.accounts:
            w.accounts.append(account)
            s.read_role(account)
            s.log_group(account)
            s.targets(account, env_group)
        for name in names:
            env = "prod" if env_group == "prod" else ("sensitive" if env_group == "sensitive" else env_group)
            if name == "staging-legacy" or env == "prod":
                subs: list[str] = []
            elif scale == "org" and name not in _DEMO_NAMES:
                subs = sorted(s.rng.r.sample(list(services), 8))
            else:
                subs = list(DEMO_SERVICES)
            if name == "staging-app":
                subs = [x for x in subs if x != "kms"]
            via_profile = subs and _uses_profile(dns, account, name)
            if name in _DEMO_NAMES:
                by_name[name] = s.spoke(account, name, env, next(demo_cidrs), [] if via_profile else subs)
            else:
                s.spoke(account, name, env, str(next(org_cidrs)), [] if via_profile else subs, sg_cidr=str(supernet))
            if via_profile:
                profile_spokes.append(w.spokes[-1])
                w.expected[w.spokes[-1].vpc_id] = subs
    if dns != "direct":
        _profiles(s, by_name, profile_spokes)
    _faults(s, by_name)
    s.authorize_sgs()
    s.metrics()
    _personas(s, by_name)
    w.config = _config(w)
    return w


_DEMO_NAMES = {
    "dev-app",
    "dev-batch",
    "dev-eks",
    "dev-sandbox",
    "staging-app",
    "staging-eks",
    "staging-legacy",
    "prod-app",
    "prod-data",
    "client-lambdas",
}


def _faults(s: _Seeder, by_name: dict[str, Spoke]) -> None:
    """Plant one of each doctor finding and record it for the ready-file."""
    w = s.world
    faults = w.seeded_faults
    # staging-app expects kms but is not associated (skipped above); in `profiles` its Profile lacks kms instead.
    if w.dns != "profiles":
        faults.append({"code": "phz-missing-association", "vpc_id": by_name["staging-app"].vpc_id, "service": "kms"})
    # prod-app associated with sqs although the config forbids environment=prod.
    s.associate(by_name["prod-app"], "sqs")
    faults.append({"code": "phz-forbidden-association", "vpc_id": by_name["prod-app"].vpc_id, "service": "sqs"})
    # a retired dev VPC was associated and then deleted: the association stays behind.
    dev_account = by_name["dev-app"].account_id
    ec2 = s.ec2(dev_account)
    retired = ec2.create_vpc(
        "10.99.0.0/16", tags=[{"Key": "Name", "Value": "dev-retired"}, {"Key": "environment", "Value": "dev"}]
    )
    s.r53().zones[w.zones["sqs"]].add_vpc(retired.id, REGION)
    ec2.delete_vpc(retired.id)
    faults.append({"code": "phz-stale-association", "vpc_id": retired.id, "service": "sqs"})
    # the sqs endpoint SG misses dev-batch's CIDR.
    batch = by_name["dev-batch"]
    s.sg_cidrs["sqs"] = [c for c in s.sg_cidrs["sqs"] if c != batch.cidr]
    faults.append({"code": "sg-missing-spoke-cidr", "vpc_id": batch.vpc_id, "service": "sqs"})
    # private DNS left on for the shared ssm endpoint: a fault with direct associations, the supported pattern when
    # the endpoint itself is attached to a Profile (the Profile scenarios attach it).
    s.ec2(w.hub_account).vpc_end_points[w.endpoints["ssm"]].private_dns_enabled = True
    if w.dns == "direct":
        faults.append({"code": "private-dns-enabled-on-shared", "vpc_id": w.hub_vpc_id, "service": "ssm"})
    # the monitoring alias points at an endpoint that was replaced and deleted.
    old = s.endpoint("monitoring", s.subnets[:2], private_dns=False, register=False)
    old_name = old.dns_entries[0]["dns_name"]
    hub = s.ec2(w.hub_account)
    for eni_id in old.network_interface_ids:
        hub.delete_network_interface(eni_id)
    hub.delete_vpc_endpoints([old.id])
    r53 = s.r53()
    zone = r53.zones[w.zones["monitoring"]]
    for rrset in zone.rrsets:
        if rrset.type == "A":
            rrset.alias_target["DNSName"] = old_name
    faults.append({"code": "alias-target-mismatch", "vpc_id": w.hub_vpc_id, "service": "monitoring"})


def _uses_profile(dns: str, account: str, name: str) -> bool:
    """Which spokes subscribe through a Profile: all in `profiles`, the dev account and staging-eks in `mixed`."""
    if dns == "profiles":
        return True
    if dns == "mixed":
        return account == "222222222222" or name == "staging-eks" or name.startswith("dev-a")
    return False


PROFILE_ALL = "shared-endpoints"
PROFILE_NO_KMS = "staging-core"


def _profiles(s: _Seeder, by_name: dict[str, Spoke], spokes: list[Spoke]) -> None:
    """Two hub Profiles shared through RAM with every spoke account: one with every service zone (ssm through its
    endpoint, private DNS on), one without kms; each Profile-subscribed spoke is associated with one of them, and
    the faults a Profile fleet has are planted (a Profile missing a zone a spoke needs; a VPC with both paths)."""
    from vpce_console.lab.profiles import endpoint_arn, zone_arn

    w = s.world
    store = w.profiles
    spoke_accounts = [a for a in w.accounts if a != w.hub_account]
    ids: dict[str, str] = {}
    for name, skip in ((PROFILE_ALL, set()), (PROFILE_NO_KMS, {"kms"})):
        profile = store.create_profile(w.hub_account, name)
        store.share(profile.profile_id, spoke_accounts)
        for svc in w.endpoints:
            if svc in skip:
                continue
            ssm = svc == "ssm"  # ssm reaches spokes through its endpoint's own private DNS
            arn = endpoint_arn(REGION, w.hub_account, w.endpoints[svc]) if ssm else zone_arn(w.zones[svc])
            store.associate_resource(w.hub_account, profile.profile_id, arn, f"{name}-{svc.replace('.', '-')}")
        ids[name] = profile.profile_id
    w.profile_ids = ids
    limited = {"staging-app"} if w.dns == "profiles" else {"staging-eks"}
    for spoke in spokes:
        name = PROFILE_NO_KMS if spoke.name in limited else PROFILE_ALL
        store.associate_vpc(spoke.account_id, ids[name], spoke.vpc_id, f"{spoke.name}-dns")
        provided = [svc for svc in w.endpoints if not (name == PROFILE_NO_KMS and svc == "kms")]
        spoke.services = provided
        for svc in provided:
            s.sg_cidrs[svc].append(s.sg_cidr.get(spoke.vpc_id, spoke.cidr))
        if spoke.name in limited:
            w.seeded_faults.append({"code": "profile-missing-zone", "vpc_id": spoke.vpc_id, "service": "kms"})
    # dev-app keeps an old direct association with the sqs zone next to its Profile.
    dev = by_name.get("dev-app")
    if dev is not None and store.profile_of(dev.vpc_id) is not None:
        s.r53().zones[w.zones["sqs"]].add_vpc(dev.vpc_id, REGION)
        w.seeded_faults.append({"code": "profile-and-direct", "vpc_id": dev.vpc_id, "service": "sqs"})


def _config(w: World) -> dict[str, Any]:
    """The intended rules the doctor checks the world against (documented in docs/lab.md)."""
    expected: dict[str, list[str]] = {}
    for sp in w.spokes:
        if sp.environment == "prod" or sp.name == "staging-legacy":
            expected[sp.vpc_id] = []
        elif sp.name in _DEMO_NAMES:
            expected[sp.vpc_id] = list(DEMO_SERVICES)
        else:
            expected[sp.vpc_id] = list(w.expected.get(sp.vpc_id) or sp.services)
    return {
        "hub_account_id": w.hub_account,
        "hub_vpc_ids": [w.hub_vpc_id] if w.hub_vpc_id else [],
        "region": w.region,
        "forbidden_selectors": [{"tag": "environment", "value": "prod"}],
        "expected_services": expected,
        "shared_endpoints_private_dns": False,
        "read_role_name": READ_ROLE,
    }
