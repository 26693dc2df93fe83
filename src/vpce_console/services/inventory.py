"""The hub inventory: endpoints, hosted zones, associations and spoke VPCs, read concurrently and politely.

`load_inventory` fans out over hubs and spoke accounts with `asyncio.gather`; the gateway's rate limiter
decides the actual pace (Route 53 5 req/s per account is the floor at scale). A spoke account that cannot be
read (role missing, access denied) becomes a warning, not a failure: the rest of the picture is still useful.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vpce_console.aws import cloudwatch, ec2, orgs, route53, route53profiles
from vpce_console.aws.models import (
    DnsProfile,
    Endpoint,
    HostedZone,
    HubVpc,
    ProfileAssociation,
    SpokeVpc,
    cidr_covers,
    cidrs_overlap,
    short_service,
)
from vpce_console.aws.session import AwsGateway, CallerIdentity
from vpce_console.config import Config
from vpce_console.errors import AwsError

Progress = Callable[[str], None]

DEFAULT_POLICY = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
"""The full-access policy AWS attaches when none is given (facts §3)."""


@dataclass(frozen=True, slots=True)
class LintSummary:
    """Counts of the engine's findings for one endpoint policy."""

    errors: int = 0
    warnings: int = 0
    infos: int = 0
    codes: tuple[str, ...] = ()
    findings: tuple[Any, ...] = ()
    """The engine's `Finding` values (policy.findings.Finding)."""


@dataclass(frozen=True, slots=True)
class Hub:
    """One hub account/region and its VPCs."""

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


# --- pure helpers ------------------------------------------------------------------------------------------


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


# --- loading -----------------------------------------------------------------------------------------------


