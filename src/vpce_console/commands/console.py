"""`vpce` / `vpce console`: the Textual console, read-only unless `--allow-write`.

Only the config is read before the first frame; the SDK, the services and (with `--lab`) the lab child are
started by the connector, which the app runs in a worker after it has painted.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Console options on top of the common target flags."""
    parser.add_argument(
        "--allow-write",
        action="store_true",
        help="enable actions that write to AWS (policy apply, roll back); default is read-only",
    )
    parser.add_argument("--theme", help="theme name: vpce-dark (default), vpce-light, vpce-high-contrast")
    parser.add_argument("--no-tail", action="store_true", help="do not follow the denial stream")
    parser.add_argument(
        "--no-trail", action="store_true", help="do not read the org trail (calls/denials columns, denial history)"
    )
    parser.add_argument(
        "--lab-propagation",
        metavar="MIN:MAX",
        help="with --lab: the lab's policy propagation window in seconds (e.g. 6:12 for a quick demo)",
    )


def make_connector(args: argparse.Namespace, *, read_only: bool) -> Any:
    """An async callable that builds the services backend (heavy imports happen when it runs)."""

    async def connect() -> Any:
        import asyncio

        from vpce_console.connect import connect as resolve

        # Both steps block (a lab child starting, aiobotocore/aiohttp importing): keep them off the event loop so
        # the first frame and the keyboard stay live meanwhile.
        config, target = await asyncio.to_thread(resolve, args)
        gateway_class = await asyncio.to_thread(_gateway_class)
        gateway = gateway_class(target, config)
        await gateway.__aenter__()
        return ServicesBackend(gateway, config, target, read_only=read_only)

    return connect


def _gateway_class() -> Any:
    """Import the AWS gateway (and with it the SDK)."""
    from vpce_console.aws.session import AwsGateway

    return AwsGateway


def run(args: argparse.Namespace) -> int:
    """Start the console; returns the app's exit code."""
    from vpce_console.config import load_config
    from vpce_console.tui.app import VpceApp

    config = load_config(getattr(args, "config", None))
    read_only = not (getattr(args, "allow_write", False) or config.allow_write)
    app = VpceApp(
        make_connector(args, read_only=read_only),
        read_only=read_only,
        theme=getattr(args, "theme", None) or config.tui.theme,
        keymap=dict(config.tui.keymap),
        tail=not getattr(args, "no_tail", False),
        trail=not getattr(args, "no_trail", False),
        watch_timeout=config.watch.timeout_seconds,
    )
    result = app.run()
    if app.return_code:  # a crash (App._fatal_error) exits non-zero after its one line and crash log
        return int(app.return_code)
    return int(result or 0)


# --- the services backend (composition root: the only place that hands the AWS gateway to the services) ---------


def _short_service(name: str) -> str:
    """`com.amazonaws.us-east-1.ecr.api` -> `ecr.api`."""
    parts = name.split(".")
    return ".".join(parts[3:]) if len(parts) > 3 and parts[0] == "com" else name


