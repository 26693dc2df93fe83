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
from dataclasses import dataclass, field
from typing import Any

from vpce_console.aws import cloudwatch, ec2, orgs, route53
from vpce_console.aws.models import (
    Endpoint,
    HostedZone,
    HubVpc,
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
class InventoryStats:
    """What the load cost."""

    seconds: float
    api_calls: Mapping[str, int]
    route53_calls_by_account: Mapping[str, int]
    retries: int = 0
    throttled: Mapping[str, int] = field(default_factory=dict)
    rate_limit_wait_seconds: float = 0.0


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
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Derived indexes, built on first use (the value itself stays immutable)."""

    def services_by_vpc(self) -> Mapping[str, tuple[str, ...]]:
        """VPC id -> services whose zones it is associated with (one pass over the zones, then cached)."""
        if "services_by_vpc" not in self._memo:
            found: dict[str, set[str]] = {}
            for zone in self.zones:
                service = self.zone_services.get(zone.zone_id)
                if service is None:
                    continue
                for v in zone.vpcs:
                    found.setdefault(v.vpc_id, set()).add(service)
            self._memo["services_by_vpc"] = {vpc: tuple(sorted(s)) for vpc, s in found.items()}
        result: Mapping[str, tuple[str, ...]] = self._memo["services_by_vpc"]
        return result

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
        """Spoke VPCs associated with at least one service zone, with their services."""
        by_vpc: dict[str, list[HostedZone]] = {}
        for zone in self.zones:
            for v in zone.vpcs:
                by_vpc.setdefault(v.vpc_id, []).append(zone)
        out = []
        for spoke in self.spokes:
            zones = by_vpc.get(spoke.vpc_id, [])
            services = sorted({self.zone_services[z.zone_id] for z in zones if z.zone_id in self.zone_services})
            if services:
                out.append(Subscriber(spoke, tuple(services), tuple(sorted(z.zone_id for z in zones))))
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

        Every VPC associated with one of the service's zones, minus the hub's own VPCs and minus stale
        associations (VPCs no scanned account has); without scanned spoke accounts every associated VPC counts.
        """
        key = f"subscribers:{service}"
        if key not in self._memo:
            hub = self.hub_vpc_ids
            self._memo[key] = frozenset(
                v.vpc_id
                for z in self.zones_for(service)
                for v in z.vpcs
                if v.vpc_id not in hub and not self.is_stale(v.vpc_id, v.region)
            )
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
        endpoints = await ec2.hub_endpoints(gateway, account_id=account, region=region, vpc_id=vpc_id)
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

    spoke_accounts = await _spoke_accounts(gateway, config, caller, warnings)
    say(f"{len(spoke_accounts)} spoke account(s)")
    hub_results, zone_lists, spoke_lists = await asyncio.gather(
        asyncio.gather(*(read_hub(a, r, v) for a, r, v in hubs_cfg)),
        asyncio.gather(*(read_zones(a) for a in hub_accounts)),
        asyncio.gather(
            *(_read_spoke_account(gateway, config, a, r, warnings, say) for a in spoke_accounts for r in regions)
        ),
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
    )


def _stats_snapshot(gateway: AwsGateway) -> dict[str, Any]:
    stats = gateway.stats
    return {
        "api_calls": Counter(stats.api_calls),
        "calls": Counter(stats.calls),
        "route53": Counter(stats.route53_calls_by_account),
        "throttled": Counter(stats.throttled),
        "waited": stats.rate_limit_wait_seconds,
    }


def _looks_like_service_zone(name: str) -> bool:
    """Zones named after an AWS service endpoint (`sqs.us-east-1.amazonaws.com`); others are not ours to read."""
    return name.endswith((".amazonaws.com", ".amazonaws.com.cn"))


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
        if exc.kind in ("credentials", "connection"):
            raise
        warnings.append(f"metrics unavailable for {account}/{region}: {exc}")
        return {}


async def _spoke_accounts(
    gateway: AwsGateway, config: Config, caller: CallerIdentity, warnings: list[str]
) -> list[str]:
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
    say(f"spoke account {account}/{region}: {len(result)} VPCs")
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
        "warnings": list(inventory.warnings),
        "stats": {
            "seconds": inventory.stats.seconds,
            "api_calls": dict(inventory.stats.api_calls),
            "route53_calls_by_account": dict(inventory.stats.route53_calls_by_account),
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
    "inventory_to_json",
    "load_inventory",
    "map_zones_to_services",
    "routes_to_hub",
    "short_service",
]
