"""What a CloudTrail record tells an endpoint policy about its call — and what it does not (facts.md §4b, §1a).

`record_request` turns one record (a dict as CloudTrail writes it) into a `PartialRequest`: the keys the record
shows are known, the keys the record proves absent are absent, everything else is unknown unless a
`ContextMap` (the config's `replay:` section) supplies it. Nothing is guessed: a redacted cross-account
identity leaves the principal, its ARN and its type unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpce_console.policy.partial import PartialRequest

IAM_PREFIX = {"monitoring": "cloudwatch", "ecr": "ecr", "firehose": "firehose", "kinesis": "kinesis"}
"""CloudTrail eventSource service label -> IAM action prefix where the two differ (CloudWatch's is `monitoring`)."""

PRINCIPAL_TYPE = {"AssumedRole": "AssumedRole", "IAMUser": "User", "Root": "Account", "FederatedUser": "FederatedUser"}
"""userIdentity.type -> aws:PrincipalType (IAM-CK); other types leave the key unknown."""

_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the organization knows about a principal account (config or Organizations)."""

    org_id: str | None = None
    """aws:PrincipalOrgID of every principal in the account; None leaves it unknown."""
    org_paths: tuple[str, ...] = ()
    """aws:PrincipalOrgPaths (empty leaves it unknown)."""


@dataclass(frozen=True, slots=True)
class ContextMap:
    """Facts no record carries, mapped by account and by role ARN (the config's `replay:` section)."""

    accounts: Mapping[str, AccountFacts] = field(default_factory=dict)
    role_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Role ARN -> its complete tag set: listed tags are aws:PrincipalTag/<key>, any other tag key is absent."""


def action_of(event_source: str, event_name: str) -> str:
    """`sqs.amazonaws.com` + `SendMessage` -> `sqs:SendMessage` (CloudWatch's `monitoring` -> `cloudwatch`)."""
    label = event_source.removesuffix(".amazonaws.com")
    return f"{IAM_PREFIX.get(label, label)}:{event_name}"


def role_arn_of(identity: Mapping[str, Any]) -> str | None:
    """The role behind an assumed-role identity: sessionIssuer.arn (keeps the role's path), else None."""
    context = identity.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, Mapping) else None
    arn = issuer.get("arn") if isinstance(issuer, Mapping) else None
    return arn if isinstance(arn, str) and arn else None


def resource_of(record: Mapping[str, Any]) -> str | None:
    """The single resource ARN the record names (`resources`, or an ARN-valued request parameter), else None."""
    resources = record.get("resources")
    if isinstance(resources, list):
        arns = [r.get("ARN") for r in resources if isinstance(r, Mapping) and isinstance(r.get("ARN"), str)]
        if len(arns) == 1:
            return str(arns[0])
    params = record.get("requestParameters")
    if isinstance(params, Mapping):
        for name in ("keyId", "secretId", "SecretId", "resourceArn", "ResourceArn", "topicArn", "TopicArn"):
            value = params.get(name)
            if isinstance(value, str) and value.startswith("arn:"):
                return value
    return None


def record_request(
    record: Mapping[str, Any], *, endpoint_vpc: str | None = None, facts: ContextMap | None = None
) -> PartialRequest:
    """The partial request one trail record stands for (`endpoint_vpc`: the VPC the record's endpoint is in)."""
    facts = facts or ContextMap()
    identity = record.get("userIdentity")
    identity = identity if isinstance(identity, Mapping) else {}
    kind = str(identity.get("type") or "")
    account = identity.get("accountId")
    arn = identity.get("arn") if isinstance(identity.get("arn"), str) else None
    ctx: dict[str, str | list[str] | None] = {}
    principal: str | None = None
    principal_arn: str | None = None
    if isinstance(account, str) and _ACCOUNT.match(account):
        ctx["aws:PrincipalAccount"] = account
    if arn and kind in PRINCIPAL_TYPE:
        principal = arn
        # an assumed role without sessionIssuer leaves aws:PrincipalArn unknown (the session ARN drops the path)
        principal_arn = role_arn_of(identity) if kind == "AssumedRole" else arn
        ctx["aws:PrincipalType"] = PRINCIPAL_TYPE[kind]
        ctx["aws:PrincipalIsAWSService"] = "false"
        ctx["aws:userid"] = str(identity.get("principalId") or "") or None
    if principal_arn:
        ctx["aws:PrincipalArn"] = principal_arn
    if isinstance(account, str) and account in facts.accounts:
        known = facts.accounts[account]
        if known.org_id:
            ctx["aws:PrincipalOrgID"] = known.org_id
        if known.org_paths:
            ctx["aws:PrincipalOrgPaths"] = list(known.org_paths)
    absent_prefixes: tuple[str, ...] = ()
    if principal_arn and principal_arn in facts.role_tags:
        for key, value in facts.role_tags[principal_arn].items():
            ctx[f"aws:PrincipalTag/{key}"] = value
        absent_prefixes = ("aws:principaltag/",)
    endpoint = record.get("vpcEndpointId")
    if isinstance(endpoint, str) and endpoint.startswith("vpce-"):
        ctx["aws:SourceVpce"] = endpoint
        ctx["aws:SourceIp"] = None  # absent whenever the call comes through a VPC endpoint (IAM-CK)
        if endpoint_vpc:
            ctx["aws:SourceVpc"] = endpoint_vpc
        source_ip = record.get("sourceIPAddress")
        if isinstance(source_ip, str) and source_ip:
            ctx["aws:VpcSourceIp"] = source_ip
    owner = record.get("vpcEndpointAccountId")
    if isinstance(owner, str) and _ACCOUNT.match(owner):
        ctx["aws:VpceAccount"] = owner
    region = record.get("awsRegion")
    if isinstance(region, str) and region:
        ctx["aws:RequestedRegion"] = region
    if isinstance(record.get("tlsDetails"), Mapping):
        ctx["aws:SecureTransport"] = "true"
    resource = resource_of(record)
    if resource is not None:
        parts = resource.split(":", 5)
        if len(parts) == 6 and _ACCOUNT.match(parts[4]):
            ctx["aws:ResourceAccount"] = parts[4]
    action = action_of(str(record.get("eventSource") or ""), str(record.get("eventName") or ""))
    return PartialRequest(principal, action, resource, ctx, None, absent_prefixes)
