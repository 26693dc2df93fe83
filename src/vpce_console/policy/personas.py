"""Workload personas and the request context the real service would see for each (facts.md §1a–§1c).

A persona is a workload with one credential kind (EC2 instance role, Lambda, ECS task, EKS IRSA, EKS Pod
Identity, IAM user, generic assumed role, AWS service principal). `request_context` builds exactly the keys
a request from that workload carries through a shared (hub) interface endpoint — or, with
`through_endpoint=False`, through NAT to the public service endpoint. The point of the whole product is in
here: the endpoint keys name the hub, never the spoke (facts §1d), and the credential-origin keys exist only
for some credential kinds (facts §1b).

Pure: no clock, no I/O. Time comes in as `now`; YAML is parsed from a string.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vpce_console.policy.evaluator import Request
from vpce_console.policy.vocab import CREDENTIAL_KINDS as CREDENTIAL_KINDS
from vpce_console.policy.vocab import ROLE_KINDS

DEFAULT_NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
"""The time used when no `now` is passed, so contexts (and tests, snapshots) are repeatable."""


DEFAULT_PUBLIC_IP = "198.51.100.10"
"""Stand-in NAT/public address (TEST-NET-2) for aws:SourceIp when a persona names none and goes via NAT."""


# Which services put the VPC-endpoint-owner keys into the request context. Source: IAM User Guide, "AWS global
# condition context keys", sections aws:SourceVpcArn / aws:VpceAccount / aws:VpceOrgID / aws:VpceOrgPaths,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html (read 2026-11).
# Why: "Using this key with unsupported services can lead to unintended authorization results" — the key is
# simply absent for other services, so a positive condition on it fails there and a negated one fires.
# IAM is supported "except for the iam:PassRole action" (handled in `_endpoint_owner_keys`).
SOURCE_VPC_ARN_SERVICES: frozenset[str] = frozenset(
    [
        "apprunner",
        "discovery",
        "athena",
        "servicediscovery",
        "applicationinsights",
        "cloudformation",
        "comprehendmedical",
        "compute-optimizer",
        "ecr",
        "ecs",
        "kinesisanalytics",
        "route53",
        "datasync",
        "ebs",
        "scheduler",
        "firehose",
        "medical-imaging",
        "healthlake",
        "omics",
        "iam",
        "iotfleetwise",
        "iotwireless",
        "kms",
        "lambda",
        "payment-cryptography",
        "polly",
        "acm-pca",
        "rbin",
        "rekognition",
        "servicequotas",
        "s3",
        "storagegateway",
        "ssm-contacts",
        "textract",
        "transcribe",
        "transfer",
    ]
)


VPCE_ACCOUNT_SERVICES: frozenset[str] = SOURCE_VPC_ARN_SERVICES | {"dynamodb", "gamelift", "shield"}


VPCE_ORG_PATHS_SERVICES: frozenset[str] = VPCE_ACCOUNT_SERVICES


VPCE_ORG_ID_SERVICES: frozenset[str] = VPCE_ACCOUNT_SERVICES | frozenset(
    [
        "b2bi",
        "cognito-identity",
        "dms",
        "ds-data",
        "identitystore",
        "iottwinmaker",
        "cassandra",
        "network-firewall",
        "sms-voice",
        "pricing",
        "ses",
        "sqs",
        "workmail",
    ]
)


POD_IDENTITY_TAGS = (
    "eks-cluster-arn",
    "eks-cluster-name",
    "kubernetes-namespace",
    "kubernetes-service-account",
    "kubernetes-pod-name",
    "kubernetes-pod-uid",
)
"""The six session tags EKS Pod Identity attaches (facts §1b), seen as aws:PrincipalTag/<tag>."""


class PersonaError(ValueError):
    """A personas file entry that cannot be used; the message names the entry index and the field."""


@dataclass(frozen=True, slots=True)
class Persona:
    """A workload that calls AWS services, with the credential kind that decides its request context."""

    name: str
    kind: str
    """One of CREDENTIAL_KINDS."""
    account_id: str
    role_arn: str
    """Role ARN for role kinds, user ARN for iam-user, service principal (`lambda.amazonaws.com`) for aws-service."""
    vpc_id: str | None = None
    """The spoke VPC the workload runs in (for EC2 credentials this is aws:Ec2InstanceSourceVpc)."""
    private_ip: str | None = None
    """The workload's private IP: aws:VpcSourceIp through an endpoint (no NAT across TGW/peering, facts §1d)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Principal tags, including session tags; each becomes aws:PrincipalTag/<key>."""
    org_id: str | None = None
    """The workload account's organization: aws:PrincipalOrgID."""
    org_paths: tuple[str, ...] = ()
    """aws:PrincipalOrgPaths (multivalued), e.g. `o-abc/r-ab12/ou-ab12-dev/`."""
    session_name: str = "session"
    """Role-session name for role kinds (EC2 uses the instance id, Lambda the function name)."""
    instance_id: str | None = None
    """ec2-instance: the instance, for ec2:SourceInstanceARN and the session name."""
    function_arn: str | None = None
    """lambda: lambda:SourceFunctionArn."""
    cluster_arn: str | None = None
    """eks-pod-identity: the eks-cluster-arn session tag (eks-cluster-name is derived from it)."""
    namespace: str | None = None
    """eks-pod-identity: the kubernetes-namespace session tag."""
    service_account: str | None = None
    """eks-pod-identity: the kubernetes-service-account session tag."""
    oidc_provider_arn: str | None = None
    """eks-irsa: aws:FederatedProvider (the cluster's OIDC provider ARN)."""
    pod_name: str | None = None
    """eks-pod-identity: the kubernetes-pod-name session tag."""
    pod_uid: str | None = None
    """eks-pod-identity: the kubernetes-pod-uid session tag."""
    public_ip: str | None = None
    """The NAT/public address seen as aws:SourceIp when the call does not use the endpoint."""
    unique_id: str | None = None
    """The role or user unique id (AROA…/AIDA…) for aws:userid; a stable stand-in is derived when absent."""