async def load_inventory(
    gateway: AwsGateway,
    config: Config,
    *,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
    on_endpoints: Callable[[Sequence[Endpoint]], None] | None = None,
) -> Inventory:
    """Read the whole deployment: hubs, zones, spokes, metrics; raises AwsError only when the hub is unreadable.

    `on_endpoints` is called once per hub with that hub's endpoints (metrics included) as soon as they are read,
    before the slow Route 53 and spoke reads finish, so a console can show them at once.
    """
    started = clock()
    # The gateway may serve several loads (the TUI refreshes): report this load's calls only.
    before = _stats_snapshot(gateway)
    say = progress or (lambda _message: None)
    warnings: list[str] = []
    caller = await gateway.caller_identity()
    hubs_cfg = [(h.account_id or caller.account_id, h.region or gateway.region, h.vpc_id) for h in config.hubs] or [
        (caller.account_id, gateway.region, None)
    ]
    hub_accounts = sorted({a for a, _, _ in hubs_cfg})
    regions = sorted({r for _, r, _ in hubs_cfg})
    say(f"reading {len(hubs_cfg)} hub(s) as {caller.arn}")

    async def read_hub(account: str, region: str, vpc_id: str | None) -> tuple[Hub, list[Endpoint]]:
        endpoints = await ec2.hub_endpoints(
            gateway, account_id=account, region=region, vpc_id=vpc_id, problems=warnings
        )
        say(f"hub {account}/{region}: {len(endpoints)} endpoints")
        vpc_ids = [vpc_id] if vpc_id else sorted({e.vpc_id for e in endpoints})
        vpcs_task = ec2.hub_vpcs(gateway, vpc_ids, account_id=account, region=region)
        metrics_task = _metrics(gateway, endpoints, account, region, config.aws.metrics_hours, warnings)
        vpcs, metrics = await asyncio.gather(vpcs_task, metrics_task)
        with_bytes = [_with_bytes(e, metrics.get(e.endpoint_id)) for e in endpoints]
        if on_endpoints is not None:
            on_endpoints(tuple(with_bytes))
        return Hub(account, region, tuple(vpcs)), with_bytes

    async def read_zones(account: str) -> list[HostedZone]:
        # Zone details do not depend on the endpoints, so they start at once: Route 53 is the slow lane.
        listed = await route53.list_private_zones(gateway, account_id=account)
        candidates = [(zid, name) for zid, name in listed if _looks_like_service_zone(name)]
        say(f"{len(candidates)} service hosted zone(s) in {account}; reading associations and records")
        details = list(
            await asyncio.gather(
                *(route53.zone_details(gateway, zid, name, account_id=account) for zid, name in candidates)
            )
        )
        say(f"hosted zones of {account}: {len(details)} read")
        return details

    spoke_accounts = await spoke_accounts_of(gateway, config, caller, warnings)
    say(f"{len(spoke_accounts)} spoke account(s)")
    hub_results, zone_lists, spoke_lists, (profiles, profile_associations) = await asyncio.gather(
        asyncio.gather(*(read_hub(a, r, v) for a, r, v in hubs_cfg)),
        asyncio.gather(*(read_zones(a) for a in hub_accounts)),
        asyncio.gather(
            *(_read_spoke_account(gateway, config, a, r, warnings, say) for a in spoke_accounts for r in regions)
        ),
        read_profiles(gateway, hub_accounts, spoke_accounts, regions, warnings, say),
    )
    endpoints = [e for _, eps in hub_results for e in eps]
    hubs = tuple(h for h, _ in hub_results)
    all_zones = [z for zl in zone_lists for z in zl]
    zone_services = map_zones_to_services([(z.zone_id, z.name) for z in all_zones], endpoints, regions)
    zones = [z for z in all_zones if z.zone_id in zone_services]
    attachments = await _hub_attachments(gateway, hubs)
    spoke_lists = [[_merge_attachments(s, attachments) for s in sl] for sl in spoke_lists]
    hub_vpc_ids = {v.vpc_id for h in hubs for v in h.vpcs} | {e.vpc_id for e in endpoints}
    spokes = tuple(
        sorted(
            (s for sl in spoke_lists for s in sl if s.vpc_id not in hub_vpc_ids),
            key=lambda s: (s.account_id, s.vpc_id),
        )
    )
    after = _stats_snapshot(gateway)
    api_calls = after["api_calls"] - before["api_calls"]
    calls = after["calls"] - before["calls"]
    inventory_stats = InventoryStats(
        seconds=round(clock() - started, 3),
        api_calls=dict(sorted(api_calls.items())),
        route53_calls_by_account=dict(sorted((after["route53"] - before["route53"]).items())),
        retries=max(0, sum(api_calls.values()) - sum(calls.values())),
        throttled=dict(sorted((after["throttled"] - before["throttled"]).items())),
        rate_limit_wait_seconds=round(gateway.stats.rate_limit_wait_seconds - before["waited"], 3),
        profile_calls_by_account=dict(sorted((after["profiles"] - before["profiles"]).items())),
    )
    say(f"done: {len(endpoints)} endpoints, {len(zones)} zones, {len(spokes)} spoke VPCs")
    return Inventory(
        caller=caller,
        region=gateway.region,
        hubs=hubs,
        endpoints=tuple(endpoints),
        zones=tuple(sorted(zones, key=lambda z: z.name)),
        zone_services=zone_services,
        spokes=spokes,
        lint={e.endpoint_id: lint_endpoint(e) for e in endpoints},
        stats=inventory_stats,
        warnings=tuple(warnings),
        spoke_accounts=tuple(spoke_accounts),
        profiles=tuple(profiles),
        profile_associations=tuple(profile_associations),
    )


def _stats_snapshot(gateway: AwsGateway) -> dict[str, Any]:
    stats = gateway.stats
    return {
        "api_calls": Counter(stats.api_calls),
        "calls": Counter(stats.calls),
        "route53": Counter(stats.route53_calls_by_account),
        "profiles": Counter(stats.profile_calls_by_account),
        "throttled": Counter(stats.throttled),
        "waited": stats.rate_limit_wait_seconds,
    }


def _looks_like_service_zone(name: str) -> bool:
    """Zones named after an AWS service endpoint (`sqs.us-east-1.amazonaws.com`); others are not ours to read."""
    return name.endswith((".amazonaws.com", ".amazonaws.com.cn"))


