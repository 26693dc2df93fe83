"""Persona synthesis: exactly the keys a service sees per credential kind (facts.md §1a–§1d)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vpce_console.policy.evaluator import Request, evaluate
from vpce_console.policy.persona_file import load_persona_file, load_personas
from vpce_console.policy.personas import (
    CREDENTIAL_KINDS,
    DEFAULT_NOW,
    HubEndpoint,
    Persona,
    PersonaError,
    persona_request,
    principal_arn,
    request_context,
)

HUB = HubEndpoint(
    account_id="999900001111",
    vpc_id="vpc-hub",
    endpoint_id="vpce-0hub",
    region="us-east-1",
    org_id="o-abc123",
    org_paths=("o-abc123/r-root/ou-net/",),
)
ACCT = "111122223333"

EC2_KEYS = {"aws:ec2instancesourcevpc", "aws:ec2instancesourceprivateipv4", "ec2:sourceinstancearn"}
ENDPOINT_KEYS = {"aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip"}


def persona(kind: str, **kw: object) -> Persona:
    role = {
        "iam-user": f"arn:aws:iam::{ACCT}:user/deployer",
        "aws-service": "lambda.amazonaws.com",
    }.get(kind, f"arn:aws:iam::{ACCT}:role/{kind}-role")
    base: dict[str, object] = {
        "name": kind,
        "kind": kind,
        "account_id": ACCT,
        "role_arn": role,
        "vpc_id": "vpc-spoke1",
        "private_ip": "10.20.1.15",
        "org_id": "o-abc123",
        "org_paths": ("o-abc123/r-root/ou-dev/",),
        "tags": {"team": "payments"},
    }
    base.update(kw)
    return Persona(**base)  # type: ignore[arg-type]


def keys(ctx: dict[str, object]) -> set[str]:
    return {k.lower() for k in ctx}


@pytest.mark.parametrize("kind", CREDENTIAL_KINDS)
def test_every_kind_synthesizes_a_context(kind: str) -> None:
    ctx = request_context(persona(kind), HUB, action="sqs:SendMessage", resource="*")
    assert ctx["aws:SecureTransport"] == "true"
    assert ctx["aws:ViaAWSService"] == "false"
    assert ctx["aws:RequestedRegion"] == "us-east-1"
    assert "aws:sourceip" not in keys(ctx)  # never through an endpoint (facts §1a)
    assert ctx["aws:PrincipalIsAWSService"] == ("true" if kind == "aws-service" else "false")


@pytest.mark.parametrize("kind", [k for k in CREDENTIAL_KINDS if k != "aws-service"])
def test_endpoint_keys_name_the_hub_not_the_spoke(kind: str) -> None:
    ctx = request_context(persona(kind), HUB, action="sqs:SendMessage", resource="*")
    assert ctx["aws:SourceVpc"] == "vpc-hub"
    assert ctx["aws:SourceVpce"] == "vpce-0hub"
    assert ctx["aws:VpcSourceIp"] == "10.20.1.15"
    assert ctx["aws:PrincipalArn"] == persona(kind).role_arn  # the role, not the session
    assert ctx["aws:PrincipalAccount"] == ACCT
    assert ctx["aws:PrincipalOrgID"] == "o-abc123"
    assert ctx["aws:PrincipalOrgPaths"] == ["o-abc123/r-root/ou-dev/"]
    assert ctx["aws:PrincipalTag/team"] == "payments"


@pytest.mark.parametrize("kind", CREDENTIAL_KINDS)
def test_ec2_keys_only_for_ec2_instance_credentials(kind: str) -> None:
    ctx = request_context(persona(kind, instance_id="i-0abc"), HUB, action="sqs:SendMessage", resource="*")
    if kind == "ec2-instance":
        assert keys(ctx) >= EC2_KEYS
        assert ctx["aws:Ec2InstanceSourceVpc"] == "vpc-spoke1"
        assert ctx["aws:Ec2InstanceSourcePrivateIPv4"] == "10.20.1.15"
        assert ctx["ec2:SourceInstanceARN"] == f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-0abc"
    else:
        assert not (EC2_KEYS & keys(ctx))


@pytest.mark.parametrize("kind", CREDENTIAL_KINDS)
def test_credential_specific_keys(kind: str) -> None:
    p = persona(
        kind,
        function_arn=f"arn:aws:lambda:us-east-1:{ACCT}:function:resize",
        cluster_arn=f"arn:aws:eks:us-east-1:{ACCT}:cluster/prod-a",
        namespace="shop",
        service_account="checkout",
        pod_name="checkout-7d9",
        pod_uid="uid-1",
        oidc_provider_arn=f"arn:aws:iam::{ACCT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
    )
    ctx = request_context(p, HUB, action="sqs:SendMessage", resource="*")
    lowered = keys(ctx)
    assert ("lambda:sourcefunctionarn" in lowered) == (kind == "lambda")
    assert ("aws:federatedprovider" in lowered) == (kind == "eks-irsa")
    pod_tags = {f"aws:principaltag/{t}" for t in ("eks-cluster-arn", "eks-cluster-name", "kubernetes-namespace")}
    assert (pod_tags <= lowered) == (kind == "eks-pod-identity")
    assert ("aws:username" in lowered) == (kind == "iam-user")
    if kind == "eks-pod-identity":
        assert ctx["aws:PrincipalTag/eks-cluster-name"] == "prod-a"
        assert ctx["aws:PrincipalTag/kubernetes-service-account"] == "checkout"
        assert ctx["aws:PrincipalTag/kubernetes-pod-uid"] == "uid-1"
    if kind == "lambda":
        assert ctx["lambda:SourceFunctionArn"] == p.function_arn
    if kind == "iam-user":
        assert ctx["aws:username"] == "deployer"
        assert ctx["aws:PrincipalType"] == "User"
        assert "aws:multifactorauthpresent" not in lowered
    elif kind != "aws-service":
        assert ctx["aws:PrincipalType"] == "AssumedRole"
        assert str(ctx["aws:userid"]).startswith("AROA")


def test_nat_path_has_source_ip_and_no_endpoint_keys() -> None:
    p = persona("lambda", public_ip="203.0.113.7")
    ctx = request_context(p, HUB, action="s3:GetObject", resource="*", through_endpoint=False)
    assert ctx["aws:SourceIp"] == "203.0.113.7"
    lowered = keys(ctx)
    assert not (ENDPOINT_KEYS & lowered)
    assert not ({"aws:vpceaccount", "aws:vpceorgid", "aws:vpceorgpaths", "aws:sourcevpcarn"} & lowered)


def test_ec2_keys_stay_on_the_nat_path() -> None:
    """aws:Ec2InstanceSource* come with the credential, not the network path (facts §1b)."""
    ctx = request_context(persona("ec2-instance"), HUB, action="sqs:SendMessage", resource="*", through_endpoint=False)
    assert ctx["aws:Ec2InstanceSourceVpc"] == "vpc-spoke1"
    assert "aws:VpcSourceIp" not in ctx


@pytest.mark.parametrize(
    ("action", "account", "org_id", "org_paths", "vpc_arn"),
    [
        ("sqs:SendMessage", False, True, False, False),  # sqs: VpceOrgID only
        ("s3:GetObject", True, True, True, True),
        ("kms:Decrypt", True, True, True, True),
        ("dynamodb:GetItem", True, True, True, False),
        ("sts:GetCallerIdentity", False, False, False, False),
        ("iam:PassRole", False, False, False, False),  # iam is supported except PassRole
        ("iam:GetRole", True, True, True, True),
    ],
)
def test_endpoint_owner_keys_only_for_supported_services(
    action: str, account: bool, org_id: bool, org_paths: bool, vpc_arn: bool
) -> None:
    ctx = request_context(persona("ecs-task"), HUB, action=action, resource="*")
    assert ("aws:VpceAccount" in ctx) == account
    assert ("aws:VpceOrgID" in ctx) == org_id
    assert ("aws:VpceOrgPaths" in ctx) == org_paths
    assert ("aws:SourceVpcArn" in ctx) == vpc_arn
    if account:
        assert ctx["aws:VpceAccount"] == "999900001111"
    if org_paths:
        assert ctx["aws:VpceOrgPaths"] == ["o-abc123/r-root/ou-net/"]


def test_no_org_keys_when_hub_or_persona_has_no_org() -> None:
    hub = HubEndpoint("999900001111", "vpc-hub", "vpce-0hub")
    p = persona("ecs-task", org_id=None, org_paths=())
    ctx = request_context(p, hub, action="s3:GetObject", resource="*")
    assert not ({"aws:vpceorgid", "aws:vpceorgpaths", "aws:principalorgid", "aws:principalorgpaths"} & keys(ctx))
    assert ctx["aws:VpceAccount"] == "999900001111"


def test_aws_service_has_no_identity_or_network_keys() -> None:
    ctx = request_context(persona("aws-service"), HUB, action="sqs:SendMessage", resource="*")
    lowered = keys(ctx)
    assert not ({"aws:principalarn", "aws:principaltag/team", "aws:userid"} & lowered)
    assert not (ENDPOINT_KEYS & lowered)
    assert ctx["aws:PrincipalServiceName"] == "lambda.amazonaws.com"


def test_time_and_resource_keys() -> None:
    now = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    ctx = request_context(
        persona("ecs-task"),
        HUB,
        action="s3:GetObject",
        resource="*",
        now=now,
        resource_account="444455556666",
        resource_org_id="o-abc123",
    )
    assert ctx["aws:CurrentTime"] == "2026-03-04T05:06:07Z"
    assert ctx["aws:EpochTime"] == str(int(now.timestamp()))
    assert ctx["aws:ResourceAccount"] == "444455556666"
    assert ctx["aws:ResourceOrgID"] == "o-abc123"
    default = request_context(persona("ecs-task"), HUB, action="s3:GetObject", resource="*")
    assert default["aws:CurrentTime"] == DEFAULT_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "aws:ResourceAccount" not in default


def test_principal_arn_per_kind() -> None:
    assert principal_arn(persona("ec2-instance", instance_id="i-0abc")) == (
        f"arn:aws:sts::{ACCT}:assumed-role/ec2-instance-role/i-0abc"
    )
    fn = persona("lambda", function_arn=f"arn:aws:lambda:us-east-1:{ACCT}:function:resize")
    assert principal_arn(fn) == f"arn:aws:sts::{ACCT}:assumed-role/lambda-role/resize"
    assert principal_arn(persona("assumed-role", session_name="ops")) == (
        f"arn:aws:sts::{ACCT}:assumed-role/assumed-role-role/ops"
    )
    assert principal_arn(persona("iam-user")) == f"arn:aws:iam::{ACCT}:user/deployer"
    assert principal_arn(persona("aws-service")) == "lambda.amazonaws.com"


def test_persona_request_drives_a_hub_scoped_policy_the_way_aws_would() -> None:
    """The classic mistake: aws:SourceVpc = spoke never matches through a shared endpoint (facts §1d)."""
    spoke_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-spoke1"}},
            }
        ],
    }
    request = persona_request(persona("ec2-instance"), HUB, "sqs:SendMessage", "*")
    assert evaluate(spoke_policy, request).kind == "implicit_deny"
    ec2_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:Ec2InstanceSourceVpc": "vpc-spoke1"}},
            }
        ],
    }
    assert evaluate(ec2_policy, request).kind == "allow"
    lambda_request = persona_request(persona("lambda"), HUB, "sqs:SendMessage", "*")
    assert evaluate(ec2_policy, lambda_request).kind == "implicit_deny"


# ---------------------------------------------------------------- YAML


def test_load_personas_list_and_file_with_hub() -> None:
    text = """
