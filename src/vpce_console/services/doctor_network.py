"""Doctor checks of the network path and the endpoints: security groups, routes, DNS attributes, state, CIDRs, AZs."""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from collections.abc import Iterable

from vpce_console.aws.models import Endpoint, SpokeVpc
from vpce_console.config import Config
from vpce_console.services.doctor_dns import (
    _endpoint_fill,
)
from vpce_console.services.doctor_findings import (
    DoctorFinding,
    _at,
    _finding,
    _vpc,
)
from vpce_console.services.inventory import Inventory, is_default_policy, routes_to_hub


def _subscriptions(inventory: Inventory) -> Iterable[tuple[SpokeVpc, str, tuple[Endpoint, ...]]]:
    by_service: dict[str, list[Endpoint]] = defaultdict(list)
    for endpoint in inventory.endpoints:
        by_service[endpoint.service].append(endpoint)
    for sub in inventory.subscribers:
        for service in sub.services:
            yield sub.vpc, service, tuple(by_service.get(service, ()))


def check_security_groups(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Every subscribing spoke CIDR must be admitted on 443 by the service endpoint's security groups."""
    for spoke, service, endpoints in _subscriptions(inventory):
        for endpoint in endpoints:
            if not endpoint.security_groups:
                continue
            missing = [c for c in spoke.cidrs if not any(g.allows_cidr(c) for g in endpoint.security_groups)]
            if missing:
                groups = ", ".join(g.group_id for g in endpoint.security_groups)
                fills = [
                    {
                        **_endpoint_fill(endpoint),
                        "group_id": endpoint.security_groups[0].group_id,
                        "cidr": cidr,
                        "ranges_key": "Ipv6Ranges" if ":" in cidr else "IpRanges",
                        "cidr_key": "CidrIpv6" if ":" in cidr else "CidrIp",
                        "description": f"{spoke.name} {spoke.vpc_id} account {spoke.account_id}".replace('"', "'"),
                    }
                    for cidr in missing
                ]
                yield _finding(
                    "sg-missing-spoke-cidr",
                    f"security groups {groups} of {service} endpoint {endpoint.endpoint_id} do not allow tcp/443 "
                    f"from {', '.join(missing)} of {_vpc(spoke)}",
                    fills,
                    service=service,
                    endpoint_id=endpoint.endpoint_id,
                    **_at(spoke),
                )


def check_routes(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Subscribing spokes need a TGW/peering route to the hub CIDR."""
    hub_cidrs = inventory.hub_cidrs
    if not hub_cidrs:
        return
    fleet_tgw = _transit_gateway(s.vpc for s in inventory.subscribers)
    for sub in inventory.subscribers:
        spoke = sub.vpc
        if not spoke.route_tables or routes_to_hub(spoke, hub_cidrs):
            continue
        tgw = _transit_gateway([spoke]) or fleet_tgw
        fills = [
            {
                "vpc_account": spoke.account_id,
                "vpc_region": spoke.region,
                "route_table_id": table.route_table_id,
                "hub_cidr": cidr,
                "tgw_id": tgw,
            }
            for table in spoke.route_tables
            for cidr in hub_cidrs
        ]
        yield _finding(
            "no-route-to-hub",
            f"{_vpc(spoke)} uses {', '.join(sub.services)} but none of its route tables routes "
            f"{', '.join(hub_cidrs)} to a transit gateway or peering"
            + ("" if tgw else " (no transit gateway id known: the fix commands need one)"),
            fills,
            **_at(spoke),
        )


def _transit_gateway(spokes: Iterable[SpokeVpc]) -> str | None:
    """A transit gateway these spokes already route through (the most used one), for the route to add."""
    seen = Counter(
        r.target_id
        for s in spokes
        for t in s.route_tables
        for r in t.routes
        if r.target_kind == "tgw" and r.state != "blackhole"
    )
    return seen.most_common(1)[0][0] if seen else None


def check_dns_attributes(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Subscribing spokes need enableDnsSupport and enableDnsHostnames."""
    for sub in inventory.subscribers:
        spoke = sub.vpc
        off = [
            name
            for name, value in (("enableDnsSupport", spoke.dns_support), ("enableDnsHostnames", spoke.dns_hostnames))
            if value is False
        ]
        if off:
            yield _finding(
                "vpc-dns-disabled",
                f"{_vpc(spoke)} has {' and '.join(off)} off",
                [
                    {
                        "vpc_id": spoke.vpc_id,
                        "vpc_region": spoke.region,
                        "vpc_account": spoke.account_id,
                        "attribute": "enable-dns-support" if name == "enableDnsSupport" else "enable-dns-hostnames",
                    }
                    for name in off
                ],
                **_at(spoke),
            )


def check_endpoint_state(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Shared endpoints must be available."""
    for endpoint in inventory.endpoints:
        if endpoint.state != "available":
            yield _finding(
                "endpoint-not-available",
                f"{endpoint.service} endpoint {endpoint.endpoint_id} is {endpoint.state}",
                [_endpoint_fill(endpoint)],
                service=endpoint.service,
                endpoint_id=endpoint.endpoint_id,
                account_id=endpoint.account_id,
            )


def check_policy_support(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """A custom policy on a service that only supports full access is ignored."""
    for endpoint in inventory.endpoints:
        if endpoint.policy_supported is False and not is_default_policy(endpoint.policy_text):
            yield _finding(
                "policy-on-unsupported-service",
                f"{endpoint.service} endpoint {endpoint.endpoint_id} has a custom policy",
                [_endpoint_fill(endpoint)],
                service=endpoint.service,
                endpoint_id=endpoint.endpoint_id,
                account_id=endpoint.account_id,
            )


def check_overlapping_cidrs(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Subscribing spokes that share a service and whose CIDRs overlap (sweep over sorted networks)."""
    subs = {s.vpc.vpc_id: s for s in inventory.subscribers}
    blocks: list[tuple[int, int, int, str, str]] = []
    for sub in subs.values():
        for cidr in sub.vpc.cidrs:
            try:
                net = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                continue
            blocks.append((net.version, int(net.network_address), int(net.broadcast_address), sub.vpc.vpc_id, cidr))
    blocks.sort()
    seen: set[tuple[str, str]] = set()
    active: list[tuple[int, int, int, str, str]] = []
    for block in blocks:
        version, start, _end, vpc, cidr = block
        active = [a for a in active if a[0] == version and a[2] >= start]
        for other in active:
            if other[3] == vpc:
                continue
            pair = (min(vpc, other[3]), max(vpc, other[3]))
            shared = set(subs[vpc].services) & set(subs[other[3]].services)
            if pair in seen or not shared:
                continue
            seen.add(pair)
            a, b = subs[pair[0]].vpc, subs[pair[1]].vpc
            yield _finding(
                "overlapping-spoke-cidrs",
                f"{_vpc(a)} ({', '.join(a.cidrs)}) and {_vpc(b)} ({', '.join(b.cidrs)}) overlap and both "
                f"use {', '.join(sorted(shared))}",
                service=sorted(shared)[0],
                **_at(a),
            )
        active.append(block)


def check_az_coverage(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Spoke AZs (by AZ id when both sides report it) without an ENI of the service's endpoint."""
    for spoke, service, endpoints in _subscriptions(inventory):
        for endpoint in endpoints:
            if not endpoint.enis:
                continue
            if spoke.availability_zone_ids and endpoint.availability_zone_ids:
                uncovered = sorted(set(spoke.availability_zone_ids) - set(endpoint.availability_zone_ids))
                unit, az_filter = "AZ id", "availability-zone-id"
            elif spoke.account_id == endpoint.account_id and endpoint.availability_zones:
                uncovered = sorted(set(spoke.availability_zones) - set(endpoint.availability_zones))
                unit, az_filter = "AZ", "availability-zone"
            else:
                continue  # AZ names from different accounts are not comparable
            if uncovered:
                yield _finding(
                    "az-not-covered",
                    f"{_vpc(spoke)} has subnets in {unit} {', '.join(uncovered)} where {service} endpoint "
                    f"{endpoint.endpoint_id} has no ENI",
                    [{**_endpoint_fill(endpoint), "az": az, "az_filter": az_filter} for az in uncovered],
                    service=service,
                    endpoint_id=endpoint.endpoint_id,
                    **_at(spoke),
                )


def check_incomplete(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Parts of the deployment the inventory could not read."""
    for warning in inventory.warnings:
        yield _finding("inventory-incomplete", warning)


def policy_findings(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """The engine's lint findings for every endpoint policy, located at the endpoint."""
    for endpoint in inventory.endpoints:
        summary = inventory.lint.get(endpoint.endpoint_id)
        if summary is None:
            continue
        for f in summary.findings:
            yield DoctorFinding(
                code=str(f.code),
                severity=str(f.severity),
                message=f"{endpoint.service} endpoint policy line {f.line}:{f.column} ({f.path}): {f.message}",
                hint=str(f.hint),
                service=endpoint.service,
                endpoint_id=endpoint.endpoint_id,
                account_id=endpoint.account_id,
                kind="policy",
            )
