"""The wiring doctor: pure checks over an `Inventory` that find what breaks a centralized-endpoint deployment.

`diagnose(inventory, config)` returns findings with codes from data/doctor.yaml (plus the policy engine's own
codes for each endpoint's policy). Every check is a small function over frozen values, so tests build an
inventory by hand and assert the codes.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from vpce_console.aws.models import Endpoint, HostedZone, SpokeVpc
from vpce_console.config import Config
from vpce_console.services.inventory import Inventory, is_default_policy, routes_to_hub

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


ACCOUNT_ROLES = {
    "zone": "hosted zone owner",
    "vpc": "spoke VPC owner",
    "endpoint": "hub endpoint owner",
    "profile": "Route 53 Profile owner",
}
"""What each `account:` of a command template means, in the words the fix line prints."""


@dataclass(frozen=True, slots=True)
class CommandTemplate:
    """One AWS CLI call of a code's fix, as data/doctor.yaml writes it (placeholders in braces)."""

    account: str
    """Whose account runs it: `zone`, `vpc` or `endpoint` (ACCOUNT_ROLES)."""
    run: str
    source: str
    """The CLI reference the syntax was checked against."""
    when: str | None = None
    """`cross-account` or `same-account` to limit the step to that case; None: always."""


@dataclass(frozen=True, slots=True)
class FixCommand:
    """An AWS CLI call with this finding's real ids, and the account that must run it."""

    account_id: str | None
    """The account whose credentials (profile) run the command; None when the inventory does not know it."""
    runs_as: str
    """The role of that account in words (`hosted zone owner`, `spoke VPC owner`, `hub endpoint owner`)."""
    command: str

    @property
    def line(self) -> str:
        """One line for text output: `[account 111122223333, hosted zone owner] aws …`."""
        return f"[account {self.account_id or '?'}, {self.runs_as}] {self.command}"

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape of one fix command."""
        return {"account_id": self.account_id, "runs_as": self.runs_as, "command": self.command}


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One doctor code as documented in data/doctor.yaml."""

    code: str
    severity: str
    title: str
    consequence: str
    hint: str
    source: str
    commands: tuple[CommandTemplate, ...] = ()


@dataclass(frozen=True, slots=True)
class DoctorFinding:
    """One wiring (or policy) problem, located by VPC, account, service and endpoint where they apply."""

    code: str
    """Stable id from data/doctor.yaml, or a policy-lint code from data/findings.yaml."""
    severity: str
    """error, warning or info; errors make `vpce doctor` exit 1."""
    message: str
    """What is wrong here and what it causes."""
    hint: str
    """How to fix it."""
    vpc_id: str | None = None
    account_id: str | None = None
    """The account the finding is located in: the spoke VPC's when a VPC is named, else the endpoint's."""
    service: str | None = None
    endpoint_id: str | None = None
    zone_id: str | None = None
    kind: str = "wiring"
    """`wiring` for doctor codes, `policy` for the engine's findings on an endpoint policy."""
    vpc_name: str | None = None
    """The spoke VPC's Name tag (its id when untagged); None when the VPC was not found in a scanned account."""
    fix_commands: tuple[FixCommand, ...] = ()
    """The AWS CLI calls that fix it, with the real ids, in order, each with the account that runs it."""

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of `vpce doctor --format json`."""
        return {
            "code": self.code,
            "severity": self.severity,
            "kind": self.kind,
            "vpc_id": self.vpc_id,
            "vpc_name": self.vpc_name,
            "account_id": self.account_id,
            "service": self.service,
            "endpoint_id": self.endpoint_id,
            "zone_id": self.zone_id,
            "message": self.message,
            "hint": self.hint,
            "fix_commands": [c.to_json() for c in self.fix_commands],
        }


@cache
def catalog() -> Mapping[str, CatalogEntry]:
    """The doctor's finding catalog, keyed by code."""
    text = resources.files("vpce_console.data").joinpath("doctor.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return {
        e["code"]: CatalogEntry(
            code=e["code"],
            severity=e["severity"],
            title=e["title"],
            consequence=" ".join(str(e["consequence"]).split()),
            hint=" ".join(str(e["hint"]).split()),
            source=e["source"],
            commands=tuple(
                CommandTemplate(
                    account=c["account"],
                    run=" ".join(str(c["run"]).split()),
                    source=c["source"],
                    when=c.get("when"),
                )
                for c in e.get("commands") or ()
            ),
        )
        for e in raw["findings"]
    }


