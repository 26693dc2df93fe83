"""EC2 reads for the inventory: hub endpoints with ENIs and SGs, service details, spoke VPCs with their wiring.

Every list call is paginated (botocore paginators); filters batch ids 200 at a time, AWS's per-filter limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from vpce_console.aws.models import (
    Endpoint,
    Eni,
    SecurityGroup,
    ServiceDetail,
    normalize_state,
)
from vpce_console.aws.session import AwsGateway
from vpce_console.errors import AwsError

FILTER_BATCH = 200


def tags_of(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in items or () if "Key" in t}


def batches(ids: Sequence[str], size: int = FILTER_BATCH) -> list[list[str]]:
    unique = sorted(set(ids))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


async def describe_all(
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
    items = await describe_all(
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
        return await describe_all(
            gw,
            "describe_network_interfaces",
            "NetworkInterfaces",
            account_id=account_id,
            region=region,
            Filters=[{"Name": "network-interface-id", "Values": ids}],
        )

    for items in await asyncio.gather(*(batch(b) for b in batches(eni_ids))):
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
        return await describe_all(
            gw,
            "describe_security_groups",
            "SecurityGroups",
            account_id=account_id,
            region=region,
            Filters=[{"Name": "group-id", "Values": ids}],
        )

    for items in await asyncio.gather(*(batch(b) for b in batches(group_ids))):
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
    for names in batches(service_names):
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
        return await describe_all(
            gw,
            "describe_subnets",
            "Subnets",
            account_id=account_id,
            region=region,
            Filters=[{"Name": "subnet-id", "Values": ids}],
        )

    for items in await asyncio.gather(*(batch(b) for b in batches(subnet_ids))):
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
                tags=tags_of(item.get("Tags")),
                policy_supported=detail.policy_supported if detail else None,
                service_private_dns_name=(detail.private_dns_name if detail else None),
            )
        )
    return sorted(endpoints, key=lambda e: (e.service, e.endpoint_id))