def _epoch(text: str | None) -> float:
    from datetime import datetime

    if not text:
        return 0.0
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class ServicesBackend:
    """The console's backend over the real services; every method is called from a worker, never a widget."""

    def __init__(
        self,
        gateway: Any,
        config: Any,
        target: Any,
        *,
        read_only: bool,
        tail_poll_seconds: float = 0.0,
        poll_seconds: float = 0.0,
    ) -> None:
        self.preloaded: Any = None
        """A snapshot to answer the next load with (set by tests that already read this lab)."""
        self.poll_seconds = poll_seconds
        """Propagation-watch poll interval (0: the config's)."""
        self.gateway = gateway
        self.config = config
        self.target = target
        self.read_only = read_only
        self.tail_poll_seconds = tail_poll_seconds or (1.0 if target.is_lab else 5.0)
        self.inventory: Any = None
        self.trail_window: str = config.trail.console_window
        """Window of the Endpoints pane's and the matrix's calls (any `--since` form: 7d, 24h, an ISO time)."""
        self.denial_window: str = config.trail.console_denials_window
        """Window of the Denials pane's backfill (`vpce denials`' default, 24h)."""
        self.replays: dict[tuple[str, str], Any] = {}
        """(endpoint id, draft text) -> the replay report, so the rollout's plan shows what the editor saw."""

    async def header(self) -> Any:
        """Caller identity for the header."""
        from vpce_console.tui.models import HeaderInfo

        caller = await self.gateway.caller_identity()
        return HeaderInfo(
            account_id=caller.account_id,
            region=self.gateway.region,
            caller_arn=caller.arn,
            read_only=self.read_only,
            is_lab=bool(self.target.is_lab),
            profile=self.target.profile,
        )

    async def load(self, progress: Any = None) -> Any:
        """Inventory, then doctor and cost on top of it, as one snapshot of view models."""
        from vpce_console.services.inventory import load_inventory

        def say(message: str) -> None:
            if progress is not None:
                progress(message, 0.5)

        if self.preloaded is not None:
            snapshot, self.preloaded = self.preloaded, None
            return snapshot
        # A LoadReporter takes the endpoint rows as soon as each hub's endpoints are read (Route 53 is slower).
        partial = getattr(progress, "endpoints", None)
        listed: dict[str, Any] = {}

        def endpoints_read(endpoints: Any) -> None:
            if partial is None:
                return
            for endpoint in endpoints:
                listed[endpoint.endpoint_id] = endpoint
            partial(partial_snapshot(tuple(listed.values())))

        inventory = await load_inventory(
            self.gateway, self.config, progress=say, on_endpoints=endpoints_read if partial is not None else None
        )
        self.inventory = inventory
        doctor = _doctor_findings(inventory, self.config)
        cost = _cost_rows(inventory, self.config)
        return build_snapshot(inventory, self.config, doctor, cost, self.target)

    async def rollout_context(self, service: str | None = None) -> Any:
        """Collaborators of one rollout, built by the same function as the CLI's (personas, probes, journal)."""
        from vpce_console.commands.rollout import build_context
        from vpce_console.services.personas import zone_vpcs_of

        zone_vpcs = zone_vpcs_of(self.inventory) if self.inventory is not None else None
        return await build_context(
            self.gateway,
            self.config,
            self.target,
            services=(service,) if service else None,
            zone_vpcs=zone_vpcs,
        )

    def endpoint_lease(self, endpoint_id: str, holder: str) -> Any:
        """The one-writer lease a console write holds (services/lease.py)."""
        from vpce_console.services.lease import EndpointLease

        return EndpointLease(self.gateway, endpoint_id, account_id=None, holder=holder)

    def _service_of(self, endpoint_id: str) -> str | None:
        if self.inventory is None:
            return None
        return next((e.service for e in self.inventory.endpoints if e.endpoint_id == endpoint_id), None)

    async def plan(self, endpoint_id: str, draft: str, expected: str | None = None) -> Any:
        """The rollout plan (`services.plan.RolloutPlan`) for a draft, without writing anything."""
        from vpce_console.services.rollout import Rollout

        rollout = Rollout(await self.rollout_context(self._service_of(endpoint_id)))
        try:
            return await rollout.plan(endpoint_id, draft, base_text=expected)
        finally:
            await rollout.close()

    async def rollback_plan(self, endpoint_id: str, to: str | None = None) -> Any:
        """What a rollback would restore (`RolloutPlan`; `refused` says why not), without writing anything."""
        from vpce_console.services.rollout import Rollout

        rollout = Rollout(await self.rollout_context(self._service_of(endpoint_id)))
        try:
            return await rollout.rollback_plan(endpoint_id, to=to)
        finally:
            await rollout.close()

    def watch_options(self, endpoint_id: str, text: str, base: str | None, timeout: float | None) -> Any:
        """The rollout options the console uses: the config's watch settings (tests shorten the poll)."""
        from vpce_console.services.rollout import RolloutOptions

        watch = self.config.watch
        return RolloutOptions(
            endpoint_id=endpoint_id,
            policy_text=text,
            base_text=base,
            poll_seconds=self.poll_seconds or watch.poll_seconds,
            timeout_seconds=timeout if timeout is not None else watch.timeout_seconds,
            required_streak=watch.required_streak,
            propagation_window_seconds=watch.propagation_window_seconds,
        )

    async def _views(self, what: str, run: Any, endpoint_id: str) -> Any:
        """Run one rollout-service call and turn its events into views, one per step and watch round.

        `run(rollout, emit)` drives the service; events arrive through a queue so this generator yields them as
        they happen, and the closing view comes from the `RolloutSummary` it returns.
        """
        import asyncio

        from vpce_console.errors import UsageError
        from vpce_console.services.rollout import Rollout, RolloutSummary
        from vpce_console.tui.rollout_tracker import RolloutTracker

        if self.read_only and what != "watch":  # resuming a watch writes only to the local journal
            raise UsageError(f"read-only mode: start the console with --allow-write to {what}")
        caller = await self.gateway.caller_identity()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        service = self._service_of(endpoint_id) if endpoint_id else None
        rollout = Rollout(await self.rollout_context(service), queue.put_nowait)

        async def drive() -> None:
            try:
                if what == "watch":  # resuming only watches: no lease
                    queue.put_nowait(await run(rollout))
                else:  # a write holds the endpoint's lease from before the dry run to the end of the watch
                    from vpce_console.services.lease import run_leased

                    lease = self.endpoint_lease(endpoint_id, caller.arn)
                    queue.put_nowait(await run_leased(lease, rollout, lambda: run(rollout)))
            except BaseException as exc:
                queue.put_nowait(exc)
            finally:
                await rollout.close()

        task = asyncio.create_task(drive())
        tracker = RolloutTracker()
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, RolloutSummary):
                    yield tracker.finish(item)
                    return
                yield tracker.event(item)
        finally:
            if not task.done():
                task.cancel()
                # wait (bounded) for it to close its journal entry and lease: the next change may start at once
                await asyncio.wait([task], timeout=10.0)

    def rollout(self, endpoint_id: str, expected: str | None, draft: str, *, timeout: float | None = None) -> Any:
        """Write `draft` (compare-and-swap against `expected`) and watch it propagate, as views."""
        opts = self.watch_options(endpoint_id, draft, expected, timeout)
        return self._views("apply", lambda rollout: rollout.apply(opts), endpoint_id)

    def rollback(self, endpoint_id: str, *, to: str | None = None, timeout: float | None = None) -> Any:
        """Restore the document in force before change `to`, then watch it like a rollout, as views."""
        opts = self.watch_options(endpoint_id, "", None, timeout)

        def run(rollout: Any) -> Any:
            # services.journal.rollback_target decides which document; the service watches it like a rollout
            return rollout.rollback(endpoint_id, to=to, opts=opts, reason="rolled back from the console")

        return self._views("roll back", run, endpoint_id)

    def resume(self, endpoint_id: str, *, timeout: float | None = None) -> Any:
        """Watch an unfinished change that is live on the endpoint, as views."""
        opts = self.watch_options(endpoint_id, "", None, timeout)
        return self._views("watch", lambda rollout: rollout.resume(opts), endpoint_id)

    async def replay(self, endpoint_id: str, draft: str, *, days: int = 7) -> Any:
        """The draft replayed against the endpoint's last `days` of trail calls (ReplayReport.to_json())."""
        from datetime import UTC, datetime, timedelta

        from vpce_console.policy.partial import compile_partial
        from vpce_console.services.replay import run_replay

        now = datetime.now(UTC)
        report = await run_replay(
            self.gateway,
            self.config,
            endpoint_id,
            compile_partial(draft),
            since=now - timedelta(days=days),
            now=now,
            engine=self.config.trail.engine,
            default_region=self.gateway.region,
            inventory=self.inventory,
        )
        doc = report.to_json()
        self.replays[(endpoint_id, draft)] = doc
        if len(self.replays) > 16:
            self.replays.pop(next(iter(self.replays)))
        return doc

    def replay_facts(self) -> Any:
        """What replay may take as known beyond a trail record (`replay:` config): org ids, role tags."""
        return self.config.replay.context_map()

    def probe_roles(self) -> dict[str, str]:
        """Configured probe name -> role ARN (the watch's own calls, told apart from real callers' denials)."""
        return {p.name: p.role_arn for p in self.config.probes}

    def cached_replay(self, endpoint_id: str, draft: str) -> Any:
        """The last replay of exactly this draft on this endpoint (what the editor's Observed tab showed), or None."""
        return self.replays.get((endpoint_id, draft))

    async def _trail_answer(self, by: str, window: str, *, denied_only: bool, progress: Any) -> Any:
        """One trail question over `window`, asked exactly as `vpce usage`/`vpce denials` ask it (same scope)."""
        from datetime import UTC, datetime

        from vpce_console.commands._trail_run import scope
        from vpce_console.services.trail import ask_athena, ask_local, parse_since
        from vpce_console.services.trail_sql import Question

        trail = self.config.trail
        caller = self.inventory.caller.account_id if self.inventory is not None else None
        if caller is None and not (trail.accounts or any(h.account_id for h in self.config.hubs)):
            caller = (await self.gateway.caller_identity()).account_id
        accounts, regions = scope(self.config, self.target, caller)
        question = Question(
            by, parse_since(window, datetime.now(UTC)), (), denied_only, tuple(accounts), tuple(regions)
        )

        def say(message: str) -> None:
            if progress is not None:
                progress(message, 0.5)

        if trail.engine == "athena":
            return await ask_athena(self.gateway, trail, question, progress=say)
        return await ask_local(self.gateway, trail, question, accounts=accounts, regions=regions, progress=say)

    async def trail_usage(self, progress: Any = None) -> Any:
        """Calls and denials per endpoint and per spoke × service over the trail window (`vpce usage --by vpc`)."""
        from vpce_console.services.trail import IpMap, map_vpcs, networks_from_inventory
        from vpce_console.tui.models import NO_TRAIL, TrailUsage, Usage

        if not self.config.trail.bucket:
            return TrailUsage("off", self.trail_window, note=NO_TRAIL)
        if self.inventory is None:  # a preloaded first snapshot: source IPs need the inventory's CIDRs
            from vpce_console.services.inventory import load_inventory

            self.inventory = await load_inventory(self.gateway, self.config)
        answer = await self._trail_answer("vpc", self.trail_window, denied_only=False, progress=progress)
        endpoints: dict[str, Usage] = {}
        for row in answer.rows:
            old = endpoints.get(row.endpoint_id, Usage(0, 0))
            endpoints[row.endpoint_id] = Usage(
                old.calls + row.calls, old.denials + row.denials, max(old.last_seen, row.last_seen)
            )
        cells: dict[tuple[str, str], Usage] = {}
        if self.inventory is not None:
            service_of = {e.endpoint_id: e.service for e in self.inventory.endpoints}
            for row in map_vpcs(answer.rows, IpMap(networks_from_inventory(self.inventory))):
                service = service_of.get(row.endpoint_id)
                if service is None or row.detail.get("account_id") == "unknown":
                    continue  # another account's endpoint, or an IP outside every known CIDR (`vpce usage` names it)
                key = (row.key[0], service)
                old = cells.get(key, Usage(0, 0))
                cells[key] = Usage(old.calls + row.calls, old.denials + row.denials, max(old.last_seen, row.last_seen))
        return TrailUsage(
            "ok",
            self.trail_window,
            since=answer.question.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            endpoints=endpoints,
            cells=cells,
            records=answer.records_in_window,
            skipped=skip_lines(answer),
            note=answer_note(answer),
        )

    async def denial_history(self, progress: Any = None) -> Any:
        """The last `denial_window` of denials from the trail, grouped by who and what (the Denials pane's backfill)."""
        from vpce_console.tui.models import NO_TRAIL, DenialHistory, DenialRow

        if not self.config.trail.bucket:
            return DenialHistory("off", self.denial_window, note=NO_TRAIL)
        answer = await self._trail_answer("denial", self.denial_window, denied_only=True, progress=progress)
        service_of = {e.endpoint_id: e.service for e in self.inventory.endpoints} if self.inventory is not None else {}
        rows = []
        for row in answer.rows:
            account, principal, source, action = row.key
            service = service_of.get(row.endpoint_id) or source.split(".")[0]
            rows.append(
                DenialRow(
                    at=_epoch(row.last_seen),
                    endpoint_id=row.endpoint_id,
                    service=service,
                    account_id=account or "-",
                    principal=principal or "(redacted)",
                    action=f"{source.split('.')[0]}:{action}",
                    reason="VpceAccessDenied",
                    message=f"{row.denials} denial(s) from {row.first_seen} to {row.last_seen} (org trail)",
                    raw={
                        "history": True,
                        "endpoint_id": row.endpoint_id,
                        "account_id": account,
                        "principal": principal,
                        "event_source": source,
                        "event_name": action,
                        "denials": row.denials,
                        "first_seen": row.first_seen,
                        "last_seen": row.last_seen,
                    },
                    count=row.denials,
                    history=True,
                )
            )
        rows.sort(key=lambda r: -r.at)
        return DenialHistory(
            "ok", self.denial_window, tuple(rows), skipped=skip_lines(answer), note=answer_note(answer)
        )

    async def history(self, endpoint_id: str | None = None) -> Any:
        """The change journal as rows (a local file read, off the event loop)."""
        import asyncio

        from vpce_console.services.journal import Journal

        entries = await asyncio.to_thread(Journal().entries, endpoint_id)
        return tuple(change_row(e) for e in entries)

    async def tail(self) -> Any:
        """Classified denials from the CloudTrail log groups, in batches, forever."""
        import functools
        import time

        from vpce_console.aws.logs import filter_log_events
        from vpce_console.services.tail import DenialTail, PolicyVersions, denial_filter_pattern, follow_log_groups

        groups = tuple(self.config.tail.log_groups)
        if not groups:
            return
        # the same version attribution as `vpce tail --follow`: journal writes at once, others' via LookupEvents
        versions = PolicyVersions(self.gateway, lookup_seconds=5.0 if self.target.is_lab else 60.0)
        await versions.start(time.time() - 900)
        tail = DenialTail(ring_size=self.config.tail.ring_size, timeline=versions.timeline)
        baselined = False
        fetch = functools.partial(filter_log_events, self.gateway)
        records = follow_log_groups(
            fetch,
            groups,
            denial_filter_pattern(),
            start_ms=int((time.time() - 900) * 1000),
            follow=True,
            poll_seconds=self.tail_poll_seconds,
            clock_ms=lambda: int(time.time() * 1000),
        )
        async for record in records:
            if not baselined and self.inventory is not None:  # the deployed documents: the floor of each timeline
                for endpoint in self.inventory.endpoints:
                    versions.add_baseline(endpoint.endpoint_id, endpoint.policy_text)
                baselined = True
            await versions.refresh()
            denial = tail.ingest(record)
            if denial is not None:
                yield [denial_row(denial)]

    async def close(self) -> None:
        """Close the gateway's clients (a lab child stops with the process)."""
        await self.gateway.close()