Fill = Mapping[str, str | None]
"""Placeholder values for one set of a code's commands (ids, CIDRs, and `zone_account`/`vpc_account`/…)."""


def fix_commands(code: str, fills: Iterable[Fill]) -> tuple[FixCommand, ...]:
    """The code's command templates filled once per value set; a step whose values are unknown is left out.

    Steps marked `cross-account` appear only when the zone and the VPC belong to different accounts (the zone
    owner must authorize first), `same-account` only when they do not.
    """
    out: list[FixCommand] = []
    for fill in fills:
        cross = bool(
            fill.get("zone_account") and fill.get("vpc_account") and fill["zone_account"] != fill["vpc_account"]
        )
        for template in catalog()[code].commands:
            if (template.when == "cross-account" and not cross) or (template.when == "same-account" and cross):
                continue
            values = {k: v for k, v in fill.items() if v is not None}
            try:
                command = template.run.format_map(values)
            except KeyError:
                continue  # an id the inventory does not have: no command rather than a wrong one
            out.append(FixCommand(fill.get(f"{template.account}_account"), ACCOUNT_ROLES[template.account], command))
    return tuple(dict.fromkeys(out))


def _finding(code: str, specific: str, fills: Iterable[Fill] = (), **where: Any) -> DoctorFinding:
    entry = catalog()[code]
    return DoctorFinding(
        code=code,
        severity=entry.severity,
        message=f"{specific}: {entry.consequence}",
        hint=entry.hint,
        fix_commands=fix_commands(code, fills),
        **where,
    )


def _vpc(spoke: SpokeVpc) -> str:
    """How a finding names a spoke: id, Name tag and account, so nobody has to look the id up."""
    return f"VPC {spoke.vpc_id} ({spoke.name}, account {spoke.account_id})"


def _at(spoke: SpokeVpc) -> dict[str, Any]:
    """The location fields of a finding about one spoke VPC."""
    return {"vpc_id": spoke.vpc_id, "account_id": spoke.account_id, "vpc_name": spoke.name}


Check = Callable[[Inventory, Config], Iterable[DoctorFinding]]


# --- the checks ----------------------------------------------------------------------------------------------


def _environment(vpc: SpokeVpc, config: Config) -> str | None:
    return vpc.tags.get(config.environment_tag)


def _forbidden(vpc_id: str, tags: Mapping[str, str], config: Config) -> str | None:
    for selector in config.forbidden_selectors:
        if selector.matches(vpc_id, tags):
            return str(selector)
    return None


def _hub_services(inventory: Inventory) -> set[str]:
    return {e.service for e in inventory.endpoints} | set(inventory.zone_services.values())


