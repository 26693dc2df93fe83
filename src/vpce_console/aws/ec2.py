"""EC2 reads for the inventory: hub endpoints with ENIs and SGs, service details, spoke VPCs with their wiring.

Every list call is paginated (botocore paginators); filters batch ids 200 at a time, AWS's per-filter limit.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from vpce_console.aws.models import (
    Endpoint,
    Eni,
    HubVpc,
    Route,
    RouteTable,
    SecurityGroup,
    ServiceDetail,
    SpokeVpc,
    Subnet,
    normalize_state,
)
from vpce_console.aws.session import AwsGateway
from vpce_console.errors import AwsError

FILTER_BATCH = 200


def _tags(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in items or () if "Key" in t}


def _batches(ids: Sequence[str], size: int = FILTER_BATCH) -> list[list[str]]:
    unique = sorted(set(ids))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


async def _all(
    gw: AwsGateway, operation: str, key: str, *, account_id: str | None, region: str | None = None, **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    async for page in gw.paginate("ec2", operation, account_id=account_id, region=region, **params):
        items.extend(page.get(key, []))
    return items


async def describe_interface_endpoints(
    gw: AwsGateway, *, account_id: str, region: str, vpc_id: str | None = None
) -> list[dict[str, Any]]:
    """Raw interface endpoints of one account/region (optionally one VPC); completed by `hub_endpoints`."""
    filters = [{"Name": "vpc-endpoint-type", "Values": ["Interface"]}]
    if vpc_id:
        filters.append({"Name": "vpc-id", "Values": [vpc_id]})
    items = await _all(
        gw, "describe_vpc_endpoints", "VpcEndpoints", account_id=account_id, region=region, Filters=filters
    )
    # Keep interface endpoints only (some implementations ignore the type filter) and drop deleted ones,
    # which DescribeVpcEndpoints keeps listing for a while after deletion.
    return [
        i
        for i in items
        if str(i.get("VpcEndpointType", "Interface")).lower() == "interface"
        and normalize_state(i.get("State")) not in ("deleted", "deleting")
    ]


async def describe_enis(gw: AwsGateway, eni_ids: Sequence[str], *, account_id: str, region: str) -> dict[str, Eni]:
    """ENI id -> subnet, AZ and private IP (DescribeNetworkInterfaces, batched by filter)."""
    out: dict[str, Eni] = {}

    async def batch(ids: list[str]) -> list[dict[str, Any]]:
        return await _all(
            gw,
            "describe_network_interfaces",
            "NetworkInterfaces",
            account_id=account_id,
            region=region,
            Filters=[{"Name": "network-interface-id", "Values": ids}],
        )

    for items in await asyncio.gather(*(batch(b) for b in _batches(eni_ids))):
        for item in items:
            out[item["NetworkInterfaceId"]] = Eni(
                eni_id=item["NetworkInterfaceId"],
                subnet_id=item.get("SubnetId"),
                availability_zone=item.get("AvailabilityZone"),
                private_ip=item.get("PrivateIpAddress"),
            )
    return out


def _rule_allows_https(perm: Mapping[str, Any]) -> bool:
    protocol = str(perm.get("IpProtocol", ""))
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6"):
        return False
    low, high = perm.get("FromPort"), perm.get("ToPort")
    if low is None or high is None:
        return True
    return int(low) <= 443 <= int(high)


async def describe_security_groups(
    gw: AwsGateway, group_ids: Sequence[str], *, account_id: str, region: str
) -> dict[str, SecurityGroup]:
    """Group id -> the group with its inbound HTTPS sources."""
    out: dict[str, SecurityGroup] = {}

    async def batch(ids: list[str]) -> list[dict[str, Any]]:
        return await _all(
            gw,
            "describe_security_groups",
            "SecurityGroups",
            account_id=account_id,
            region=region,
            Filters=[{"Name": "group-id", "Values": ids}],
        )

    for items in await asyncio.gather(*(batch(b) for b in _batches(group_ids))):
        for item in items:
            cidrs: list[str] = []
            groups: list[str] = []
            prefix_lists: list[str] = []
            for perm in item.get("IpPermissions", []):
                if not _rule_allows_https(perm):
                    continue
                cidrs.extend(r["CidrIp"] for r in perm.get("IpRanges", []) if "CidrIp" in r)
                cidrs.extend(r["CidrIpv6"] for r in perm.get("Ipv6Ranges", []) if "CidrIpv6" in r)
                groups.extend(g["GroupId"] for g in perm.get("UserIdGroupPairs", []) if "GroupId" in g)
                prefix_lists.extend(p["PrefixListId"] for p in perm.get("PrefixListIds", []) if "PrefixListId" in p)
            out[item["GroupId"]] = SecurityGroup(
                group_id=item["GroupId"],
                name=str(item.get("GroupName", "")),
                https_cidrs=tuple(dict.fromkeys(cidrs)),
                https_source_groups=tuple(dict.fromkeys(groups)),
                https_prefix_lists=tuple(dict.fromkeys(prefix_lists)),
            )
    return out


async def describe_services(
    gw: AwsGateway,
    service_names: Sequence[str],
    *,
    account_id: str,
    region: str,
    problems: list[str] | None = None,
) -> dict[str, ServiceDetail]:
    """Service name -> policy support and private DNS name (DescribeVpcEndpointServices); {} if unavailable.

    Asks by `ServiceNames`; if AWS rejects the batch (one unknown name fails all), asks name by name. An optional
    enrichment: a failure (5xx, dropped connection, throttling) leaves those services unknown and is appended to
    `problems`, never raised — only bad credentials are.
    """
    if not service_names:
        return {}
    out: dict[str, ServiceDetail] = {}

    async def ask(names: list[str]) -> None:
        async for page in gw.paginate(
            "ec2", "describe_vpc_endpoint_services", account_id=account_id, region=region, ServiceNames=names
        ):
            for item in page.get("ServiceDetails", []):
                name = item.get("ServiceName")
                if name not in names:
                    continue
                supported = item.get("VpcEndpointPolicySupported")
                out[name] = ServiceDetail(
                    service_name=name,
                    policy_supported=bool(supported) if supported is not None else None,
                    private_dns_name=item.get("PrivateDnsName"),
                    availability_zones=tuple(item.get("AvailabilityZones", [])),
                )

    unknown: list[str] = []
    failure = ""
    for names in _batches(service_names):
        try:
            await ask(names)
        except AwsError as exc:
            if exc.kind == "credentials":
                raise
            if exc.kind in ("connection", "unavailable", "throttled"):  # asking name by name would fail the same
                unknown += names
                failure = str(exc)
                continue
            for name in names:
                try:
                    await ask([name])
                except AwsError as inner:
                    if inner.kind == "credentials":
                        raise
                    unknown.append(name)  # policy support stays unknown for this service; the inventory still works
                    failure = str(inner)
    if unknown and problems is not None:
        shown = ", ".join(".".join(n.split(".")[3:]) or n for n in unknown[:6]) + (" …" if len(unknown) > 6 else "")
        problems.append(
            f"policy support unknown for {len(unknown)} service(s) in {account_id}/{region} ({shown}): {failure}"
        )
    return out


async def subnet_az_ids(gw: AwsGateway, subnet_ids: Sequence[str], *, account_id: str, region: str) -> dict[str, str]:
    """Subnet id -> AZ id, for comparing AZs across accounts (AZ names are shuffled per account)."""
    out: dict[str, str] = {}

    async def batch(ids: list[str]) -> list[dict[str, Any]]:
        return await _all(
            gw,
            "describe_subnets",
            "Subnets",
            account_id=account_id,
            region=region,
            Filters=[{"Name": "subnet-id", "Values": ids}],
        )

    for items in await asyncio.gather(*(batch(b) for b in _batches(subnet_ids))):
        for item in items:
            if item.get("AvailabilityZoneId"):
                out[item["SubnetId"]] = str(item["AvailabilityZoneId"])
    return out


async def hub_endpoints(
    gw: AwsGateway, *, account_id: str, region: str, vpc_id: str | None = None, problems: list[str] | None = None
) -> list[Endpoint]:
    """Every interface endpoint of a hub with ENIs (IP, AZ), security groups and service details.

    Service details and AZ ids are enrichments: when they cannot be read the endpoints come back without them
    and `problems` says why (warn, mark, continue).
    """
    raw = await describe_interface_endpoints(gw, account_id=account_id, region=region, vpc_id=vpc_id)
    eni_ids = [e for item in raw for e in item.get("NetworkInterfaceIds", [])]
    group_ids = [g["GroupId"] for item in raw for g in item.get("Groups", []) if "GroupId" in g]
    service_names = [str(item["ServiceName"]) for item in raw]
    subnet_ids = [s for item in raw for s in item.get("SubnetIds", [])]

    async def az_ids_or_none() -> dict[str, str]:
        try:
            return await subnet_az_ids(gw, subnet_ids, account_id=account_id, region=region)
        except AwsError as exc:
            if exc.kind == "credentials":
                raise
            if problems is not None:
                problems.append(f"AZ ids unknown in {account_id}/{region} (DescribeSubnets): {exc}")
            return {}

    enis, groups, services, az_ids = await asyncio.gather(
        describe_enis(gw, eni_ids, account_id=account_id, region=region),
        describe_security_groups(gw, group_ids, account_id=account_id, region=region),
        describe_services(gw, service_names, account_id=account_id, region=region, problems=problems),
        az_ids_or_none(),
    )
    endpoints = []
    for item in raw:
        detail = services.get(item["ServiceName"])
        dns_entries = [d for d in item.get("DnsEntries", []) if d.get("DnsName")]
        dns_names = tuple(str(d["DnsName"]).lower().rstrip(".") for d in dns_entries)
        endpoint_enis = []
        for eni_id in item.get("NetworkInterfaceIds", []):
            eni = enis.get(eni_id) or Eni(eni_id, None, None, None)
            if eni.subnet_id in az_ids:
                eni = replace(eni, availability_zone_id=az_ids[eni.subnet_id])
            endpoint_enis.append(eni)
        endpoints.append(
            Endpoint(
                endpoint_id=item["VpcEndpointId"],
                account_id=str(item.get("OwnerId") or account_id),
                region=region,
                vpc_id=item["VpcId"],
                service_name=item["ServiceName"],
                endpoint_type=str(item.get("VpcEndpointType", "Interface")),
                state=normalize_state(item.get("State")),
                private_dns_enabled=bool(item.get("PrivateDnsEnabled", False)),
                policy_text=item.get("PolicyDocument"),
                subnet_ids=tuple(item.get("SubnetIds", [])),
                enis=tuple(endpoint_enis),
                security_groups=tuple(
                    groups.get(g["GroupId"]) or SecurityGroup(g["GroupId"], str(g.get("GroupName", "")), ())
                    for g in item.get("Groups", [])
                ),
                dns_names=dns_names,
                dns_zone_id=str(dns_entries[0]["HostedZoneId"])
                if dns_entries and dns_entries[0].get("HostedZoneId")
                else None,
                tags=_tags(item.get("Tags")),
                policy_supported=detail.policy_supported if detail else None,
                service_private_dns_name=(detail.private_dns_name if detail else None),
            )
        )
    return sorted(endpoints, key=lambda e: (e.service, e.endpoint_id))


async def hub_vpcs(gw: AwsGateway, vpc_ids: Sequence[str], *, account_id: str, region: str) -> list[HubVpc]:
    """The hub VPCs with their CIDR blocks."""
    if not vpc_ids:
        return []
    items = await _all(
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
            tags=_tags(i.get("Tags")),
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
        _all(gw, "describe_vpcs", "Vpcs", account_id=account_id, region=region),
        _all(gw, "describe_subnets", "Subnets", account_id=account_id, region=region),
        _all(gw, "describe_route_tables", "RouteTables", account_id=account_id, region=region),
        _all(
            gw,
            "describe_transit_gateway_vpc_attachments",
            "TransitGatewayVpcAttachments",
            account_id=account_id,
            region=region,
        ),
        _all(gw, "describe_vpc_peering_connections", "VpcPeeringConnections", account_id=account_id, region=region),
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
                tags=_tags(v.get("Tags")),
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
    items = await _all(
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
