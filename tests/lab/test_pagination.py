"""MaxResults/NextToken really page (moto answers everything at once; the lab slices and validates)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

pytestmark = pytest.mark.lab


def _pages(client: Any, op: str, key: str, **kw: Any) -> list[list[str]]:
    pages = client.get_paginator(op).paginate(**kw)
    return [[item[next(k for k in item if k.endswith("Id"))] for item in p[key]] for p in pages]


@pytest.mark.parametrize(
    ("op", "key"),
    [
        ("describe_vpc_endpoints", "VpcEndpoints"),
        ("describe_subnets", "Subnets"),
        ("describe_security_groups", "SecurityGroups"),
        ("describe_transit_gateway_attachments", "TransitGatewayAttachments"),
        ("describe_network_interfaces", "NetworkInterfaces"),
    ],
)
def test_ec2_describe_pages(operator: Any, op: str, key: str) -> None:
    ec2 = operator("ec2")
    everything = _pages(ec2, op, key)
    assert len(everything) == 1
    paged = _pages(ec2, op, key, PaginationConfig={"PageSize": 5})
    assert len(paged) == -(-len(everything[0]) // 5) >= 2
    assert all(len(p) == 5 for p in paged[:-1])
    assert [i for p in paged for i in p] == everything[0]


def test_describe_vpcs_and_route_tables_page_in_a_spoke(lab_ready: dict[str, Any], spoke_session: Any) -> None:
    dev = next(s for s in lab_ready["spokes"] if s["name"] == "dev-app")
    ec2 = spoke_session(dev["account_id"], "ec2")
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 5  # dev-app, dev-batch, dev-eks, dev-sandbox and moto's default VPC
    assert "NextToken" not in ec2.describe_vpcs(MaxResults=5)
    tables = ec2.describe_route_tables(MaxResults=5)
    assert len(tables["RouteTables"]) == 5 and tables["NextToken"]
    rest = ec2.describe_route_tables(MaxResults=5, NextToken=tables["NextToken"])
    ids = [t["RouteTableId"] for t in tables["RouteTables"] + rest["RouteTables"]]
    assert len(ids) == len(set(ids)) == len(ec2.describe_route_tables()["RouteTables"])


def test_invalid_paging_input(operator: Any) -> None:
    ec2 = operator("ec2")
    with pytest.raises(ClientError) as small:
        ec2.describe_vpc_endpoints(MaxResults=4)
    assert small.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as forged:
        ec2.describe_vpc_endpoints(MaxResults=5, NextToken="bm9wZQ==")
    assert forged.value.response["Error"]["Code"] == "InvalidNextToken"
    first = ec2.describe_subnets(MaxResults=5)["NextToken"]
    with pytest.raises(ClientError) as other_query:
        ec2.describe_vpc_endpoints(MaxResults=5, NextToken=first)
    assert other_query.value.response["Error"]["Code"] == "InvalidNextToken"


def test_route53_lists_page(lab_ready: dict[str, Any]) -> None:
    op = lab_ready["operator"]
    r53 = boto3.client(
        "route53",
        endpoint_url=lab_ready["endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id=op["access_key_id"],
        aws_secret_access_key=op["secret_access_key"],
        config=Config(retries={"mode": "standard", "max_attempts": 10}),  # 5 req/s per account
    )
    zones = [
        z["Id"]
        for p in r53.get_paginator("list_hosted_zones").paginate(PaginationConfig={"PageSize": 5})
        for z in p["HostedZones"]
    ]
    assert len(zones) == len(set(zones)) == len(lab_ready["hub"]["zones"])
    zone = lab_ready["hub"]["zones"]["sqs"]
    names = []
    for p in r53.get_paginator("list_resource_record_sets").paginate(
        HostedZoneId=zone, PaginationConfig={"PageSize": 1}
    ):
        assert len(p["ResourceRecordSets"]) == 1
        names.append(p["ResourceRecordSets"][0]["Type"])
    assert sorted(names) == ["A", "NS", "SOA"]