def skip_lines(answer: Any) -> tuple[str, ...]:
    """What an answer left out, in the CLI's words (`skipped 3 objects: truncated or corrupt gzip`)."""
    return tuple(f"skipped {s.count} {s.what}: {s.reason}" for s in answer.skipped)


def answer_note(answer: Any) -> str:
    """The engine's summary line: records read, the sync or the Athena scan."""
    sync = answer.sync
    how = (
        f"synced {sync.downloaded} of {sync.listed} objects in {sync.seconds:.1f} s"
        if sync is not None
        else f"athena {(answer.scanned_bytes or 0) / 1e6:.1f} MB scanned, ~${answer.athena_cost_usd or 0.0:.6f}"
    )
    since = f"{answer.question.since:%Y-%m-%d %H:%M}"
    return f"{answer.records_in_window:,} records since {since} UTC ({answer.engine}, {how})"


def denial_row(denial: Any) -> Any:
    """A tail `Denial` as the denials pane shows it."""
    from vpce_console.tui.models import DenialRow

    return DenialRow(
        at=_epoch(denial.event_time),
        endpoint_id=denial.endpoint_id or "-",
        service=denial.service,
        account_id=denial.account_id or "-",
        principal=denial.principal or "(redacted)",
        action=f"{denial.service}:{denial.event_name}",
        reason=denial.reason,
        policy_version=denial.policy_version or "",
        message=denial.error_message,
        raw=denial.to_row(),
    )


