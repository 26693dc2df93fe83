"""What the inventory holds (hubs, endpoints, zones, spokes, subscriptions) and the pure questions asked of it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vpce_console.aws.models import (
    DnsProfile,
    Endpoint,
    HostedZone,
    HubVpc,
    ProfileAssociation,
    SpokeVpc,
    cidr_covers,
    cidrs_overlap,
)
from vpce_console.aws.session import CallerIdentity
from vpce_console.policy.findings import Finding
from vpce_console.policy.vocab import DEFAULT_POLICY


@dataclass(frozen=True, slots=True)
class LintSummary:
    """Counts of the engine's findings for one endpoint policy."""

    errors: int = 0
    warnings: int = 0
    infos: int = 0
    codes: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    """The engine's findings, in its order."""


@dataclass(frozen=True, slots=True)
class Hub:
    """One hub account and region with its VPCs, as the inventory read it (one endpoint as a request sees it is
    `policy.personas.HubEndpoint`)."""

    account_id: str
    region: str
    vpcs: tuple[HubVpc, ...]

    @property
    def cidrs(self) -> tuple[str, ...]:
        """Every CIDR block of the hub VPCs."""
        return tuple(c for v in self.vpcs for c in v.cidrs)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A spoke VPC and the services whose hosted zones it is associated with."""

    vpc: SpokeVpc
    services: tuple[str, ...]
    zone_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Subscription:
    """How one spoke VPC reaches one service's hub endpoint: directly, through its Route 53 Profile, or both."""

    direct: bool
    """A private hosted zone of the service is associated with the VPC (GetHostedZone)."""
    profile: DnsProfile | None = None
    """The VPC's Profile, when it provides the service (a zone of it, or the endpoint's own private DNS)."""

    @property
    def path(self) -> str:
        """`direct`, `profile`, `both` or `none`."""
        if self.direct and self.profile is not None:
            return "both"
        return "direct" if self.direct else ("profile" if self.profile is not None else "none")


