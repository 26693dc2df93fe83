"""Doctor checks of the DNS wiring: zone associations (direct and through Profiles), alias targets, private DNS."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from vpce_console.aws.models import Endpoint, HostedZone
from vpce_console.config import Config
from vpce_console.services.doctor_findings import (
    DoctorFinding,
    Fill,
    _at,
    _environment,
    _finding,
    _forbidden,
    _hub_services,
    _vpc,
)
from vpce_console.services.inventory import Inventory


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
