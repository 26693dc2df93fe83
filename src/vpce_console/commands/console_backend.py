"""The console's backend over the real services: the one place that hands the AWS gateway to them for the TUI.

It implements `tui/backend.py`'s `Backend` (the replay and its lookups included); rows are built by
`tui/rows.py`, rollout events folded by `tui/rollout_tracker.py`. Every method runs in a worker, never a widget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from vpce_console.policy.vocab import FractionProgress
from vpce_console.tui.backend import ReplayDoc
from vpce_console.tui.models import (
    NO_TRAIL,
    ChangeRow,
    DenialHistory,
    DenialRow,
    HeaderInfo,
    Snapshot,
    TrailUsage,
    WatchView,
)
from vpce_console.tui.rows import (
    answer_note,
    build_snapshot,
    change_row,
    denial_row,
    history_rows,
    partial_snapshot,
    skip_lines,
    trail_usage,
)

if TYPE_CHECKING:
    from vpce_console.aws.models import Endpoint
    from vpce_console.aws.session import AwsGateway
    from vpce_console.config import Config
    from vpce_console.connect import Target
    from vpce_console.policy.record import ContextMap
    from vpce_console.readyfile import ReadyFile
    from vpce_console.services.inventory import Inventory
    from vpce_console.services.lease import EndpointLease
    from vpce_console.services.personas import PersonaSet
    from vpce_console.services.plan import RolloutPlan
    from vpce_console.services.rollout import Rollout, RolloutContext, RolloutOptions, RolloutSummary
    from vpce_console.services.rollout_events import RolloutEvent
    from vpce_console.services.trail_model import Answer


def console_personas(lab: ReadyFile | None, config: Config, inventory: Inventory) -> PersonaSet:
    """The impact personas: the CLI's selection (config `personas:`, the lab's, the demo set), with the inventory's
    zone associations deciding who reaches each endpoint; an unreadable personas file falls back (the CLI says why)."""
    from vpce_console.errors import UsageError
    from vpce_console.services.personas import select_personas, zone_vpcs_of

    zone_vpcs = zone_vpcs_of(inventory)
    try:
        return select_personas(lab=lab, config=config, zone_vpcs=zone_vpcs)
    except UsageError:
        return select_personas(lab=lab, zone_vpcs=zone_vpcs)


class ServicesBackend:
    """The console's backend over the real services (`tui.backend.Backend`)."""

    def __init__(
        self,
        gateway: AwsGateway,
        config: Config,
        target: Target,
        *,
        read_only: bool,
        tail_poll_seconds: float = 0.0,
        poll_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
        lab: ReadyFile | None = None,
    ) -> None:
        self.poll_seconds = poll_seconds
        """Propagation-watch poll interval (0: the config's)."""
        self.gateway = gateway
        self.config = config
        self.target = target
        self.lab = lab
        """The lab's ready-file (its personas and their keys), None on AWS."""
        self.read_only = read_only
        self.clock = clock
        self.tail_poll_seconds = tail_poll_seconds or (1.0 if target.is_lab else 5.0)
        self.inventory: Inventory | None = None
        self.trail_window: str = config.trail.console_window
        """Window of the Endpoints pane's and the matrix's calls (any `--since` form: 7d, 24h, an ISO time)."""
        self.denial_window: str = config.trail.console_denials_window
        """Window of the Denials pane's backfill (`vpce denials`' default, 24h)."""
        self.replays: dict[tuple[str, str], ReplayDoc] = {}
        """(endpoint id, draft text) -> the replay report, so the rollout's plan shows what the editor saw."""

    async def header(self) -> HeaderInfo:
        """Caller identity for the header."""
        caller = await self.gateway.caller_identity()
        return HeaderInfo(
            account_id=caller.account_id,
            region=self.gateway.region,
            caller_arn=caller.arn,
            read_only=self.read_only,
            is_lab=bool(self.target.is_lab),
            profile=self.target.profile,
        )

    async def load(self, progress: FractionProgress | None = None) -> Snapshot:
        """Inventory, then doctor and cost on top of it, as one snapshot of view models."""
        from vpce_console.services.cost import cost_report, prices_for
        from vpce_console.services.doctor import diagnose
        from vpce_console.services.inventory import load_inventory

        def say(message: str) -> None:
            if progress is not None:
                progress(message, 0.5)

        # A LoadReporter takes the endpoint rows as soon as each hub's endpoints are read (Route 53 is slower).
        partial = getattr(progress, "endpoints", None)
        listed: dict[str, Endpoint] = {}

        def endpoints_read(endpoints: Sequence[Endpoint]) -> None:
            if partial is None:
                return
            for endpoint in endpoints:
                listed[endpoint.endpoint_id] = endpoint
            partial(partial_snapshot(tuple(listed.values())))

        inventory = await load_inventory(
            self.gateway, self.config, progress=say, on_endpoints=endpoints_read if partial is not None else None
        )
        self.inventory = inventory
        config = self.config
        doctor = list(diagnose(inventory, config))
        cost = cost_report(inventory, prices_for(config.prices), metrics_window_hours=config.aws.metrics_hours)
        return build_snapshot(inventory, config, doctor, cost, console_personas(self.lab, config, inventory))

    async def rollout_context(self, service: str | None = None) -> RolloutContext:
        """Collaborators of one rollout, built by the same function as the CLI's (personas, probes, journal)."""
        from vpce_console.commands.rollout import build_context
        from vpce_console.services.personas import zone_vpcs_of

        zone_vpcs = zone_vpcs_of(self.inventory) if self.inventory is not None else None
        context: RolloutContext = await build_context(
            self.gateway,
            self.config,
            self.target,
            lab=self.lab,
            services=(service,) if service else None,
            zone_vpcs=zone_vpcs,
        )
        return context

    def endpoint_lease(self, endpoint_id: str, holder: str, break_token: str | None = None) -> EndpointLease:
        """The one-writer lease a console write holds (services/lease.py); `break_token` is a stale lease's id the
        person typed, which breaks that one lease."""
        from vpce_console.services.lease import EndpointLease

        return EndpointLease(self.gateway, endpoint_id, account_id=None, holder=holder, break_token=break_token)

    def _service_of(self, endpoint_id: str) -> str | None:
        if self.inventory is None:
            return None
        return next((e.service for e in self.inventory.endpoints if e.endpoint_id == endpoint_id), None)

    async def plan(self, endpoint_id: str, draft: str, expected: str | None = None) -> RolloutPlan:
        """The rollout plan for a draft, without writing anything."""
        from vpce_console.services.rollout import Rollout

        rollout = Rollout(await self.rollout_context(self._service_of(endpoint_id)))
        rollout.observed_callers = self.observed_callers(endpoint_id, draft)
        try:
            return await rollout.plan(endpoint_id, draft, base_text=expected)
        finally:
            await rollout.close()

    async def rollback_plan(self, endpoint_id: str, to: str | None = None) -> RolloutPlan:
        """What a rollback would restore (`refused` says why not), without writing anything."""
        from vpce_console.services.rollout import Rollout

        rollout = Rollout(await self.rollout_context(self._service_of(endpoint_id)))
        try:
            return await rollout.rollback_plan(endpoint_id, to=to)
        finally:
            await rollout.close()

    def watch_options(self, endpoint_id: str, text: str, base: str | None, timeout: float | None) -> RolloutOptions:
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

    async def _views(
        self,
        what: str,
        run: Callable[[Rollout], Awaitable[RolloutSummary]],
        endpoint_id: str,
        break_lease: str | None = None,
    ) -> AsyncIterator[WatchView]:
        """Run one rollout-service call and turn its events into views, one per step and watch round.

        `run(rollout)` drives the service; events arrive through a queue so this generator yields them as they
        happen, and the closing view comes from the `RolloutSummary` it returns.
        """
        from vpce_console.errors import UsageError
        from vpce_console.services.rollout import Rollout, RolloutSummary
        from vpce_console.tui.rollout_tracker import RolloutTracker

        if self.read_only and what != "watch":  # resuming a watch writes only to the local journal
            raise UsageError(f"read-only mode: start the console with --allow-write to {what}")
        caller = await self.gateway.caller_identity()
        queue: asyncio.Queue[RolloutEvent | RolloutSummary | BaseException] = asyncio.Queue()
        service = self._service_of(endpoint_id) if endpoint_id else None
        rollout = Rollout(await self.rollout_context(service), queue.put_nowait)

        async def drive() -> None:
            try:
                if what == "watch":  # resuming only watches: no lease
                    queue.put_nowait(await run(rollout))
                else:  # a write holds the endpoint's lease from before the dry run to the end of the watch
                    from vpce_console.services.lease import run_leased

                    lease = self.endpoint_lease(endpoint_id, caller.arn, break_lease)
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

    def rollout(
        self,
        endpoint_id: str,
        expected: str | None,
        draft: str,
        *,
        timeout: float | None = None,
        break_lease: str | None = None,
    ) -> AsyncIterator[WatchView]:
        """Write `draft` (compare-and-swap against `expected`) and watch it propagate, as views."""
        opts = self.watch_options(endpoint_id, draft, expected, timeout)
        callers = self.observed_callers(endpoint_id, draft)

        def run(rollout: Rollout) -> Awaitable[RolloutSummary]:
            rollout.observed_callers = callers  # the plan step's replay: its heaviest callers are probed as themselves
            return rollout.apply(opts)

        return self._views("apply", run, endpoint_id, break_lease)

    def rollback(
        self,
        endpoint_id: str,
        *,
        to: str | None = None,
        timeout: float | None = None,
        break_lease: str | None = None,
    ) -> AsyncIterator[WatchView]:
        """Restore the document in force before change `to`, then watch it like a rollout, as views."""
        opts = self.watch_options(endpoint_id, "", None, timeout)

        def run(rollout: Rollout) -> Awaitable[RolloutSummary]:
            # services.journal.rollback_target decides which document; the service watches it like a rollout
            return rollout.rollback(endpoint_id, to=to, opts=opts, reason="rolled back from the console")

        return self._views("roll back", run, endpoint_id, break_lease)

    def resume(self, endpoint_id: str, *, timeout: float | None = None) -> AsyncIterator[WatchView]:
        """Watch an unfinished change that is live on the endpoint, as views."""
        opts = self.watch_options(endpoint_id, "", None, timeout)
        return self._views("watch", lambda rollout: rollout.resume(opts), endpoint_id)

    async def replay(self, endpoint_id: str, draft: str, *, days: int = 7) -> ReplayDoc:
        """The draft replayed against the endpoint's last `days` of trail calls (ReplayReport.to_json())."""
        from vpce_console.policy.partial import compile_partial
        from vpce_console.services.replay import run_replay

        now = datetime.fromtimestamp(self.clock(), UTC)
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
        doc: ReplayDoc = report.to_json()
        self.replays[(endpoint_id, draft)] = doc
        if len(self.replays) > 16:
            self.replays.pop(next(iter(self.replays)))
        return doc

    def replay_facts(self) -> ContextMap:
        """What replay may take as known beyond a trail record (`replay:` config): org ids, role tags."""
        facts: ContextMap = self.config.replay.context_map()
        return facts

    def probe_roles(self) -> dict[str, str]:
        """Configured probe name -> role ARN (the watch's own calls, told apart from real callers' denials)."""
        return {p.name: p.role_arn for p in self.config.probes}

    def cached_replay(self, endpoint_id: str, draft: str) -> ReplayDoc | None:
        """The last replay of exactly this draft on this endpoint (what the editor's Observed tab showed), or None."""
        return self.replays.get((endpoint_id, draft))

    def observed_callers(self, endpoint_id: str, draft: str) -> list[ReplayDoc]:
        """The heaviest callers of this draft's replay (none before one ran): the plan probes as them where it can."""
        doc = self.replays.get((endpoint_id, draft))
        callers = doc.get("callers") if doc else None
        return [c for c in callers if isinstance(c, dict)] if isinstance(callers, list) else []

    async def _trail_answer(
        self, by: str, window: str, *, denied_only: bool, progress: FractionProgress | None
    ) -> Answer:
        """One trail question over `window`, asked exactly as `vpce usage`/`vpce denials` ask it (same scope)."""
        from vpce_console.commands._trail_run import scope
        from vpce_console.services.trail import ask_athena, ask_local, parse_since
        from vpce_console.services.trail_sql import Question

        trail = self.config.trail
        caller = self.inventory.caller.account_id if self.inventory is not None else None
        if caller is None and not (trail.accounts or any(h.account_id for h in self.config.hubs)):
            caller = (await self.gateway.caller_identity()).account_id
        accounts, regions = scope(self.config, self.target, caller)
        now = datetime.fromtimestamp(self.clock(), UTC)
        question = Question(by, parse_since(window, now), (), denied_only, tuple(accounts), tuple(regions))

        def say(message: str) -> None:
            if progress is not None:
                progress(message, 0.5)

        if trail.engine == "athena":
            return await ask_athena(self.gateway, trail, question, progress=say)
        return await ask_local(self.gateway, trail, question, accounts=accounts, regions=regions, progress=say)

    async def trail_usage(self, progress: FractionProgress | None = None) -> TrailUsage:
        """Calls and denials per endpoint and per spoke × service over the trail window (`vpce usage --by vpc`)."""
        if not self.config.trail.bucket:
            return TrailUsage("off", self.trail_window, note=NO_TRAIL)
        if self.inventory is None:  # no load yet (a test served the first snapshot): source IPs need the CIDRs
            from vpce_console.services.inventory import load_inventory

            self.inventory = await load_inventory(self.gateway, self.config)
        answer = await self._trail_answer("vpc", self.trail_window, denied_only=False, progress=progress)
        return trail_usage(answer, self.trail_window, self.inventory)

    async def denial_history(self, progress: FractionProgress | None = None) -> DenialHistory:
        """The last `denial_window` of denials from the trail, grouped by who and what (the Denials pane's backfill)."""
        if not self.config.trail.bucket:
            return DenialHistory("off", self.denial_window, note=NO_TRAIL)
        answer = await self._trail_answer("denial", self.denial_window, denied_only=True, progress=progress)
        service_of = {e.endpoint_id: e.service for e in self.inventory.endpoints} if self.inventory is not None else {}
        rows = history_rows(answer, service_of)
        return DenialHistory("ok", self.denial_window, rows, skipped=skip_lines(answer), note=answer_note(answer))

    async def history(self, endpoint_id: str | None = None) -> tuple[ChangeRow, ...]:
        """The change journal as rows (a local file read, off the event loop)."""
        from vpce_console.services.journal import Journal

        entries = await asyncio.to_thread(Journal().entries, endpoint_id)
        return tuple(change_row(e) for e in entries)

    async def tail(self) -> AsyncIterator[Sequence[DenialRow]]:
        """Classified denials from the CloudTrail log groups (the last 15 minutes, then as they come), in batches."""
        from vpce_console.services.tail import DenialTail, PolicyVersions, denial_filter_pattern
        from vpce_console.services.tail_live import TailSource, denial_records

        groups = tuple(self.config.tail.log_groups)
        if not groups:
            return
        # the same version attribution as `vpce tail --follow`: journal writes at once, others' via LookupEvents
        versions = PolicyVersions(self.gateway, lookup_seconds=5.0 if self.target.is_lab else 60.0, clock=self.clock)
        since = self.clock() - 900
        await versions.start(since)
        tail = DenialTail(ring_size=self.config.tail.ring_size, timeline=versions.timeline)
        source = TailSource(groups, denial_filter_pattern(), since, follow=True, poll_seconds=self.tail_poll_seconds)
        baselined = False
        # versions are refreshed here, after the deployed documents became each timeline's floor
        async for record in denial_records(self.gateway, source, clock=self.clock):
            if not baselined and self.inventory is not None:
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
