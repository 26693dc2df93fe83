"""Route 53 Profiles in the lab, through the real SDK: shapes, paging, errors, limits, RAM sharing, name resolution."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.lab

DENY_ALL = json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def lab() -> Iterator[Any]:
    """A demo lab whose spokes subscribe through Route 53 Profiles (propagation short enough to wait out)."""
    from vpce_console.lab.child import start_lab_child

    handle = start_lab_child(scale="demo", seed=13, dns="profiles", propagation="0.2:0.4", traffic=0)
    yield handle
    handle.stop()


@pytest.fixture
def op(lab: Any, lab_client: Callable[..., Any]) -> Callable[[str], Any]:
    keys = lab.ready["operator"]
    return lambda service: lab_client(lab.ready, service, keys["access_key_id"], keys["secret_access_key"])


@pytest.fixture
def in_account(lab: Any, op: Callable[[str], Any], lab_client: Callable[..., Any]) -> Callable[[str, str], Any]:
    """`in_account(account, service)`: a client in a spoke account through the lab's read role."""

    def client(account: str, service: str) -> Any:
        creds = op("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{lab.ready['read_role_name']}", RoleSessionName="profiles-test"
        )["Credentials"]
        return lab_client(lab.ready, service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    return client


def spoke(lab: Any, name: str) -> dict[str, Any]:
    return next(s for s in lab.ready["spokes"] if s["name"] == name)


def test_ready_file_names_the_scenario_and_its_profiles(lab: Any) -> None:
    assert lab.ready["dns"] == "profiles"
    assert set(lab.ready["profiles"]) == {"shared-endpoints", "staging-core"}
    codes = {f["code"] for f in lab.ready["seeded_faults"]}
    assert {"profile-missing-zone", "profile-and-direct"} <= codes
    assert "phz-missing-association" not in codes and "private-dns-enabled-on-shared" not in codes


def test_hub_reads_its_profiles_with_aws_shapes_and_pages(lab: Any, op: Callable[[str], Any]) -> None:
    r53p = op("route53profiles")
    summaries = r53p.list_profiles()["ProfileSummaries"]
    assert {s["Name"] for s in summaries} == {"shared-endpoints", "staging-core"}
    assert all(s["ShareStatus"] == "SHARED_BY_ME" and s["Arn"].endswith("/" + s["Id"]) for s in summaries)
    profile_id = lab.ready["profiles"]["shared-endpoints"]
    profile = r53p.get_profile(ProfileId=profile_id)["Profile"]
    assert (profile["OwnerId"], profile["Status"], profile["Name"]) == (
        lab.ready["hub"]["account_id"],
        "COMPLETE",
        "shared-endpoints",
    )
    seen: list[dict[str, Any]] = []
    pages = 0
    for page in r53p.get_paginator("list_profile_resource_associations").paginate(
        ProfileId=profile_id, PaginationConfig={"PageSize": 5}
    ):
        pages += 1
        seen += page["ProfileResourceAssociations"]
    assert pages >= 3 and len(seen) == len(lab.ready["hub"]["endpoints"])
    zones = {r["ResourceArn"].rsplit("/", 1)[-1] for r in seen if ":route53:::hostedzone/" in r["ResourceArn"]}
    endpoints = {r["ResourceArn"].rsplit("/", 1)[-1] for r in seen if ":vpc-endpoint/" in r["ResourceArn"]}
    assert endpoints == {lab.ready["hub"]["endpoints"]["ssm"]}
    assert zones == {z for svc, z in lab.ready["hub"]["zones"].items() if svc != "ssm"}


def test_errors_have_the_service_models_codes(lab: Any, op: Callable[[str], Any]) -> None:
    r53p = op("route53profiles")
    time.sleep(1.2)  # the hub's 5 requests/second were spent by the paging test: let the bucket refill
    with pytest.raises(ClientError) as missing:
        r53p.get_profile(ProfileId="rp-0000000000000dead")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as token:
        r53p.list_profiles(NextToken="not-a-token")
    assert token.value.response["Error"]["Code"] == "InvalidNextTokenException"
    # A VPC has at most one Profile.
    dev = spoke(lab, "dev-app")
    with pytest.raises(ClientError) as second:
        r53p.associate_profile(ProfileId=lab.ready["profiles"]["staging-core"], ResourceId=dev["vpc_id"], Name="x")
    assert second.value.response["Error"]["Code"] == "ResourceExistsException"


def test_spoke_accounts_read_the_shared_profile_and_their_own_associations(
    lab: Any, in_account: Callable[[str, str], Any]
) -> None:
    """RAM sharing: the spoke sees SHARED_WITH_ME Profiles, their resources, and the associations it made."""
    dev = spoke(lab, "dev-app")
    r53p = in_account(dev["account_id"], "route53profiles")
    shared = {s["Name"]: s["ShareStatus"] for s in r53p.list_profiles()["ProfileSummaries"]}
    assert shared == {"shared-endpoints": "SHARED_WITH_ME", "staging-core": "SHARED_WITH_ME"}
    resources = r53p.list_profile_resource_associations(ProfileId=lab.ready["profiles"]["shared-endpoints"])
    assert resources["ProfileResourceAssociations"]
    mine = r53p.list_profile_associations()["ProfileAssociations"]
    dev_vpcs = {s["vpc_id"] for s in lab.ready["spokes"] if s["account_id"] == dev["account_id"]}
    assert {a["ResourceId"] for a in mine} == dev_vpcs
    assert all(a["OwnerId"] == dev["account_id"] for a in mine)
    only = r53p.list_profile_associations(ResourceId=dev["vpc_id"])["ProfileAssociations"]
    assert [a["ProfileId"] for a in only] == [lab.ready["profiles"]["shared-endpoints"]]
    # A spoke may associate VPCs with the shared Profile but not change what it carries.
    with pytest.raises(ClientError) as denied:
        r53p.associate_resource_to_profile(
            ProfileId=lab.ready["profiles"]["shared-endpoints"],
            ResourceArn="arn:aws:route53:::hostedzone/ZFOREIGN",
            Name="foreign",
        )
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_profiles_api_is_rate_limited_per_account(lab: Any, in_account: Callable[[str, str], Any]) -> None:
    """Route 53 VPC Resolver's 5 requests/second per account and Region applies to Profiles too (in the lab)."""
    r53p = in_account(spoke(lab, "client-lambdas")["account_id"], "route53profiles")
    codes = []
    for _ in range(12):
        try:
            r53p.list_profiles()
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert "ThrottlingException" in codes and codes[0] == "ok"


def test_name_resolution_follows_the_profile(
    lab: Any, op: Callable[[str], Any], lab_client: Callable[..., Any]
) -> None:
    """A Profile-subscribed persona reaches the hub endpoint (its policy applies); a service its Profile lacks goes
    out through NAT (no endpoint policy applies)."""
    personas = {p["name"]: p for p in lab.ready["personas"]}
    ec2 = op("ec2")
    endpoints = lab.ready["hub"]["endpoints"]
    saved = {}
    for service in ("sqs", "kms"):
        current = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoints[service]])["VpcEndpoints"][0]
        saved[service] = current["PolicyDocument"]
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoints[service], PolicyDocument=DENY_ALL)
    try:
        time.sleep(1.0)  # past the 0.2-0.4 s propagation window

        def call(name: str, service: str) -> str:
            p = personas[name]
            client = lab_client(lab.ready, service, p["access_key_id"], p["secret_access_key"])
            try:
                client.list_queues() if service == "sqs" else client.list_keys()
                return "allowed"
            except ClientError as exc:
                return exc.response["Error"]["Code"]

        # web-dev (dev-app) gets sqs and kms through Profile shared-endpoints: the Deny applies.
        assert call("web-dev", "sqs") in ("AccessDenied", "AccessDeniedException")
        assert call("web-dev", "kms") == "AccessDeniedException"
        # orders-task (staging-app) is on Profile staging-core, which has no kms zone: kms goes out through NAT.
        assert call("orders-task", "kms") == "allowed"
        assert call("orders-task", "sqs") in ("AccessDenied", "AccessDeniedException")
    finally:
        for service, text in saved.items():
            ec2.modify_vpc_endpoint(VpcEndpointId=endpoints[service], PolicyDocument=text)