async def read_profiles(
    gateway: AwsGateway,
    hub_accounts: Sequence[str],
    spoke_accounts: Sequence[str],
    regions: Sequence[str],
    warnings: list[str],
    say: Progress,
) -> tuple[list[DnsProfile], list[ProfileAssociation]]:
    """Route 53 Profiles: what each hub owns or sees, what each spoke account associated, and what each used
    Profile carries — read by its owner when that is a hub, else by a spoke account it is shared with."""

    async def quietly(what: str, call: Any, default: Any) -> Any:
        try:
            return await call
        except AwsError as exc:
            if exc.kind == "connection" or (exc.kind == "credentials" and exc.operation != "sts:AssumeRole"):
                raise
            if exc.operation != "sts:AssumeRole":  # an account we cannot enter is reported once, by its VPC read
                warnings.append(f"Route 53 Profiles: {what}: {exc}")
            return default

    listed, assoc_lists = await asyncio.gather(
        asyncio.gather(
            *(
                quietly(
                    f"ListProfiles in {a}/{r}",
                    route53profiles.list_profiles(gateway, account_id=a, region=r),
                    [],
                )
                for a in hub_accounts
                for r in regions
            )
        ),
        asyncio.gather(
            *(
                quietly(
                    f"ListProfileAssociations in {a}/{r}",
                    route53profiles.profile_associations(gateway, account_id=a, region=r),
                    [],
                )
                for a in spoke_accounts
                for r in regions
            )
        ),
    )
    profiles: dict[str, DnsProfile] = {p.profile_id: p for found in listed for p in found}
    associations = [a for found in assoc_lists for a in found]
    # A Profile no hub owns (shared from elsewhere) is read through a spoke account that uses it.
    readers: dict[str, tuple[str, str]] = {}
    for assoc in associations:
        if assoc.profile_id not in profiles:
            readers.setdefault(assoc.profile_id, (assoc.account_id, assoc.region))
    for account, region in sorted(set(readers.values())):
        for profile in await quietly(
            f"ListProfiles in {account}/{region}",
            route53profiles.list_profiles(gateway, account_id=account, region=region),
            [],
        ):
            profiles.setdefault(profile.profile_id, profile)
    hubs = set(hub_accounts)

    async def with_resources(profile: DnsProfile) -> DnsProfile:
        account, region = (
            (profile.owner_id, profile.region)
            if profile.owner_id in hubs
            else readers.get(profile.profile_id, (profile.owner_id, profile.region))
        )
        zones, endpoints = await quietly(
            f"ListProfileResourceAssociations {profile.profile_id}",
            route53profiles.profile_resources(gateway, profile.profile_id, account_id=account, region=region),
            ((), ()),
        )
        return replace(profile, zone_ids=zones, endpoint_ids=endpoints)

    read = list(await asyncio.gather(*(with_resources(p) for p in profiles.values())))
    if read or associations:
        say(f"{len(read)} Route 53 Profile(s), {len(associations)} VPC association(s)")
    return sorted(read, key=lambda p: p.profile_id), sorted(associations, key=lambda a: (a.account_id, a.vpc_id))


async def _hub_attachments(gateway: AwsGateway, hubs: Sequence[Hub]) -> dict[str, tuple[str, ...]]:
    """VPC id -> TGW attachment ids as the hub (TGW owner) sees them, for attachments made from spoke accounts."""
    out: dict[str, list[str]] = {}
    for hub in hubs:
        try:
            found = await ec2.tgw_attachments(gateway, account_id=hub.account_id, region=hub.region)
        except AwsError as exc:
            if exc.kind in ("credentials", "connection"):
                raise
            continue
        for vpc_id, attachment_id in found:
            out.setdefault(vpc_id, []).append(attachment_id)
    return {k: tuple(sorted(set(v))) for k, v in out.items()}


def _merge_attachments(spoke: SpokeVpc, attachments: Mapping[str, tuple[str, ...]]) -> SpokeVpc:
    extra = attachments.get(spoke.vpc_id)
    if not extra:
        return spoke
    from dataclasses import replace

    return replace(spoke, tgw_attachments=tuple(sorted(set(spoke.tgw_attachments) | set(extra))))


def _with_bytes(endpoint: Endpoint, hourly: tuple[float, ...] | None) -> Endpoint:
    """The endpoint with its hourly series and their total (None and no series when metrics were not read)."""
    from dataclasses import replace

    if hourly is None:
        return replace(endpoint, bytes_processed=None, bytes_hourly=())
    return replace(endpoint, bytes_processed=float(sum(hourly)), bytes_hourly=hourly)


async def _metrics(
    gateway: AwsGateway, endpoints: list[Endpoint], account: str, region: str, hours: int, warnings: list[str]
) -> dict[str, tuple[float, ...]]:
    try:
        return await cloudwatch.bytes_processed_hourly(
            gateway, endpoints, account_id=account, region=region, hours=hours
        )
    except AwsError as exc:
        if exc.kind == "credentials":
            raise
        # an enrichment: a dropped connection warns like a 5xx does, the bytes column shows "-"
        warnings.append(f"metrics unavailable for {account}/{region}: {exc}")
        return {}