def check_missing_associations(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Expected services (config per environment, or inferred from same-environment peers) not associated."""
    hub_services = _hub_services(inventory)
    subscribed = {s.vpc.vpc_id: set(s.services) for s in inventory.subscribers}
    peers: dict[str | None, list[set[str]]] = defaultdict(list)
    for spoke in inventory.spokes:
        if spoke.vpc_id in subscribed and not _forbidden(spoke.vpc_id, spoke.tags, config):
            peers[_environment(spoke, config)].append(subscribed[spoke.vpc_id])
    majority: dict[str | None, set[str]] = {}
    for spoke in inventory.spokes:
        if _forbidden(spoke.vpc_id, spoke.tags, config):
            continue
        env = _environment(spoke, config)
        have = subscribed.get(spoke.vpc_id, set())
        if spoke.vpc_id in config.expected_services:
            expected = set(config.expected_services[spoke.vpc_id])
            why = "config expects this VPC to use"
        elif env is not None and env in config.expected_services:
            expected = set(config.expected_services[env])
            why = f"config expects environment {env!r} to use"
        else:
            # No expectation configured: a VPC that already uses the hub should use what most of its peers use.
            group = peers.get(env, [])
            if not have or len(group) < 3:
                continue
            if env not in majority:
                counts = Counter(s for services in group for s in services)
                majority[env] = {s for s, n in counts.items() if n * 2 > len(group)}
            expected = majority[env]
            why = f"most {env or 'untagged'} spokes ({len(group)}) use"
        profile = inventory.profile_of(spoke.vpc_id)
        for service in sorted(expected - have):
            note = "" if service in hub_services else " (and the hub has no endpoint or zone for it)"
            zones = inventory.zones_for(service)
            if profile is not None:
                # The spoke subscribes through a Profile: the gap is the Profile's (every VPC on it lacks the zone).
                yield _finding(
                    "profile-missing-zone",
                    f"{_vpc(spoke)} gets its DNS from Route 53 Profile {profile.label}, which has no {service} "
                    f"zone; {why} {service}{note}",
                    [
                        {
                            "profile_id": profile.profile_id,
                            "profile_account": profile.owner_id,
                            "region": profile.region,
                            "resource_arn": f"arn:aws:route53:::hostedzone/{z.zone_id}",
                            "association_name": f"{service.replace('.', '-')}-zone",
                        }
                        for z in zones[:1]
                    ],
                    service=service,
                    zone_id=zones[0].zone_id if zones else None,
                    **_at(spoke),
                )
                continue
            yield _finding(
                "phz-missing-association",
                f"{_vpc(spoke)} is not associated with the {service} zone; {why} {service}{note}",
                [_association(z, spoke.vpc_id, spoke.region, spoke.account_id) for z in zones[:1]],
                service=service,
                zone_id=zones[0].zone_id if zones else None,
                **_at(spoke),
            )


def _association(zone: HostedZone, vpc_id: str, vpc_region: str | None, vpc_account: str | None) -> Fill:
    return {
        "zone_id": zone.zone_id,
        "zone_account": zone.account_id,
        "vpc_id": vpc_id,
        "vpc_region": vpc_region,
        "vpc_account": vpc_account,
    }


def check_forbidden_associations(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """VPCs named by a forbidden selector that are associated with a service zone."""
    if not config.forbidden:
        return
    spokes = {s.vpc_id: s for s in inventory.spokes}
    for zone in inventory.zones:
        service = inventory.zone_services.get(zone.zone_id)
        for assoc in zone.vpcs:
            spoke = spokes.get(assoc.vpc_id)
            tags = spoke.tags if spoke else {}
            rule = _forbidden(assoc.vpc_id, tags, config)
            if rule is None:
                continue
            who = _vpc(spoke) if spoke else f"VPC {assoc.vpc_id} (not in a scanned account)"
            yield _finding(
                "phz-forbidden-association",
                f"{who} matches forbidden rule {rule} but is associated with zone {zone.name}",
                [_association(zone, assoc.vpc_id, assoc.region, spoke.account_id if spoke else None)],
                vpc_id=assoc.vpc_id,
                account_id=spoke.account_id if spoke else None,
                vpc_name=spoke.name if spoke else None,
                service=service,
                zone_id=zone.zone_id,
            )


def check_forbidden_profiles(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Forbidden VPCs that reach service zones through a Route 53 Profile (the same fault by another path)."""
    if not config.forbidden:
        return
    spokes = {s.vpc_id: s for s in inventory.spokes}
    for assoc in inventory.profile_associations:
        spoke = spokes.get(assoc.vpc_id)
        profile = inventory.profile_of(assoc.vpc_id)
        rule = _forbidden(assoc.vpc_id, spoke.tags if spoke else {}, config)
        if rule is None or profile is None:
            continue
        services = sorted(inventory.profile_services(profile))
        if not services:
            continue
        who = _vpc(spoke) if spoke else f"VPC {assoc.vpc_id}"
        yield _finding(
            "phz-forbidden-association",
            f"{who} matches forbidden rule {rule} but is associated with Route 53 Profile {profile.label}, "
            f"which gives it {', '.join(services)}",
            [
                {
                    "profile_id": profile.profile_id,
                    "vpc_id": assoc.vpc_id,
                    "vpc_account": assoc.account_id,
                    "vpc_region": assoc.region,
                }
            ],
            vpc_id=assoc.vpc_id,
            account_id=assoc.account_id,
            vpc_name=spoke.name if spoke else None,
            service=services[0] if len(services) == 1 else None,
        )


def check_stale_associations(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Zone associations with VPCs not found in any scanned account (only when spokes were scanned)."""
    for zone in inventory.zones:
        for assoc in zone.vpcs:
            if not inventory.is_stale(assoc.vpc_id, assoc.region):
                continue
            yield _finding(
                "phz-stale-association",
                f"zone {zone.name} is associated with {assoc.vpc_id} ({assoc.region or '?'}), "
                f"which no scanned account has (name and account unknown)",
                [_association(zone, assoc.vpc_id, assoc.region, None)],
                vpc_id=assoc.vpc_id,
                service=inventory.zone_services.get(zone.zone_id),
                zone_id=zone.zone_id,
            )


def _apex_aliases(zone: HostedZone) -> list[Any]:
    return [a for a in zone.aliases if a.name == zone.name and a.record_type in ("A", "AAAA")]


def check_alias_targets(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Each service zone's apex alias must name one of that service's hub endpoints."""
    for zone in inventory.zones:
        service = inventory.zone_services.get(zone.zone_id)
        if service is None:
            continue
        endpoints = inventory.endpoints_for(service)
        aliases = _apex_aliases(zone)
        fills = [_alias_fill(zone, endpoints[0])] if endpoints else []
        if not aliases:
            yield _finding(
                "alias-target-mismatch",
                f"zone {zone.name} has no alias A record at its apex (spokes get NXDOMAIN for {zone.name})",
                fills,
                service=service,
                zone_id=zone.zone_id,
                account_id=zone.account_id,
            )
            continue
        for alias in aliases:
            if any(e.is_target(alias.target_dns_name) for e in endpoints):
                continue
            other = next((e for e in inventory.endpoints if e.is_target(alias.target_dns_name)), None)
            if other is not None:
                what = f"points at {other.endpoint_id}, the {other.service} endpoint"
            elif endpoints:
                ids = ", ".join(e.endpoint_id for e in endpoints)
                what = f"points at {alias.target_dns_name}, not at the {service} endpoint ({ids}) — deleted endpoint?"
            else:
                what = f"points at {alias.target_dns_name}, and the hub has no {service} endpoint (deleted?)"
            carried = inventory.profiles_with_zone(zone.zone_id)
            if carried:
                what += " (the zone reaches spokes through Profile " + ", ".join(p.label for p in carried) + ")"
            yield _finding(
                "alias-target-mismatch",
                f"zone {zone.name} {alias.record_type} alias {what}",
                fills,
                service=service,
                zone_id=zone.zone_id,
                endpoint_id=endpoints[0].endpoint_id if endpoints else None,
                account_id=zone.account_id,
            )


def _alias_fill(zone: HostedZone, endpoint: Endpoint) -> Fill:
    """The UPSERT values: the endpoint's regional DNS entry (DnsEntries[0]) and that entry's hosted zone."""
    return {
        "zone_id": zone.zone_id,
        "zone_account": zone.account_id,
        "zone_name": zone.name,
        "alias_dns": endpoint.dns_names[0] if endpoint.dns_names else None,
        "alias_zone_id": endpoint.dns_zone_id,
    }


def _endpoint_fill(endpoint: Endpoint) -> dict[str, str | None]:
    return {
        "endpoint_id": endpoint.endpoint_id,
        "endpoint_account": endpoint.account_id,
        "region": endpoint.region,
        "hub_vpc_id": endpoint.vpc_id,
    }


def check_private_dns(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """Shared endpoints must have private DNS off, unless a Route 53 Profile serves the endpoint to spokes."""
    served = {e for p in inventory.profiles if inventory.profile_vpcs(p.profile_id) for e in p.endpoint_ids}
    for endpoint in inventory.endpoints:
        if endpoint.private_dns_enabled and endpoint.endpoint_id not in served:
            yield _finding(
                "private-dns-enabled-on-shared",
                f"{endpoint.service} endpoint {endpoint.endpoint_id} has private DNS enabled",
                [_endpoint_fill(endpoint)],
                service=endpoint.service,
                endpoint_id=endpoint.endpoint_id,
                account_id=endpoint.account_id,
            )


def check_profile_and_direct(inventory: Inventory, config: Config) -> Iterable[DoctorFinding]:
    """A VPC that gets a service's zone both directly and through its Profile (info: same answer, two places)."""
    spokes = {s.vpc_id: s for s in inventory.spokes}
    for assoc in inventory.profile_associations:
        profile = inventory.profile_of(assoc.vpc_id)
        spoke = spokes.get(assoc.vpc_id)
        if profile is None or spoke is None:
            continue
        for zone in inventory.zones:
            service = inventory.zone_services.get(zone.zone_id)
            if service is None or zone.zone_id not in profile.zone_ids:
                continue
            if not any(v.vpc_id == assoc.vpc_id for v in zone.vpcs):
                continue
            yield _finding(
                "profile-and-direct",
                f"{_vpc(spoke)} gets zone {zone.name} ({zone.zone_id}) both by a direct association and through "
                f"Route 53 Profile {profile.label}; both paths serve the same zone, so it resolves {service} to "
                f"the hub endpoint either way",
                [_association(zone, assoc.vpc_id, assoc.region, spoke.account_id)],
                service=service,
                zone_id=zone.zone_id,
                **_at(spoke),
            )


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


CHECKS: tuple[Check, ...] = (
    check_endpoint_state,
    check_private_dns,
    check_policy_support,
    check_alias_targets,
    check_missing_associations,
    check_profile_and_direct,
    check_forbidden_associations,
    check_forbidden_profiles,
    check_stale_associations,
    check_security_groups,
    check_routes,
    check_dns_attributes,
    check_overlapping_cidrs,
    check_az_coverage,
    check_incomplete,
    policy_findings,
)


def diagnose(inventory: Inventory, config: Config) -> list[DoctorFinding]:
    """Every finding for the deployment, errors first, then by code and location (pure)."""
    findings = [f for check in CHECKS for f in check(inventory, config)]
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_ORDER.get(f.severity, 3),
            f.code,
            f.service or "",
            f.vpc_id or "",
            f.endpoint_id or "",
            f.message,
        ),
    )


def has_errors(findings: Iterable[DoctorFinding]) -> bool:
    """True when `vpce doctor` must exit 1."""
    return any(f.severity == "error" for f in findings)


# --- evidence from the organization trail (issue 13) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrailEvidence:
    """What the organization trail showed over a window (from `vpce usage --by vpc` and `--by account`)."""

    since: str
    """Window start (ISO), shown in every finding."""
    calls_by_vpc: Mapping[tuple[str, str], int]
    """(endpoint id, VPC id) -> calls through that endpoint from that VPC (known CIDRs only)."""
    calls_by_endpoint: Mapping[str, int]
    """Endpoint id -> calls through it (every caller)."""
    outside: tuple[tuple[str, str, int], ...] = ()
    """(endpoint id, caller: `account 123…` or `IP 10.…`, calls) for callers outside the configured spokes."""


NOT_NETWORK_EVENT_SOURCES = frozenset({"sts"})
"""Endpoint services CloudTrail records no network activity events for (facts §4b: STS is not in the list), so
silence in the trail says nothing about them."""


def trail_findings(inventory: Inventory, evidence: TrailEvidence) -> list[DoctorFinding]:
    """endpoint-unused, association-unused and unexpected-caller from the trail's evidence (pure)."""
    out: list[DoctorFinding] = []
    by_service = {_service_of(e): e for e in inventory.endpoints}
    window = f"since {evidence.since}"
    for endpoint in inventory.endpoints:
        if _service_of(endpoint) in NOT_NETWORK_EVENT_SOURCES:
            continue
        if evidence.calls_by_endpoint.get(endpoint.endpoint_id, 0) == 0:
            out.append(
                _finding(
                    "endpoint-unused",
                    f"endpoint {endpoint.endpoint_id} ({_service_of(endpoint)}): no call {window}",
                    endpoint_id=endpoint.endpoint_id,
                    account_id=endpoint.account_id,
                    service=_service_of(endpoint),
                )
            )
    zone_by_service = {service: zone_id for zone_id, service in inventory.zone_services.items()}
    for spoke in inventory.spokes:
        for service in inventory.services_by_vpc().get(spoke.vpc_id, ()):
            if service in NOT_NETWORK_EVENT_SOURCES:
                continue
            hub_endpoint = by_service.get(service)
            if hub_endpoint is None or evidence.calls_by_vpc.get((hub_endpoint.endpoint_id, spoke.vpc_id), 0) > 0:
                continue
            if evidence.calls_by_endpoint.get(hub_endpoint.endpoint_id, 0) == 0:
                continue  # the whole endpoint is silent: endpoint-unused says it once
            fills = [
                {
                    "zone_id": zone_by_service.get(service),
                    "vpc_id": spoke.vpc_id,
                    "vpc_region": spoke.region,
                    "vpc_account": spoke.account_id,
                }
            ]
            out.append(
                _finding(
                    "association-unused",
                    f"{_vpc(spoke)} is associated with {service} but made no call through "
                    f"{hub_endpoint.endpoint_id} {window}",
                    fills,
                    service=service,
                    endpoint_id=hub_endpoint.endpoint_id,
                    **_at(spoke),
                )
            )
    for endpoint_id, who, calls in evidence.outside:
        out.append(
            _finding(
                "unexpected-caller",
                f"{who} made {calls} call(s) through {endpoint_id} {window}",
                endpoint_id=endpoint_id,
            )
        )
    return out


def _service_of(endpoint: Endpoint) -> str:
    """`com.amazonaws.us-east-1.sqs` -> `sqs` (the short name zones and expected_services use)."""
    from vpce_console.aws.models import short_service

    return short_service(endpoint.service_name)