@dataclass(frozen=True, slots=True)
class InventoryStats:
    """What the load cost."""

    seconds: float
    api_calls: Mapping[str, int]
    route53_calls_by_account: Mapping[str, int]
    retries: int = 0
    throttled: Mapping[str, int] = field(default_factory=dict)
    rate_limit_wait_seconds: float = 0.0
    profile_calls_by_account: Mapping[str, int] = field(default_factory=dict)
    """`account/region` -> Route 53 Profiles requests (5/s per account and Region)."""


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything the doctor, the cost report and the TUI need about one centralized-endpoint deployment."""

    caller: CallerIdentity
    region: str
    hubs: tuple[Hub, ...]
    endpoints: tuple[Endpoint, ...]
    zones: tuple[HostedZone, ...]
    zone_services: Mapping[str, str]
    """Zone id -> short service name the zone stands for (`sqs`)."""
    spokes: tuple[SpokeVpc, ...]
    """Every in-scope spoke VPC, subscribing or not."""
    lint: Mapping[str, LintSummary]
    """Endpoint id -> lint summary of its policy."""
    stats: InventoryStats
    warnings: tuple[str, ...] = ()
    """Parts that could not be read (an account's role missing …)."""
    spoke_accounts: tuple[str, ...] = ()
    profiles: tuple[DnsProfile, ...] = ()
    """Route 53 Profiles in use or owned by a hub, with their attached zones and endpoints."""
    profile_associations: tuple[ProfileAssociation, ...] = ()
    """VPC ↔ Profile associations read in the spoke accounts."""
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Derived indexes, built on first use (the value itself stays immutable)."""

    def direct_services_by_vpc(self) -> Mapping[str, frozenset[str]]:
        """VPC id -> services whose zones are associated with it directly (one pass over the zones, cached)."""
        if "direct" not in self._memo:
            found: dict[str, set[str]] = {}
            for zone in self.zones:
                service = self.zone_services.get(zone.zone_id)
                if service is None:
                    continue
                for v in zone.vpcs:
                    found.setdefault(v.vpc_id, set()).add(service)
            self._memo["direct"] = {vpc: frozenset(s) for vpc, s in found.items()}
        result: Mapping[str, frozenset[str]] = self._memo["direct"]
        return result

    def profile_of(self, vpc_id: str) -> DnsProfile | None:
        """The Route 53 Profile a VPC is associated with (at most one), when it was read."""
        if "profile_of" not in self._memo:
            by_id = {p.profile_id: p for p in self.profiles}
            self._memo["profile_of"] = {
                a.vpc_id: by_id[a.profile_id] for a in self.profile_associations if a.profile_id in by_id
            }
        found: DnsProfile | None = self._memo["profile_of"].get(vpc_id)
        return found

    def profile_services(self, profile: DnsProfile) -> frozenset[str]:
        """Services a Profile provides: its zones that stand for a service, and its endpoints with private DNS on."""
        key = f"profile:{profile.profile_id}"
        if key not in self._memo:
            by_id = {e.endpoint_id: e for e in self.endpoints}
            services = {self.zone_services[z] for z in profile.zone_ids if z in self.zone_services}
            services |= {by_id[e].service for e in profile.endpoint_ids if e in by_id and by_id[e].private_dns_enabled}
            self._memo[key] = frozenset(services)
        result: frozenset[str] = self._memo[key]
        return result

    def subscription(self, vpc_id: str, service: str) -> Subscription:
        """How a VPC reaches a service: direct association, its Profile, both, or not at all."""
        direct = service in self.direct_services_by_vpc().get(vpc_id, frozenset())
        profile = self.profile_of(vpc_id)
        if profile is not None and service not in self.profile_services(profile):
            profile = None
        return Subscription(direct, profile)

    def services_by_vpc(self) -> Mapping[str, tuple[str, ...]]:
        """VPC id -> services it reaches through the hub, directly or through its Profile (cached)."""
        if "services_by_vpc" not in self._memo:
            found: dict[str, set[str]] = {vpc: set(s) for vpc, s in self.direct_services_by_vpc().items()}
            for assoc in self.profile_associations:
                profile = self.profile_of(assoc.vpc_id)
                if profile is not None:
                    found.setdefault(assoc.vpc_id, set()).update(self.profile_services(profile))
            self._memo["services_by_vpc"] = {vpc: tuple(sorted(s)) for vpc, s in found.items() if s}
        result: Mapping[str, tuple[str, ...]] = self._memo["services_by_vpc"]
        return result

    def profiles_with_zone(self, zone_id: str) -> tuple[DnsProfile, ...]:
        """Profiles that carry a hosted zone."""
        return tuple(p for p in self.profiles if zone_id in p.zone_ids)

    def profile_vpcs(self, profile_id: str) -> tuple[str, ...]:
        """VPC ids associated with a Profile."""
        return tuple(a.vpc_id for a in self.profile_associations if a.profile_id == profile_id)

    @property
    def hub_vpc_ids(self) -> frozenset[str]:
        """VPC ids of every hub."""
        return frozenset(v.vpc_id for h in self.hubs for v in h.vpcs) | frozenset(e.vpc_id for e in self.endpoints)

    @property
    def hub_cidrs(self) -> tuple[str, ...]:
        """Every hub CIDR."""
        return tuple(c for h in self.hubs for c in h.cidrs)

    def endpoints_for(self, service: str) -> tuple[Endpoint, ...]:
        """Hub endpoints of one short service name."""
        return tuple(e for e in self.endpoints if e.service == service)

    def zones_for(self, service: str) -> tuple[HostedZone, ...]:
        """Hosted zones that stand for one service."""
        return tuple(z for z in self.zones if self.zone_services.get(z.zone_id) == service)

    @property
    def subscribers(self) -> tuple[Subscriber, ...]:
        """Spoke VPCs that reach at least one service (a zone associated directly or through their Profile)."""
        by_vpc: dict[str, list[HostedZone]] = {}
        for zone in self.zones:
            for v in zone.vpcs:
                by_vpc.setdefault(v.vpc_id, []).append(zone)
        services_by_vpc = self.services_by_vpc()
        out = []
        for spoke in self.spokes:
            services = services_by_vpc.get(spoke.vpc_id, ())
            if services:
                zones = {z.zone_id for z in by_vpc.get(spoke.vpc_id, [])}
                profile = self.profile_of(spoke.vpc_id)
                if profile is not None:
                    zones |= {z for z in profile.zone_ids if z in self.zone_services}
                out.append(Subscriber(spoke, tuple(services), tuple(sorted(zones))))
        return tuple(out)

    def services_of(self, vpc_id: str) -> tuple[str, ...]:
        """Services a VPC is associated with."""
        return self.services_by_vpc().get(vpc_id, ())

    def is_stale(self, vpc_id: str, region: str | None) -> bool:
        """True for an association with a VPC that no scanned account has, in a region that was scanned.

        Only decidable when spoke accounts were read; a VPC in a region the scan did not cover may be real.
        """
        if not self.spoke_accounts:
            return False
        if "known_vpcs" not in self._memo:
            self._memo["known_vpcs"] = frozenset(s.vpc_id for s in self.spokes) | self.hub_vpc_ids
            self._memo["scanned_regions"] = frozenset({h.region for h in self.hubs} | {self.region})
        if vpc_id in self._memo["known_vpcs"]:
            return False
        return not (region and region not in self._memo["scanned_regions"])

    def subscriber_vpc_ids(self, service: str) -> frozenset[str]:
        """The spoke VPCs that reach a service through the hub: the one count Endpoints, Cost and JSON show.

        Every VPC associated with one of the service's zones or with a Route 53 Profile that provides the service,
        minus the hub's own VPCs and minus stale associations (VPCs no scanned account has); without scanned spoke
        accounts every associated VPC counts.
        """
        key = f"subscribers:{service}"
        if key not in self._memo:
            hub = self.hub_vpc_ids
            direct = {
                v.vpc_id
                for z in self.zones_for(service)
                for v in z.vpcs
                if v.vpc_id not in hub and not self.is_stale(v.vpc_id, v.region)
            }
            via_profile = {
                a.vpc_id
                for a in self.profile_associations
                if a.vpc_id not in hub
                and (p := self.profile_of(a.vpc_id)) is not None
                and service in self.profile_services(p)
            }
            self._memo[key] = frozenset(direct | via_profile)
        result: frozenset[str] = self._memo[key]
        return result


def service_zone_names(endpoint: Endpoint) -> set[str]:
    """Zone names that stand for an endpoint's service (`sqs.us-east-1.amazonaws.com`, `api.ecr.…`)."""
    service = endpoint.service
    region = endpoint.region
    names = {f"{service}.{region}.amazonaws.com"}
    if "." in service:
        names.add(".".join(reversed(service.split("."))) + f".{region}.amazonaws.com")
    if endpoint.service_private_dns_name:
        names.add(endpoint.service_private_dns_name.lower().removeprefix("*.").rstrip("."))
    return names


def map_zones_to_services(
    zones: Sequence[tuple[str, str]], endpoints: Sequence[Endpoint], regions: Sequence[str]
) -> dict[str, str]:
    """Zone id -> short service, for zones named after a service endpoint (with or without a hub endpoint)."""
    by_name: dict[str, str] = {}
    for endpoint in endpoints:
        for name in service_zone_names(endpoint):
            by_name.setdefault(name, endpoint.service)
    out: dict[str, str] = {}
    for zone_id, name in zones:
        if name in by_name:
            out[zone_id] = by_name[name]
            continue
        for region in regions:
            suffix = f".{region}.amazonaws.com"
            if name.endswith(suffix) and len(name) > len(suffix):
                out[zone_id] = name[: -len(suffix)]
                break
    return out


def is_default_policy(text: str | None) -> bool:
    """True for AWS's full-access default (any whitespace, with or without Version)."""
    if text is None:
        return True
    try:
        doc = json.loads(text)
    except ValueError:
        return False
    if not isinstance(doc, dict):
        return False
    doc = {k: v for k, v in doc.items() if k != "Version"}
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    return set(doc) == {"Statement"} and statements == DEFAULT_POLICY["Statement"]


def lint_endpoint(endpoint: Endpoint) -> LintSummary:
    """Lint an endpoint's policy with the engine (empty summary for default policies or when unavailable)."""
    if endpoint.policy_text is None or is_default_policy(endpoint.policy_text):
        return LintSummary()
    try:
        from vpce_console.policy.linter import lint
    except ImportError:  # pragma: no cover - the engine ships with the package
        return LintSummary()
    try:
        from vpce_console.policy.endpoint_context import EndpointContext

        shared = EndpointContext(endpoint.endpoint_id, endpoint.vpc_id, endpoint.account_id, shared=True)
        findings = tuple(lint(endpoint.policy_text, policy_type="vpce", service=endpoint.service_name, endpoint=shared))
    except Exception:
        return LintSummary()
    severities = [str(f.severity) for f in findings]
    return LintSummary(
        errors=severities.count("error"),
        warnings=severities.count("warning"),
        infos=severities.count("info"),
        codes=tuple(sorted({f.code for f in findings})),
        findings=findings,
    )


def routes_to_hub(spoke: SpokeVpc, hub_cidrs: Sequence[str]) -> tuple[str, ...]:
    """Route-table routes (as `rtb: cidr -> target`) that send hub traffic over a TGW or peering."""
    found = []
    for table in spoke.route_tables:
        for route in table.routes:
            if route.target_kind not in ("tgw", "pcx") or route.state == "blackhole":
                continue
            if any(cidr_covers(route.destination, hub) or cidrs_overlap(route.destination, hub) for hub in hub_cidrs):
                found.append(f"{table.route_table_id}: {route.destination} -> {route.target_id}")
    return tuple(found)