hub:
  account_id: "999900001111"
  vpc_id: vpc-hub
  endpoint_id: vpce-0hub
  org_id: o-abc123
  org_paths: [o-abc123/r-root/ou-net/]
personas:
  - name: web
    kind: ec2-instance
    account_id: "111122223333"
    role_arn: arn:aws:iam::111122223333:role/web
    vpc_id: vpc-spoke1
    private_ip: 10.20.1.15
    instance_id: i-0abc
    tags: {env: dev}
  - name: fn
    kind: lambda
    account_id: 111122223333
    role_arn: arn:aws:iam::111122223333:role/fn
"""
    loaded = load_persona_file(text)
    assert loaded.hub == HUB
    assert [p.name for p in loaded.personas] == ["web", "fn"]
    assert loaded.personas[0].tags == {"env": "dev"}
    assert loaded.personas[1].account_id == "111122223333"
    assert load_personas(text) == list(loaded.personas)
    bare = "- {name: a, kind: iam-user, account_id: '111122223333', role_arn: 'arn:aws:iam::111122223333:user/a'}"
    assert load_personas(bare)[0].kind == "iam-user"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("- {name: a, kind: robot, account_id: '111122223333', role_arn: r}", "personas[0].kind"),
        ("- {name: a, kind: lambda, role_arn: r}", "personas[0]: missing account_id"),
        ("- {name: a, kind: lambda, account_id: '12', role_arn: r}", "personas[0].account_id"),
        ("- {name: a, kind: lambda, account_id: '111122223333', role_arn: r, colour: red}", "unknown field"),
        ("- {name: a, kind: lambda, account_id: '111122223333', role_arn: r}\n- 3", "personas[1]"),
        ("{hub: {vpc_id: v}, personas: []}", "hub: missing account_id"),
        ("nope: 1", "unknown top-level"),
        ("a: [", "invalid YAML"),
        ("42", "expected a list"),
    ],
)
def test_load_personas_errors_name_the_entry(text: str, needle: str) -> None:
    with pytest.raises(PersonaError) as exc:
        load_personas(text)
    assert needle in str(exc.value)
    assert isinstance(exc.value, ValueError)


def _doc(*statements: dict[str, object]) -> dict[str, object]:
    allow = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    return {"Version": "2012-10-17", "Statement": [allow, *statements]}


def test_require_same_vpc_pattern_breaks_every_ec2_call_through_a_central_endpoint() -> None:
    """facts §1d: SourceVpc (hub) vs ${aws:Ec2InstanceSourceVpc} (spoke) are never equal through a shared endpoint."""
    same_vpc = _doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:SourceVpc": "${aws:Ec2InstanceSourceVpc}"},
                "Null": {"ec2:SourceInstanceARN": "false"},
                "BoolIfExists": {"aws:ViaAWSService": "false"},
            },
        }
    )
    ec2 = persona_request(persona("ec2-instance"), HUB, "sqs:SendMessage", "*")
    assert evaluate(same_vpc, ec2).kind == "explicit_deny"
    lambda_fn = persona_request(persona("lambda"), HUB, "sqs:SendMessage", "*")
    assert evaluate(same_vpc, lambda_fn).kind == "allow"  # scoped away by Null ec2:SourceInstanceARN = false
    # An endpoint in the instance's own VPC (decentralized) would pass.
    local_hub = HubEndpoint("999900001111", "vpc-spoke1", "vpce-local")
    assert evaluate(same_vpc, persona_request(persona("ec2-instance"), local_hub, "sqs:SendMessage", "*")).allowed


def test_private_ip_pairing_passes_across_tgw() -> None:
    """facts §1d: Ec2InstanceSourcePrivateIPv4 == ${aws:VpcSourceIp} holds when no NAT is in the path."""
    same_ip = _doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:Ec2InstanceSourcePrivateIPv4": "${aws:VpcSourceIp}"},
                "Null": {"ec2:SourceInstanceARN": "false"},
            },
        }
    )
    assert evaluate(same_ip, persona_request(persona("ec2-instance"), HUB, "sqs:SendMessage", "*")).allowed
    request = persona_request(persona("ec2-instance"), HUB, "sqs:SendMessage", "*")
    # A pod IP that differs from the node's primary IP (VPC CNI, node role) breaks the pairing (facts §1b, INF).
    pod_context = {**request.context, "aws:VpcSourceIp": "10.20.99.7"}
    pod = Request(request.principal, request.action, request.resource, pod_context)
    assert evaluate(same_ip, pod).kind == "explicit_deny"


def test_vpce_org_paths_cannot_separate_spokes() -> None:
    """facts §1d: aws:VpceOrgPaths names the hub account's OU for every spoke."""
    dev_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"ForAnyValue:StringLike": {"aws:VpceOrgPaths": ["o-abc123/r-root/ou-dev/*"]}},
            }
        ],
    }
    for kind in ("ec2-instance", "lambda", "ecs-task"):
        assert not evaluate(dev_only, persona_request(persona(kind), HUB, "s3:GetObject", "*")).allowed
    by_principal = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-abc123/r-root/ou-dev/*"]}},
            }
        ],
    }
    assert evaluate(by_principal, persona_request(persona("lambda"), HUB, "s3:GetObject", "*")).allowed


def _curated_keys() -> list[dict[str, object]]:
    from importlib.resources import files

    import yaml

    resource = files("vpce_console.data").joinpath("condition_keys.yaml")
    if not resource.is_file():
        pytest.skip("data/condition_keys.yaml (lint knowledge) not present yet")
    return list(yaml.safe_load(resource.read_text(encoding="utf-8"))["keys"])


def test_synthesis_agrees_with_lint_knowledge_on_credential_scoped_keys() -> None:
    """The linter's `carried_by` (credential-origin keys) must match what personas actually carry."""
    full = {
        "instance_id": "i-0abc",
        "function_arn": f"arn:aws:lambda:us-east-1:{ACCT}:function:f",
        "oidc_provider_arn": f"arn:aws:iam::{ACCT}:oidc-provider/x",
    }
    contexts = {
        kind: keys(request_context(persona(kind, **full), HUB, action="s3:GetObject", resource="*"))
        for kind in CREDENTIAL_KINDS
    }
    checked = 0
    for entry in _curated_keys():
        name = str(entry["name"]).lower()
        carried_by = entry.get("carried_by")
        if isinstance(carried_by, list):
            for kind in CREDENTIAL_KINDS:
                assert (name in contexts[kind]) == (kind in carried_by), (name, kind)
            checked += 1
        if entry.get("never_present"):
            assert not any(name in ctx for ctx in contexts.values()), name
            checked += 1
        if entry.get("hub_scoped"):
            for ctx_kind, ctx in contexts.items():
                if ctx_kind != "aws-service":
                    assert name in ctx, (name, ctx_kind)  # s3 supports every hub-scoped key
            checked += 1
    assert checked >= 8


def test_arns_use_the_hub_region_partition() -> None:
    hub = HubEndpoint("999900001111", "vpc-hub", "vpce-0hub", region="cn-north-1")
    ctx = request_context(persona("ec2-instance", instance_id="i-1"), hub, action="s3:GetObject", resource="*")
    assert ctx["aws:SourceVpcArn"] == "arn:aws-cn:ec2:cn-north-1:999900001111:vpc/vpc-hub"
    assert ctx["ec2:SourceInstanceARN"] == f"arn:aws-cn:ec2:cn-north-1:{ACCT}:instance/i-1"
    gov = HubEndpoint("999900001111", "vpc-hub", "vpce-0hub", region="us-gov-west-1")
    assert str(
        request_context(persona("lambda"), gov, action="s3:GetObject", resource="*")["lambda:SourceFunctionArn"]
    ).startswith("arn:aws-us-gov:lambda:us-gov-west-1:")