async def spoke_accounts_of(
    gateway: AwsGateway, config: Config, caller: CallerIdentity, warnings: list[str]
) -> list[str]:
    """The spoke accounts to read: the configured ones, plus the organization's when discovery is on."""
    accounts = list(dict.fromkeys(config.spokes.accounts))
    if config.spokes.discover_organization:
        try:
            for account in await orgs.list_accounts(gateway):
                if account.status == "ACTIVE" and account.account_id not in accounts:
                    accounts.append(account.account_id)
        except AwsError as exc:
            if exc.kind in ("credentials", "connection"):
                raise
            warnings.append(f"organization discovery failed: {exc}")
    excluded = set(config.spokes.exclude_accounts)
    return [a for a in accounts if a not in excluded]


async def _read_spoke_account(
    gateway: AwsGateway,
    config: Config,
    account: str,
    region: str,
    warnings: list[str],
    say: Progress,
) -> list[SpokeVpc]:
    """One account's VPCs with DNS attributes; an unreadable account becomes a warning."""
    from dataclasses import replace

    try:
        vpcs = await ec2.spoke_vpcs(
            gateway, account_id=account, region=region, include_default=config.spokes.include_default_vpcs
        )

        async def with_dns(vpc: SpokeVpc) -> SpokeVpc:
            support, hostnames = await ec2.vpc_dns_attributes(gateway, vpc.vpc_id, account_id=account, region=region)
            return replace(vpc, dns_support=support, dns_hostnames=hostnames)

        result = list(await asyncio.gather(*(with_dns(v) for v in vpcs)))
    except AwsError as exc:
        if exc.kind == "connection" or (exc.kind == "credentials" and exc.operation != "sts:AssumeRole"):
            raise
        warnings.append(f"account {account}: {exc}")
        return []
    say(f"spoke account {account}/{region}: {len(result)} VPC{'' if len(result) == 1 else 's'}")
    return result


# --- JSON --------------------------------------------------------------------------------------------------


def endpoint_to_json(inventory: Inventory, endpoint: Endpoint) -> dict[str, Any]:
    """The stable JSON shape of one endpoint."""
    lint = inventory.lint.get(endpoint.endpoint_id, LintSummary())
    zones = inventory.zones_for(endpoint.service)
    subscribers = inventory.subscriber_vpc_ids(endpoint.service)
    return {
        "endpoint_id": endpoint.endpoint_id,
        "service": endpoint.service,
        "service_name": endpoint.service_name,
        "account_id": endpoint.account_id,
        "region": endpoint.region,
        "vpc_id": endpoint.vpc_id,
        "state": endpoint.state,
        "private_dns_enabled": endpoint.private_dns_enabled,
        "availability_zones": list(endpoint.availability_zones),
        "enis": [
            {
                "eni_id": e.eni_id,
                "subnet_id": e.subnet_id,
                "availability_zone": e.availability_zone,
                "private_ip": e.private_ip,
            }
            for e in endpoint.enis
        ],
        "security_groups": [
            {
                "group_id": g.group_id,
                "name": g.name,
                "https_cidrs": list(g.https_cidrs),
                "https_source_groups": list(g.https_source_groups),
                "https_prefix_lists": list(g.https_prefix_lists),
            }
            for g in endpoint.security_groups
        ],
        "dns_names": list(endpoint.dns_names),
        "policy": {
            "custom": not is_default_policy(endpoint.policy_text),
            "supported": endpoint.policy_supported,
            "text": endpoint.policy_text,
            "lint": {"errors": lint.errors, "warnings": lint.warnings, "infos": lint.infos, "codes": list(lint.codes)},
        },
        "zones": [{"zone_id": z.zone_id, "name": z.name} for z in zones],
        "subscriber_count": len(subscribers),
        "bytes_processed": endpoint.bytes_processed,
        "bytes_processed_hours": None if endpoint.bytes_processed is None else len(endpoint.bytes_hourly),
        "bytes_hourly": list(endpoint.bytes_hourly),
        "tags": dict(endpoint.tags),
    }