@dataclass(frozen=True, slots=True)
class HubEndpoint:
    """The hub endpoint a request goes through, which every endpoint-scoped key names (facts §1d).

    Not the inventory's `services.inventory.Hub` (an account and region with its VPCs): this is one endpoint as the
    policy sees it.
    """

    account_id: str
    """The endpoint owner (network account): aws:VpceAccount."""
    vpc_id: str
    """The endpoints VPC: aws:SourceVpc for every caller."""
    endpoint_id: str
    """aws:SourceVpce for every caller."""
    region: str = "us-east-1"
    org_id: str | None = None
    """The hub account's organization: aws:VpceOrgID (supporting services only)."""
    org_paths: tuple[str, ...] = ()
    """The hub account's OU paths: aws:VpceOrgPaths (supporting services only)."""


def _partition(arn: str) -> str:
    parts = arn.split(":", 2)
    return parts[1] if len(parts) >= 2 and parts[0] == "arn" and parts[1] else "aws"


def partition_of(region: str) -> str:
    """The ARN partition of a region: `aws-cn` for China, `aws-us-gov` for GovCloud, else `aws`."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def role_name(role_arn: str) -> str:
    """The role name (without path) from a role ARN; session ARNs carry the name only."""
    return role_arn.rsplit("/", 1)[-1]


def session_name(persona: Persona) -> str:
    """The role-session name AWS uses for this kind: the instance id for EC2, the function name for Lambda."""
    if persona.kind == "ec2-instance" and persona.instance_id:
        return persona.instance_id
    if persona.kind == "lambda" and persona.session_name == "session" and persona.function_arn:
        parts = persona.function_arn.split(":")
        if len(parts) >= 7 and parts[6]:
            return parts[6]
    return persona.session_name


def principal_arn(persona: Persona) -> str:
    """The caller ARN a request carries: the assumed-role session ARN for role kinds, else the user/service."""
    if persona.kind in ROLE_KINDS:
        part = _partition(persona.role_arn)
        return (
            f"arn:{part}:sts::{persona.account_id}:assumed-role/{role_name(persona.role_arn)}/{session_name(persona)}"
        )
    return persona.role_arn


def _unique_id(persona: Persona) -> str:
    if persona.unique_id:
        return persona.unique_id
    digest = hashlib.sha256(persona.role_arn.encode()).hexdigest().upper()
    prefix = "AIDA" if persona.kind == "iam-user" else "AROA"
    return prefix + "".join(c for c in digest if c.isalnum())[:17]


def _cluster_name(cluster_arn: str | None) -> str | None:
    if not cluster_arn:
        return None
    return cluster_arn.rsplit("/", 1)[-1]


def principal_tags(persona: Persona) -> dict[str, str]:
    """Principal tags as the request sees them: Pod Identity session tags first, then the persona's own tags."""
    tags: dict[str, str] = {}
    if persona.kind == "eks-pod-identity":
        session = {
            "eks-cluster-arn": persona.cluster_arn,
            "eks-cluster-name": _cluster_name(persona.cluster_arn),
            "kubernetes-namespace": persona.namespace,
            "kubernetes-service-account": persona.service_account,
            "kubernetes-pod-name": persona.pod_name,
            "kubernetes-pod-uid": persona.pod_uid,
        }
        tags.update({k: v for k, v in session.items() if v})
    tags.update(persona.tags)
    return tags


