"""Data-plane calls: route through the hub endpoint (PHZ associated) or NAT, evaluate the policy as propagated."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from vpce_console.lab.personas import Identity
from vpce_console.lab.propagation import Propagation
from vpce_console.lab.world import HUB_ORG_PATH, ORG_ID, World

ENDPOINT_SERVICE = {"ecr": "ecr.api", "kinesis": "kinesis-streams", "firehose": "kinesis-firehose"}
"""SigV4 signing name -> interface endpoint service suffix where they differ."""
IAM_PREFIX = {"monitoring": "cloudwatch", "elasticloadbalancing": "elasticloadbalancing"}
"""SigV4 signing name -> IAM action prefix where they differ."""
UNENFORCED = {"route53", "iam", "cloudtrail", "organizations", "monitoring"}
"""Services the lab never routes through a hub endpoint: global ones, and CloudWatch, whose smithy CBOR protocol
the lab cannot answer with an error body the SDK would parse (a documented gap)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What happened to one data-plane call."""

    endpoint_id: str | None
    """The hub endpoint it traversed, or None when it went out via NAT."""
    allowed: bool
    explicit: bool
    action: str
    resource: str
    principal_arn: str
    source_ip: str


def iam_action(service: str, action: str) -> str:
    """`sqs` + `GetQueueAttributes` -> `sqs:GetQueueAttributes`."""
    return f"{IAM_PREFIX.get(service, service)}:{action}"


def resource_of(service: str, action: str, params: Mapping[str, Any], account: str, region: str) -> str:
    """The ARN the service authorizes for this call, from its parameters (`*` when there is none)."""

    def arn_or(value: Any, build: str) -> str:
        text = str(value)
        return text if text.startswith("arn:") else build

    if service == "sqs" and params.get("QueueUrl"):
        url = urlparse(str(params["QueueUrl"]))
        parts = [p for p in url.path.split("/") if p]
        owner = parts[0] if len(parts) >= 2 and parts[0].isdigit() else account
        return f"arn:aws:sqs:{region}:{owner}:{parts[-1]}"
    if service == "sqs" and params.get("QueueName"):
        return f"arn:aws:sqs:{region}:{account}:{params['QueueName']}"
    if service == "kms" and params.get("KeyId"):
        key = str(params["KeyId"])
        return arn_or(key, f"arn:aws:kms:{region}:{account}:{key if key.startswith('alias/') else 'key/' + key}")
    if service == "secretsmanager" and params.get("SecretId"):
        return arn_or(params["SecretId"], f"arn:aws:secretsmanager:{region}:{account}:secret:{params['SecretId']}")
    if service == "ssm" and params.get("Name"):
        name = str(params["Name"]).lstrip("/")
        return arn_or(params["Name"], f"arn:aws:ssm:{region}:{account}:parameter/{name}")
    if service == "logs" and params.get("logGroupName"):
        return f"arn:aws:logs:{region}:{account}:log-group:{params['logGroupName']}"
    if service == "sts" and params.get("RoleArn"):
        return str(params["RoleArn"])
    if service == "ecr" and params.get("repositoryName"):
        return f"arn:aws:ecr:{region}:{account}:repository/{params['repositoryName']}"
    return "*"


class Enforcer:
    """Decides the path of a workload call and evaluates the endpoint policy the serving host has."""

    def __init__(self, world: World, propagation: Propagation, *, moto_lock: AbstractContextManager[Any]) -> None:
        self.world = world
        self.propagation = propagation
        self.moto_lock = moto_lock
        self._compiled: dict[str, Any] = {}
        self._lock = threading.Lock()

    def endpoint_for(self, vpc_id: str | None, service: str) -> str | None:
        """The hub endpoint a call from `vpc_id` reaches: when the service's PHZ reaches the VPC (associated
        directly or through the VPC's Route 53 Profile), or the Profile carries the endpoint with private DNS on."""
        if not vpc_id or service in UNENFORCED:
            return None
        svc = ENDPOINT_SERVICE.get(service, service)
        endpoint_id = self.world.endpoints.get(svc)
        zone_id = self.world.zones.get(svc)
        if not endpoint_id or not zone_id:
            return None
        from moto.ec2.models import ec2_backends
        from moto.route53.models import route53_backends

        profiles = self.world.profiles
        with self.moto_lock:
            ep = ec2_backends[self.world.hub_account][self.world.region].vpc_end_points.get(endpoint_id)
            if ep is None:
                return None
            # A Profile that carries the endpoint itself serves its private DNS to the VPC.
            if profiles is not None and endpoint_id in profiles.endpoints_for_vpc(vpc_id) and ep.private_dns_enabled:
                return endpoint_id
            zone = route53_backends[self.world.hub_account]["aws"].zones.get(zone_id)
            if zone is None or (vpc_id != self.world.hub_vpc_id and zone.private_zone is False):
                return None
            direct = any(v.get("vpc_id") == vpc_id for v in zone.vpcs)
            # A zone reaches the VPC directly or through its Profile; name resolution follows either the same way.
            via_profile = profiles is not None and zone_id in profiles.zones_for_vpc(vpc_id)
            return endpoint_id if direct or via_profile else None

    def current_policy(self, endpoint_id: str) -> str:
        """The document DescribeVpcEndpoints shows (the newest)."""
        from moto.ec2.models import ec2_backends

        with self.moto_lock:
            ep = ec2_backends[self.world.hub_account][self.world.region].vpc_end_points[endpoint_id]
            return str(ep.policy_document)

    def _compile(self, text: str) -> Any:
        from vpce_console.policy.evaluator import PolicyError, compile_policy

        with self._lock:
            if text in self._compiled:
                return self._compiled[text]
        try:
            compiled: Any = compile_policy(text)
        except (PolicyError, ValueError):
            compiled = None  # AWS would have refused it; a host holding garbage allows nothing
        with self._lock:
            if len(self._compiled) > 256:
                self._compiled.clear()
            self._compiled[text] = compiled
        return compiled

    def check(self, caller: Identity, service: str, action: str, params: Mapping[str, Any]) -> Verdict:
        """Route and evaluate one workload call."""
        from vpce_console.policy.evaluator import evaluate
        from vpce_console.policy.personas import HubEndpoint, persona_request

        persona = caller.persona
        assert persona is not None
        full_action = iam_action(service, action)
        resource = resource_of(service, action, params, caller.account_id, self.world.region)
        endpoint_id = self.endpoint_for(persona.vpc_id, service) if persona.kind != "aws-service" else None
        if endpoint_id is None:
            return Verdict(None, True, False, full_action, resource, caller.arn, persona.public_ip or "3.80.0.1")
        text = self.propagation.effective(endpoint_id, self.current_policy(endpoint_id))
        compiled = self._compile(text)
        hub = HubEndpoint(
            account_id=self.world.hub_account,
            vpc_id=self.world.hub_vpc_id,
            endpoint_id=endpoint_id,
            region=self.world.region,
            org_id=ORG_ID,
            org_paths=(HUB_ORG_PATH,),
        )
        resource_account = resource.split(":")[4] if resource.startswith("arn:") and resource.count(":") >= 5 else None
        request = persona_request(
            persona,
            hub,
            full_action,
            resource,
            through_endpoint=True,
            resource_account=resource_account or None,
            resource_org_id=ORG_ID if resource_account else None,
            now=datetime.now(UTC),
        )
        source_ip = persona.private_ip or "10.0.0.1"
        if compiled is None:
            return Verdict(endpoint_id, False, False, full_action, resource, request.principal, source_ip)
        decision = evaluate(compiled, request)
        return Verdict(
            endpoint_id,
            decision.allowed,
            decision.kind == "explicit_deny",
            full_action,
            resource,
            request.principal,
            source_ip,
        )