def change_row(entry: Any) -> Any:
    """A journal entry as the history pane and the rollout screen show it."""
    from vpce_console.tui.models import ChangeRow

    return ChangeRow(
        journal_id=entry.journal_id,
        kind=entry.kind,
        endpoint_id=entry.endpoint_id,
        started_at=entry.started_at,
        outcome=entry.outcome or "unfinished",
        before_version=entry.before_sha256[:12],
        after_version=entry.after_sha256[:12],
        after_sha256=entry.after_sha256,
        written=entry.written_at is not None,
        rollback_of=entry.rollback_of,
        caller=str(entry.caller.get("arn", "")) if hasattr(entry.caller, "get") else "",
        before_text=entry.before_text,
    )


def _doctor_findings(inventory: Any, config: Any) -> list[Any]:
    """The doctor's findings (pure)."""
    from vpce_console.services.doctor import diagnose

    return list(diagnose(inventory, config))


def _cost_rows(inventory: Any, config: Any) -> Any:
    """The cost report with the config's price overrides (pure)."""
    from vpce_console.services.cost import cost_report, prices_for

    return cost_report(inventory, prices_for(config.prices), metrics_window_hours=config.aws.metrics_hours)


def build_snapshot(inventory: Any, config: Any, doctor: list[Any], cost: Any, target: Any) -> Any:
    """Translate the services' results into the console's view models."""
    from vpce_console.services.inventory import LintSummary
    from vpce_console.tui.models import Snapshot, SpokeRow, SubscriberCell

    hub_vpcs = set(inventory.hub_vpc_ids)
    endpoints = []
    for e in inventory.endpoints:
        lint = inventory.lint.get(e.endpoint_id, LintSummary())
        zones = inventory.zones_for(e.service)
        row = _endpoint_row(e, lint, zones, len(inventory.subscriber_vpc_ids(e.service)))
        carriers = [
            p
            for p in inventory.profiles
            if e.endpoint_id in p.endpoint_ids or set(p.zone_ids) & {z.zone_id for z in zones}
        ]
        if carriers:
            extra = tuple(
                (
                    "Route 53 Profile",
                    f"{p.label} owned by {p.owner_id}: "
                    f"{'endpoint private DNS' if e.endpoint_id in p.endpoint_ids else 'zone'}, "
                    f"{len(inventory.profile_vpcs(p.profile_id))} VPCs",
                )
                for p in carriers
            )
            row = replace(row, details=row.details + extra)
        endpoints.append(row)
    env_tag = config.environment_tag
    spokes = tuple(
        SpokeRow(s.account_id, s.vpc_id, s.name or s.vpc_id, s.tags.get(env_tag, "-")) for s in inventory.spokes
    )
    services = tuple(sorted({e.service for e in inventory.endpoints}))
    doctor_rows = tuple(_doctor_row(f) for f in doctor)
    cells = []
    forbidden = config.forbidden_selectors
    for spoke in inventory.spokes:
        associated = set(inventory.services_of(spoke.vpc_id))
        env = spoke.tags.get(env_tag)
        expected = set(config.expected_services.get(env, ())) if env else set()
        is_forbidden = any(sel.matches(spoke.vpc_id, spoke.tags) for sel in forbidden)
        for service in services:
            codes = tuple(f.code for f in doctor_rows if f.vpc_id == spoke.vpc_id and f.service in (None, service))
            if service in associated:
                status = "forbidden" if is_forbidden else "associated"
            elif service in expected and not is_forbidden:
                status = "missing"
            else:
                status = "none"
            if "phz-forbidden-association" in codes:
                status = "forbidden"
            elif {"phz-missing-association", "profile-missing-zone"} & set(codes) and service not in associated:
                status = "missing"
            elif "phz-stale-association" in codes:
                status = "stale"
            sub = inventory.subscription(spoke.vpc_id, service)
            path = sub.path if service in associated else ""
            profile = sub.profile.label if sub.profile is not None and service in associated else ""
            cells.append(SubscriberCell(spoke.vpc_id, service, status, codes, path, profile))
    known = {s.vpc_id for s in inventory.spokes} | hub_vpcs
    stale_rows = []
    for zone in inventory.zones:
        service = inventory.zone_services.get(zone.zone_id)
        for v in zone.vpcs:
            if v.vpc_id not in known and service:
                cells.append(SubscriberCell(v.vpc_id, service, "stale", ("phz-stale-association",)))
                stale_rows.append(SpokeRow("?", v.vpc_id, "(unknown VPC)", "?"))
    spokes = spokes + tuple({row.vpc_id: row for row in stale_rows}.values())
    cost_rows = tuple(_cost_row(r) for r in (cost.services if cost is not None else ()))
    persona_set = _persona_set(target, config, inventory)
    personas, hub = persona_set.personas, persona_set.hub
    return Snapshot(
        endpoints=tuple(endpoints),
        spokes=spokes,
        services=services,
        cells=tuple(cells),
        doctor=doctor_rows,
        cost=cost_rows,
        hub=hub,
        personas=personas,
        persona_set=persona_set,
    )