def spoke_to_json(
    inventory: Inventory,
    spoke: SpokeVpc,
    config: Config | None = None,
    services: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The stable JSON shape of one spoke VPC (`services` saves the lookup when the caller has it)."""
    env_tag = config.environment_tag if config else "environment"
    return {
        "vpc_id": spoke.vpc_id,
        "account_id": spoke.account_id,
        "region": spoke.region,
        "name": spoke.name,
        "environment": spoke.tags.get(env_tag),
        "tags": dict(spoke.tags),
        "cidrs": list(spoke.cidrs),
        "dns_support": spoke.dns_support,
        "dns_hostnames": spoke.dns_hostnames,
        "availability_zones": list(spoke.availability_zones),
        "tgw_attachments": list(spoke.tgw_attachments),
        "peering_connections": list(spoke.peering_connections),
        "routes_to_hub": list(routes_to_hub(spoke, inventory.hub_cidrs)),
        "services": list(services if services is not None else inventory.services_of(spoke.vpc_id)),
        "subscriptions": {
            service: _subscription_json(inventory.subscription(spoke.vpc_id, service))
            for service in (services if services is not None else inventory.services_of(spoke.vpc_id))
        },
    }


def _subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "path": sub.path,
        "profile_id": sub.profile.profile_id if sub.profile else None,
        "profile_name": sub.profile.name if sub.profile else None,
    }


def inventory_to_json(inventory: Inventory, config: Config | None = None) -> dict[str, Any]:
    """The whole inventory as one JSON object with stable keys (`vpce inventory --format json`)."""
    subscribers = inventory.subscribers
    subscribed = {s.vpc.vpc_id for s in subscribers}
    known_vpcs = {s.vpc_id for s in inventory.spokes} | set(inventory.hub_vpc_ids)
    return {
        "caller": {"account_id": inventory.caller.account_id, "arn": inventory.caller.arn},
        "region": inventory.region,
        "hubs": [
            {
                "account_id": h.account_id,
                "region": h.region,
                "vpcs": [{"vpc_id": v.vpc_id, "cidrs": list(v.cidrs), "name": v.tags.get("Name")} for v in h.vpcs],
            }
            for h in inventory.hubs
        ],
        "endpoints": [endpoint_to_json(inventory, e) for e in inventory.endpoints],
        "zones": [
            {
                "zone_id": z.zone_id,
                "name": z.name,
                "account_id": z.account_id,
                "service": inventory.zone_services.get(z.zone_id),
                "vpcs": [{"vpc_id": v.vpc_id, "region": v.region, "known": v.vpc_id in known_vpcs} for v in z.vpcs],
                "aliases": [
                    {
                        "name": a.name,
                        "type": a.record_type,
                        "target": a.target_dns_name,
                        "target_zone_id": a.target_zone_id,
                    }
                    for a in z.aliases
                ],
            }
            for z in inventory.zones
        ],
        "subscribers": [spoke_to_json(inventory, s.vpc, config, s.services) for s in subscribers],
        "unsubscribed_vpcs": [
            {"vpc_id": s.vpc_id, "account_id": s.account_id, "name": s.name}
            for s in inventory.spokes
            if s.vpc_id not in subscribed
        ],
        "spoke_accounts": list(inventory.spoke_accounts),
        "profiles": [
            {
                "profile_id": p.profile_id,
                "name": p.name,
                "owner_id": p.owner_id,
                "region": p.region,
                "share_status": p.share_status,
                "zone_ids": list(p.zone_ids),
                "endpoint_ids": list(p.endpoint_ids),
                "services": sorted(inventory.profile_services(p)),
                "vpc_ids": list(inventory.profile_vpcs(p.profile_id)),
            }
            for p in inventory.profiles
        ],
        "profile_associations": [
            {"profile_id": a.profile_id, "vpc_id": a.vpc_id, "account_id": a.account_id, "region": a.region}
            for a in inventory.profile_associations
        ],
        "warnings": list(inventory.warnings),
        "stats": {
            "seconds": inventory.stats.seconds,
            "api_calls": dict(inventory.stats.api_calls),
            "route53_calls_by_account": dict(inventory.stats.route53_calls_by_account),
            "profile_calls_by_account": dict(inventory.stats.profile_calls_by_account),
            "retries": inventory.stats.retries,
            "throttled": dict(inventory.stats.throttled),
            "rate_limit_wait_seconds": inventory.stats.rate_limit_wait_seconds,
        },
    }


__all__ = [
    "Hub",
    "Inventory",
    "InventoryStats",
    "LintSummary",
    "Subscriber",
    "Subscription",
    "inventory_to_json",
    "load_inventory",
    "map_zones_to_services",
    "routes_to_hub",
    "short_service",
]
