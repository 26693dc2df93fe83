"""Pure inventory helpers the doctor relies on: zone-to-service mapping, default-policy detection, hub routes."""

from __future__ import annotations

import pytest

from vpce_console.aws.models import (
    Endpoint,
    Route,
    RouteTable,
    SecurityGroup,
    SpokeVpc,
    cidr_covers,
    cidrs_overlap,
    normalize_state,
    short_service,
)
from vpce_console.services.inventory import is_default_policy, map_zones_to_services, routes_to_hub


def ep(service: str, private_dns: str | None = None) -> Endpoint:
    return Endpoint(
        endpoint_id=f"vpce-{service}",
        account_id="111111111111",
        region="us-east-1",
        vpc_id="vpc-hub",
        service_name=f"com.amazonaws.us-east-1.{service}",
        endpoint_type="Interface",
        state="available",
        private_dns_enabled=False,
        policy_text=None,
        service_private_dns_name=private_dns,
    )


def test_zones_map_to_services_including_reversed_labels() -> None:
    zones = [
        ("Z1", "sqs.us-east-1.amazonaws.com"),
        ("Z2", "api.ecr.us-east-1.amazonaws.com"),
        ("Z3", "dkr.ecr.us-east-1.amazonaws.com"),
        ("Z4", "kms.us-east-1.amazonaws.com"),  # no endpoint left: still a service zone
        ("Z5", "corp.example.com"),
    ]
    endpoints = [ep("sqs"), ep("ecr.api"), ep("ecr.dkr", "*.dkr.ecr.us-east-1.amazonaws.com")]
    assert map_zones_to_services(zones, endpoints, ["us-east-1"]) == {
        "Z1": "sqs",
        "Z2": "ecr.api",
        "Z3": "ecr.dkr",
        "Z4": "kms",
    }


@pytest.mark.parametrize(
    ("text", "default"),
    [
        (None, True),
        ('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}', True),
        (
            '{\n "Version": "2008-10-17",\n "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", '
            '"Resource": "*"}]}',
            True,
        ),
        ('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:*","Resource":"*"}]}', False),
        ('{"Statement":[{"Sid":"x","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}', False),
        ("not json", False),
    ],
)
def test_default_policy_detection(text: str | None, default: bool) -> None:
    assert is_default_policy(text) is default


def test_routes_to_hub_need_tgw_or_peering_and_an_overlapping_destination() -> None:
    spoke = SpokeVpc(
        vpc_id="vpc-1",
        account_id="2",
        region="us-east-1",
        cidrs=("10.1.0.0/16",),
        route_tables=(
            RouteTable(
                "rtb-1",
                True,
                (),
                (
                    Route("10.1.0.0/16", "local", "local"),
                    Route("0.0.0.0/0", "nat", "nat-1"),
                    Route("10.0.0.0/8", "tgw", "tgw-1"),
                ),
            ),
        ),
    )
    assert routes_to_hub(spoke, ["10.0.0.0/16"]) == ("rtb-1: 10.0.0.0/8 -> tgw-1",)
    assert routes_to_hub(spoke, ["192.168.0.0/16"]) == ()


def test_model_helpers() -> None:
    assert short_service("com.amazonaws.us-east-1.ecr.api") == "ecr.api"
    assert short_service("com.amazonaws.vpce.us-east-1.vpce-svc-0abc") == "vpce-svc-0abc"
    assert normalize_state("Available") == normalize_state("available") == "available"
    assert normalize_state(None) == "unknown"
    assert cidr_covers("10.0.0.0/8", "10.1.0.0/16") and not cidr_covers("10.1.0.0/16", "10.0.0.0/8")
    assert cidrs_overlap("10.1.0.0/16", "10.1.128.0/17") and not cidrs_overlap("10.1.0.0/16", "10.2.0.0/16")
    assert not cidr_covers("bad", "10.0.0.0/8")
    sg = SecurityGroup("sg-1", "x", ("10.0.0.0/8",))
    assert sg.allows_cidr("10.9.0.0/16") and not sg.allows_cidr("172.16.0.0/12")


def test_alias_target_matching() -> None:
    endpoint = Endpoint(
        endpoint_id="vpce-0abc",
        account_id="1",
        region="us-east-1",
        vpc_id="vpc-hub",
        service_name="com.amazonaws.us-east-1.sqs",
        endpoint_type="Interface",
        state="available",
        private_dns_enabled=False,
        policy_text=None,
        dns_names=("vpce-0abc-xyz.sqs.us-east-1.vpce.amazonaws.com",),
    )
    assert endpoint.is_target("VPCE-0ABC-XYZ.sqs.us-east-1.vpce.amazonaws.com.")
    assert endpoint.is_target("dualstack.vpce-0abc-xyz.sqs.us-east-1.vpce.amazonaws.com")
    assert endpoint.is_target("vpce-0abc-other.sqs.us-east-1.vpce.amazonaws.com")
    assert not endpoint.is_target("vpce-0abcd-xyz.sqs.us-east-1.vpce.amazonaws.com")