def partial_snapshot(endpoints: Any) -> Any:
    """Endpoint rows only, before zones, spokes and lint are known (the pane shows those cells as unknown)."""
    from vpce_console.services.inventory import LintSummary
    from vpce_console.tui.models import Snapshot

    return Snapshot(endpoints=tuple(_endpoint_row(e, LintSummary(), (), 0) for e in endpoints))


def _endpoint_row(e: Any, lint: Any, zones: Any, subscribers: int) -> Any:
    """One inventory endpoint as the Endpoints pane's row, with its details lines."""
    from vpce_console.services.inventory import is_default_policy
    from vpce_console.tui.models import EndpointRow, FindingCounts

    details: list[tuple[str, str]] = []
    for eni in e.enis:
        details.append(("ENI", f"{eni.eni_id} {eni.availability_zone or '?'} {eni.private_ip or '?'}"))
    for name in e.dns_names:
        details.append(("DNS", name))
    for group in e.security_groups:
        cidrs = ", ".join(group.https_cidrs) or "none"
        details.append(("SG rule", f"{group.group_id} ({group.name}) 443 from {cidrs}"))
    for zone in zones:
        count = len(zone.vpcs)
        details.append(("Hosted zone", f"{zone.zone_id} {zone.name} ({count} {'VPC' if count == 1 else 'VPCs'})"))
    if lint.codes:
        details.append(("Lint", ", ".join(lint.codes)))
    value = e.bytes_processed
    return EndpointRow(
        endpoint_id=e.endpoint_id,
        service=e.service,
        service_name=e.service_name,
        state=e.state,
        vpc_id=e.vpc_id,
        azs=tuple(e.availability_zones),
        security_groups=tuple(g.group_id for g in e.security_groups),
        private_dns=bool(e.private_dns_enabled),
        policy_text=e.policy_text,
        policy_custom=not is_default_policy(e.policy_text),
        findings=FindingCounts(lint.errors, lint.warnings, lint.infos),
        subscribers=subscribers,
        bytes_24h=tuple(e.bytes_hourly),
        bytes_total=None if value is None else float(value),
        account_id=e.account_id,
        details=tuple(details),
    )