def service_of(action: str) -> str:
    """The service prefix of an action (`sqs:SendMessage` -> `sqs`), lower-cased."""
    return action.split(":", 1)[0].strip().lower()


def _endpoint_owner_keys(hub: HubEndpoint, action: str) -> dict[str, str | list[str]]:
    """aws:SourceVpcArn / aws:VpceAccount / aws:VpceOrgID / aws:VpceOrgPaths, only for supporting services."""
    service = service_of(action)
    if action.strip().lower() == "iam:passrole":
        return {}
    keys: dict[str, str | list[str]] = {}
    if service in SOURCE_VPC_ARN_SERVICES:
        keys["aws:SourceVpcArn"] = f"arn:{partition_of(hub.region)}:ec2:{hub.region}:{hub.account_id}:vpc/{hub.vpc_id}"
    if service in VPCE_ACCOUNT_SERVICES:
        keys["aws:VpceAccount"] = hub.account_id
    if hub.org_id and service in VPCE_ORG_ID_SERVICES:
        keys["aws:VpceOrgID"] = hub.org_id
    if hub.org_id and hub.org_paths and service in VPCE_ORG_PATHS_SERVICES:
        keys["aws:VpceOrgPaths"] = list(hub.org_paths)
    return keys


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_context(
    persona: Persona,
    hub: HubEndpoint,
    *,
    action: str,
    resource: str,
    through_endpoint: bool = True,
    resource_account: str | None = None,
    resource_org_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, str | list[str]]:
    """The condition keys the target service sees for this persona's request (facts §1a/§1b/§1c).

    Through the endpoint: aws:SourceVpc/aws:SourceVpce/aws:VpceAccount/aws:VpceOrgID/aws:VpceOrgPaths name the
    hub, aws:VpcSourceIp is the caller's private IP and aws:SourceIp is absent. Via NAT (`through_endpoint=False`):
    aws:SourceIp is the public address and no endpoint key exists. `resource` is accepted for symmetry with the
    request (no key depends on it here).
    """
    del resource  # no global key is derived from the resource ARN itself
    moment = now or DEFAULT_NOW
    ctx: dict[str, str | list[str]] = {
        "aws:SecureTransport": "true",  # always present (IAM-CK)
        "aws:CurrentTime": _iso(moment),
        "aws:EpochTime": str(int(moment.timestamp())),
        "aws:RequestedRegion": hub.region,
        "aws:ViaAWSService": "false",  # a direct call, not a forward access session
    }
    if resource_account:
        ctx["aws:ResourceAccount"] = resource_account
    if resource_org_id:
        ctx["aws:ResourceOrgID"] = resource_org_id

    if persona.kind == "aws-service":
        # A service principal acting directly: network context is redacted on service calls (IAM-CK notes),
        # so no endpoint or IP key; aws:SourceAccount names the account it acts for.
        ctx["aws:PrincipalIsAWSService"] = "true"
        ctx["aws:PrincipalServiceName"] = persona.role_arn
        if persona.account_id:
            ctx["aws:SourceAccount"] = persona.account_id
        return ctx

    ctx["aws:PrincipalIsAWSService"] = "false"
    ctx["aws:PrincipalArn"] = persona.role_arn  # the role, never the session (IAM-CK)
    ctx["aws:PrincipalAccount"] = persona.account_id
    if persona.org_id:
        ctx["aws:PrincipalOrgID"] = persona.org_id
        if persona.org_paths:
            ctx["aws:PrincipalOrgPaths"] = list(persona.org_paths)
    for key, value in principal_tags(persona).items():
        ctx[f"aws:PrincipalTag/{key}"] = value

    if persona.kind == "iam-user":
        ctx["aws:PrincipalType"] = "User"
        ctx["aws:userid"] = _unique_id(persona)
        ctx["aws:username"] = role_name(persona.role_arn)
        # Long-term keys: no aws:MultiFactorAuthPresent, no aws:TokenIssueTime (IAM-CK).
    else:
        ctx["aws:PrincipalType"] = "AssumedRole"
        ctx["aws:userid"] = f"{_unique_id(persona)}:{session_name(persona)}"
        ctx["aws:TokenIssueTime"] = _iso(moment)  # stand-in: the session was issued no later than now
        ctx["aws:MultiFactorAuthPresent"] = "false"  # present for temporary credentials, false without MFA

    part = partition_of(hub.region)
    if persona.kind == "ec2-instance":
        # Only EC2 instance-role credentials carry these, with or without an endpoint (facts §1b).
        if persona.vpc_id:
            ctx["aws:Ec2InstanceSourceVpc"] = persona.vpc_id
        if persona.private_ip:
            ctx["aws:Ec2InstanceSourcePrivateIPv4"] = persona.private_ip
        instance = persona.instance_id or persona.session_name
        ctx["ec2:SourceInstanceARN"] = f"arn:{part}:ec2:{hub.region}:{persona.account_id}:instance/{instance}"
        ctx["ec2:RoleDelivery"] = "2.0"  # IMDSv2 assumed
    elif persona.kind == "lambda":
        ctx["lambda:SourceFunctionArn"] = persona.function_arn or (
            f"arn:{part}:lambda:{hub.region}:{persona.account_id}:function:{session_name(persona)}"
        )
    elif persona.kind == "eks-irsa":
        ctx["aws:FederatedProvider"] = persona.oidc_provider_arn or (
            f"arn:{part}:iam::{persona.account_id}:oidc-provider/oidc.eks.{hub.region}.amazonaws.com/id/EXAMPLE"
        )

    if through_endpoint:
        ctx["aws:SourceVpc"] = hub.vpc_id  # the hub VPC, not the spoke (facts §1d)
        ctx["aws:SourceVpce"] = hub.endpoint_id
        if persona.private_ip:
            ctx["aws:VpcSourceIp"] = persona.private_ip
        ctx.update(_endpoint_owner_keys(hub, action))
    else:
        ctx["aws:SourceIp"] = persona.public_ip or DEFAULT_PUBLIC_IP
    return ctx


def persona_request(persona: Persona, hub: HubEndpoint, action: str, resource: str, **kw: Any) -> Request:
    """The full Request (caller ARN, action, resource, synthesized context) for one persona call."""
    context = request_context(persona, hub, action=action, resource=resource, **kw)
    return Request(principal_arn(persona), action, resource, context)
