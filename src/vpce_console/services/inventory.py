"""The hub inventory: endpoints, hosted zones, associations and spoke VPCs, read concurrently and politely.

`load_inventory` fans out over hubs and spoke accounts with `asyncio.gather`; the gateway's rate limiter
decides the actual pace (Route 53 5 req/s per account is the floor at scale). A spoke account that cannot be
read (role missing, access denied) becomes a warning, not a failure: the rest of the picture is still useful.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from vpce_console.aws import cloudwatch, ec2, ec2_vpcs, orgs, route53, route53profiles
from vpce_console.aws.models import (
    DnsProfile,
    Endpoint,
    HostedZone,
    ProfileAssociation,
    SpokeVpc,
    short_service,
)
from vpce_console.aws.session import AwsGateway, CallerIdentity
from vpce_console.config import Config
from vpce_console.errors import AwsError
from vpce_console.policy.vocab import Progress
from vpce_console.services.inventory_json import (
    endpoint_to_json,
    inventory_to_json,
    spoke_to_json,
)
from vpce_console.services.inventory_model import (
    Hub,
    Inventory,
    InventoryStats,
    LintSummary,
    Subscriber,
    Subscription,
    is_default_policy,
    lint_endpoint,
    map_zones_to_services,
    routes_to_hub,
    service_zone_names,
)

__all__ = [
    "Endpoint",
    "HostedZone",
    "Hub",
    "Inventory",
    "InventoryStats",
    "LintSummary",
    "Subscriber",
    "Subscription",
    "endpoint_to_json",
    "inventory_to_json",
    "is_default_policy",
    "lint_endpoint",
    "load_inventory",
    "map_zones_to_services",
    "read_profiles",
    "routes_to_hub",
    "service_zone_names",
    "short_service",
    "spoke_accounts_of",
    "spoke_to_json",
]


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
        vpcs_task = ec2_vpcs.hub_vpcs(gateway, vpc_ids, account_id=account, region=region)
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
            found = await ec2_vpcs.tgw_attachments(gateway, account_id=hub.account_id, region=hub.region)
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
        vpcs = await ec2_vpcs.spoke_vpcs(
            gateway, account_id=account, region=region, include_default=config.spokes.include_default_vpcs
        )

        async def with_dns(vpc: SpokeVpc) -> SpokeVpc:
            support, hostnames = await ec2_vpcs.vpc_dns_attributes(
                gateway, vpc.vpc_id, account_id=account, region=region
            )
            return replace(vpc, dns_support=support, dns_hostnames=hostnames)

        result = list(await asyncio.gather(*(with_dns(v) for v in vpcs)))
    except AwsError as exc:
        if exc.kind == "connection" or (exc.kind == "credentials" and exc.operation != "sts:AssumeRole"):
            raise
        warnings.append(f"account {account}: {exc}")
        return []
    say(f"spoke account {account}/{region}: {len(result)} VPC{'' if len(result) == 1 else 's'}")
    return result
