"""EC2 reads of the VPCs around the endpoints: hub and spoke VPCs with routes and DNS attributes, TGW attachments.

Every list call is paginated; filters batch ids 200 at a time, AWS's per-filter limit (`ec2.batches`).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vpce_console.aws.ec2 import describe_all, tags_of
from vpce_console.aws.models import (
    HubVpc,
    Route,
    RouteTable,
    SpokeVpc,
    Subnet,
)
from vpce_console.aws.session import AwsGateway


async def hub_vpcs(gw: AwsGateway, vpc_ids: Sequence[str], *, account_id: str, region: str) -> list[HubVpc]:
    """The hub VPCs with their CIDR blocks."""
    if not vpc_ids:
        return []
    items = await describe_all(
        gw,
        "describe_vpcs",
        "Vpcs",
        account_id=account_id,
        region=region,
        Filters=[{"Name": "vpc-id", "Values": sorted(set(vpc_ids))}],
    )
    return [
        HubVpc(
            vpc_id=i["VpcId"],
            account_id=str(i.get("OwnerId") or account_id),
            region=region,
            cidrs=_vpc_cidrs(i),
            tags=tags_of(i.get("Tags")),
        )
        for i in items
    ]


def _vpc_cidrs(item: Mapping[str, Any]) -> tuple[str, ...]:
    cidrs = [str(item["CidrBlock"])] if item.get("CidrBlock") else []
    for assoc in item.get("CidrBlockAssociationSet", []):
        state = str(assoc.get("CidrBlockState", {}).get("State", "associated")).lower()
        if state in ("associated", "associating") and assoc.get("CidrBlock"):
            cidrs.append(str(assoc["CidrBlock"]))
    return tuple(dict.fromkeys(cidrs))


def _route(item: Mapping[str, Any]) -> Route:
    destination = str(
        item.get("DestinationCidrBlock")
        or item.get("DestinationIpv6CidrBlock")
        or item.get("DestinationPrefixListId")
        or ""
    )
    for key, kind in (
        ("TransitGatewayId", "tgw"),
        ("VpcPeeringConnectionId", "pcx"),
        ("NatGatewayId", "nat"),
        ("NetworkInterfaceId", "eni"),
    ):
        if item.get(key):
            return Route(destination, kind, str(item[key]), str(item.get("State", "active")).lower())
    gateway = str(item.get("GatewayId") or "")
    if gateway == "local":
        kind = "local"
    elif gateway.startswith("igw-"):
        kind = "igw"
    elif gateway.startswith("vgw-"):
        kind = "vgw"
    elif gateway.startswith("tgw-"):
        kind = "tgw"
    else:
        kind = "other"
    return Route(destination, kind, gateway, str(item.get("State", "active")).lower())


async def spoke_vpcs(
    gw: AwsGateway,
    *,
    account_id: str,
    region: str,
    include_default: bool = False,
    exclude_vpc_ids: Iterable[str] = (),
) -> list[SpokeVpc]:
    """Every VPC of a spoke account with subnets, route tables, TGW attachments and peerings (DNS not yet read)."""
    excluded = set(exclude_vpc_ids)
    vpcs, subnets, tables, attachments, peerings = await asyncio.gather(
        describe_all(gw, "describe_vpcs", "Vpcs", account_id=account_id, region=region),
        describe_all(gw, "describe_subnets", "Subnets", account_id=account_id, region=region),
        describe_all(gw, "describe_route_tables", "RouteTables", account_id=account_id, region=region),
        describe_all(
            gw,
            "describe_transit_gateway_vpc_attachments",
            "TransitGatewayVpcAttachments",
            account_id=account_id,
            region=region,
        ),
        describe_all(
            gw, "describe_vpc_peering_connections", "VpcPeeringConnections", account_id=account_id, region=region
        ),
    )
    subnets_by_vpc: dict[str, list[Subnet]] = defaultdict(list)
    for s in subnets:
        subnets_by_vpc[s["VpcId"]].append(
            Subnet(
                subnet_id=s["SubnetId"],
                availability_zone=str(s.get("AvailabilityZone", "")),
                cidr=s["CidrBlock"],
                availability_zone_id=s.get("AvailabilityZoneId"),
            )
        )
    tables_by_vpc: dict[str, list[RouteTable]] = defaultdict(list)
    for t in tables:
        assocs = t.get("Associations", [])
        tables_by_vpc[t["VpcId"]].append(
            RouteTable(
                route_table_id=t["RouteTableId"],
                main=any(a.get("Main") for a in assocs),
                subnet_ids=tuple(a["SubnetId"] for a in assocs if a.get("SubnetId")),
                routes=tuple(_route(r) for r in t.get("Routes", [])),
            )
        )
    attachments_by_vpc: dict[str, list[str]] = defaultdict(list)
    for a in attachments:
        if str(a.get("State", "available")).lower() in ("available", "pending", "pendingacceptance", "modifying"):
            attachments_by_vpc[a.get("VpcId", "")].append(a["TransitGatewayAttachmentId"])
    peerings_by_vpc: dict[str, list[str]] = defaultdict(list)
    for p in peerings:
        if str(p.get("Status", {}).get("Code", "active")).lower() != "active":
            continue
        for side in ("RequesterVpcInfo", "AccepterVpcInfo"):
            vpc = p.get(side, {}).get("VpcId")
            if vpc:
                peerings_by_vpc[vpc].append(p["VpcPeeringConnectionId"])
    out = []
    for v in vpcs:
        if v["VpcId"] in excluded or (v.get("IsDefault") and not include_default):
            continue
        out.append(
            SpokeVpc(
                vpc_id=v["VpcId"],
                account_id=str(v.get("OwnerId") or account_id),
                region=region,
                cidrs=_vpc_cidrs(v),
                tags=tags_of(v.get("Tags")),
                is_default=bool(v.get("IsDefault", False)),
                subnets=tuple(sorted(subnets_by_vpc.get(v["VpcId"], []), key=lambda s: s.subnet_id)),
                route_tables=tuple(tables_by_vpc.get(v["VpcId"], [])),
                tgw_attachments=tuple(sorted(attachments_by_vpc.get(v["VpcId"], []))),
                peering_connections=tuple(sorted(peerings_by_vpc.get(v["VpcId"], []))),
            )
        )
    return out


async def tgw_attachments(gw: AwsGateway, *, account_id: str, region: str) -> list[tuple[str, str]]:
    """(VPC id, attachment id) of every live VPC attachment visible in an account (a TGW owner sees all)."""
    items = await describe_all(
        gw,
        "describe_transit_gateway_vpc_attachments",
        "TransitGatewayVpcAttachments",
        account_id=account_id,
        region=region,
    )
    live = ("available", "pending", "pendingacceptance", "modifying")
    return [
        (str(a["VpcId"]), str(a["TransitGatewayAttachmentId"]))
        for a in items
        if a.get("VpcId") and str(a.get("State", "available")).lower() in live
    ]


async def vpc_dns_attributes(gw: AwsGateway, vpc_id: str, *, account_id: str, region: str) -> tuple[bool, bool]:
    """(enableDnsSupport, enableDnsHostnames) of one VPC: two DescribeVpcAttribute calls."""
    async with gw.client("ec2", account_id=account_id, region=region) as ec2:
        support, hostnames = await asyncio.gather(
            ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport"),
            ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames"),
        )
    return (
        bool(support.get("EnableDnsSupport", {}).get("Value", False)),
        bool(hostnames.get("EnableDnsHostnames", {}).get("Value", False)),
    )