def _doctor_row(finding: Any) -> Any:
    """A DoctorFinding as the doctor pane shows it, with the catalog's consequence as the explanation."""
    from vpce_console.services.doctor import catalog
    from vpce_console.tui.models import DoctorRow

    entry = catalog().get(finding.code)
    return DoctorRow(
        code=finding.code,
        severity=finding.severity,
        message=finding.message,
        hint=finding.hint,
        explanation=entry.consequence if entry is not None else "",
        vpc_id=finding.vpc_id,
        service=finding.service,
        endpoint_id=finding.endpoint_id,
        account_id=finding.account_id,
        vpc_name=finding.vpc_name,
        fix_commands=tuple(c.line for c in finding.fix_commands),
    )


def _cost_row(row: Any) -> Any:
    """A ServiceCost as the cost pane shows it."""
    from vpce_console.tui.models import CostRow

    return CostRow(
        service=row.service,
        spokes=row.subscribers,
        gb_month=row.gb_month,
        hub_monthly=row.centralized.total,
        per_vpc_monthly=row.per_vpc.total,
        nat_monthly=row.nat.total,
        break_even_gb=row.break_even_gb_per_spoke,
        verdict=row.verdict,
        gb_per_spoke=row.gb_per_spoke,
        verdict_note=row.verdict_note,
    )


def _persona_set(target: Any, config: Any, inventory: Any) -> Any:
    """The impact personas: the same selection as the CLI's (config `personas:`, the lab's, the demo set), with the
    inventory's zone associations deciding who reaches each endpoint."""
    from vpce_console.errors import UsageError
    from vpce_console.services.personas import select_personas, zone_vpcs_of

    zone_vpcs = zone_vpcs_of(inventory)
    ready = getattr(target, "lab_ready", None)
    try:
        return select_personas(lab_ready=ready, config=config, zone_vpcs=zone_vpcs)
    except UsageError:  # an unreadable config personas file: the CLI says why; the console falls back
        return select_personas(lab_ready=ready, zone_vpcs=zone_vpcs)
