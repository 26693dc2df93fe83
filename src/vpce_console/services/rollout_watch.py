"""The propagation watch: probe rounds, passive CloudTrail evidence, superseded writes, the denial guard's trigger."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from vpce_console.errors import AwsError
from vpce_console.services.classify import ENDPOINT_REASONS, classify
from vpce_console.services.journal import sha256_text
from vpce_console.services.plan import UNOBSERVED_NOTE
from vpce_console.services.probes import (
    Probe,
    ProbeAnswer,
    outcome_of,
    passive_phase,
)
from vpce_console.services.watch import (
    ALLOW,
    EXPLICIT_DENY,
    INCONCLUSIVE,
    Observation,
    Phase,
    Watch,
    WatchReport,
    WatchStatus,
    phase_of,
)

if TYPE_CHECKING:
    from vpce_console.aws.writes import EndpointPolicy
    from vpce_console.services.plan import RolloutPlan
from vpce_console.services.rollout_base import RolloutBase
from vpce_console.services.rollout_events import (
    DenialRate,
    Flapping,
    NoProbes,
    PassiveEvidence,
    PassiveFailed,
    ProbeRound,
    ProbesChosen,
    StatusChanged,
    Superseded,
    Unreachable,
)
from vpce_console.services.rollout_model import (
    PASSIVE_PROBE,
    RolloutOptions,
    RolloutSummary,
    _blank_plan,
    _hub,
    _maybe_crash,
    _same_document,
)


class WatchSteps(RolloutBase):
    """The propagation watch."""

    async def _guard_rollback(
        self,
        journal_id: str,
        endpoint: EndpointPolicy,
        before: str,
        after: str,
        opts: RolloutOptions,
        report: WatchReport,
    ) -> RolloutSummary:
        """The denial guard rolls the change back: `RollbackSteps` provides it (a rollback is a rollout of its own)."""
        raise NotImplementedError

    async def watch(
        self,
        journal_id: str,
        endpoint: EndpointPolicy,
        before: str,
        after: str,
        written_at: float,
        opts: RolloutOptions,
        *,
        plan: RolloutPlan | None = None,
    ) -> RolloutSummary:
        """Watch until the new document is in force (or time runs out), then close the journal entry.

        With no discriminating probe the watch waits the propagation window (CloudTrail evidence may still prove
        a tightening change) and ends UNOBSERVED: the change is written, nobody could see it take effect.
        """
        if plan is None:  # a resumed watch: choose the probes again from the journaled documents
            caller = await self.ctx.gateway.caller_identity()
            hub = _hub(endpoint, caller.account_id, self.ctx.gateway.region)
            plan = self._analyse(_blank_plan(endpoint, caller.arn, before, after), before, after, endpoint.service, hub)
        else:
            caller = await self.ctx.gateway.caller_identity()
            hub = _hub(endpoint, caller.account_id, self.ctx.gateway.region)
        probes = list(plan.probes)
        journal = self.ctx.journal
        journal.step(journal_id, "watch", "started", probes=len(probes))
        wait_window = min(opts.propagation_window_seconds, opts.timeout_seconds)
        # CloudTrail can only show calls that become denied; it arrives minutes late, so it gets the whole watch
        passive = bool(self.ctx.log_groups) and (bool(plan.newly_denied) or not plan.personas)
        if not probes and passive:
            wait_window = opts.timeout_seconds
        if probes:
            self.emit(
                ProbesChosen(
                    count=len(probes), evaluated=getattr(self, "_evaluated", len(probes)), probes=tuple(probes)
                )
            )
            mode = "probes"
        else:
            mode = "passive" if passive else "none"
            self.emit(
                NoProbes(
                    evaluated=getattr(self, "_evaluated", 0),
                    window_seconds=wait_window,
                    message="this change only affects workloads this machine cannot act as; "
                    + UNOBSERVED_NOTE
                    + ("; CloudTrail VpceAccessDenied evidence can still prove a newly denied call" if passive else ""),
                )
            )
        watch = Watch(
            tuple(p.watch_probe() for p in probes) if probes else ((PASSIVE_PROBE,) if mode == "passive" else ()),
            applied_at=written_at,
            deadline=opts.timeout_seconds,
            required_streak=opts.required_streak,
        )
        settle = opts.settle_seconds if opts.settle_seconds is not None else 2 * opts.poll_seconds
        if opts.rollback_on_denials is not None:
            settle = max(settle, opts.guard_seconds)
        observations: list[Observation] = []
        passive_cursor = {"start_ms": int(written_at * 1000), "seen": set()}
        compiled: tuple[Any, Any] | None = None
        if mode == "passive" or opts.rollback_on_denials is not None:
            from vpce_console.services.probes import compile_or_none

            compiled = (compile_or_none(before), compile_or_none(after))
        denial_times: deque[float] = deque()
        last_status: WatchStatus | None = None
        flaps_seen = 0
        report: WatchReport = watch.report(self.ctx.clock(), observations)
        round_no = 0
        next_round = self.ctx.clock()
        unreachable: str | None = None
        try:
            while True:
                round_no += 1
                if probes:
                    observations.extend(await self._round(probes, opts.samples))
                deployed_now, unreachable = await self._deployed_now(endpoint.endpoint_id, opts.account_id)
                if deployed_now is not None and not _same_document(deployed_now, after):
                    return await self._superseded(
                        journal_id, endpoint, after, deployed_now, written_at, opts, len(probes)
                    )
                evidence: list[Any] = []
                if self.ctx.log_groups and (mode == "passive" or opts.rollback_on_denials is not None):
                    evidence = await self._passive_round(endpoint.endpoint_id, passive_cursor)
                    for denial, at in evidence:
                        if mode == "passive" and compiled and compiled[0] is not None and compiled[1] is not None:
                            phase = passive_phase(denial, compiled[0], compiled[1], hub, self.ctx.personas)
                            outcome = {Phase.NEW: EXPLICIT_DENY, Phase.OLD: ALLOW}.get(phase, INCONCLUSIVE)
                            observations.append(Observation("passive", at, outcome, denial.event_id))
                        denial_times.append(at)
                    if evidence:
                        self.emit(
                            PassiveEvidence(events=len(evidence), event_ids=tuple(d.event_id for d, _ in evidence[:20]))
                        )
                now = self.ctx.clock()
                while denial_times and denial_times[0] < now - 120.0:
                    denial_times.popleft()  # the guard looks at the last minute only: keep memory bounded
                report = watch.report(now, observations)
                self.emit(ProbeRound(number=round_no, report=report))
                if report.status is not last_status:
                    self.emit(StatusChanged(status=report.status, elapsed=round(report.elapsed, 3)))
                    last_status = report.status
                if report.flaps > flaps_seen:
                    self.emit(Flapping(flaps=report.flaps, probes=tuple(p.probe_id for p in report.probes if p.flaps)))
                    flaps_seen = report.flaps
                if report.status is WatchStatus.CONVERGED and report.converged_at is not None:
                    converged_at = report.converged_at
                    if opts.rollback_on_denials is not None and report.reconverged_at is not None:
                        window = [t for t in denial_times if t >= max(converged_at, now - 60.0)]
                        minutes = max(1.0 / 60.0, min(60.0, now - converged_at) / 60.0)
                        rate = len(window) / minutes
                        if len(window) > opts.rollback_on_denials and rate > opts.rollback_on_denials:
                            self.emit(DenialRate(per_minute=round(rate, 1), threshold=opts.rollback_on_denials))
                            return await self._guard_rollback(journal_id, endpoint, before, after, opts, report)
                    if now - (report.reconverged_at or converged_at) >= settle:
                        break
                if report.status is WatchStatus.TIMED_OUT:
                    break
                if mode != "probes" and now - written_at >= wait_window:
                    break
                _maybe_crash("watch")
                next_round += opts.poll_seconds * (1.0 - 0.1 * self.ctx.rng.random())
                await self.ctx.sleep(max(0.0, next_round - self.ctx.clock()))
        except asyncio.CancelledError:
            # the caller left (a console screen closed) after convergence, during the settle: it is converged
            if report.status is WatchStatus.CONVERGED and report.converged_at is not None:
                seconds = report.converged_at - written_at
                journal.step(journal_id, "watch", "converged", flaps=report.flaps, settle="cut short")
                journal.finish(journal_id, "converged", propagation_seconds=seconds, flaps=report.flaps)
            raise

        if report.status is WatchStatus.CONVERGED:
            status, reason = "converged", ""
        elif mode != "probes":
            status = "unobserved"
            reason = f"no probe could observe this change; waited the {wait_window:g}s propagation window"
        else:
            status, reason = "timed_out", f"not converged after {opts.timeout_seconds:g}s"
        propagation = None if report.converged_at is None else report.converged_at - written_at
        if status != "converged" and unreachable is not None:  # not a plain time-out: we lost sight of it
            status, reason = "unreachable", f"the endpoint became unreachable during the watch: {unreachable}"
            journal.step(journal_id, "watch", status, error=unreachable)
            return RolloutSummary(status, None, opts.poll_seconds, len(probes), journal_id, reason=reason, mode=mode)
        journal.step(journal_id, "watch", status, flaps=report.flaps)
        journal.finish(journal_id, status, propagation_seconds=propagation, flaps=report.flaps)
        return RolloutSummary(
            status,
            propagation,
            opts.poll_seconds,
            len(probes),
            journal_id,
            reason=reason,
            flaps=report.flaps,
            mode=mode,
            converged_at=report.converged_at,
        )

    async def _deployed_now(self, endpoint_id: str, account_id: str | None) -> tuple[str | None, str | None]:
        """(deployed document, None), or (None, why) when the endpoint cannot be read this round."""
        try:
            return (await self.read(endpoint_id, account_id)).policy_text, None
        except AwsError as exc:
            self.emit(Unreachable(error=str(exc)))
            return None, str(exc)

    async def _superseded(
        self,
        journal_id: str,
        endpoint: EndpointPolicy,
        after: str,
        deployed_now: str,
        written_at: float,
        opts: RolloutOptions,
        probes: int,
    ) -> RolloutSummary:
        """Someone wrote another document while we watched: end SUPERSEDED with the diff and the writer."""
        from datetime import UTC, datetime, timedelta

        from vpce_console.aws.logs import lookup_policy_changes
        from vpce_console.policy.diff import policy_diff

        sha = sha256_text(deployed_now)
        writer = "unknown (CloudTrail LookupEvents has no matching ModifyVpcEndpoint yet)"
        try:
            changes = await lookup_policy_changes(
                self.ctx.gateway,
                start=datetime.fromtimestamp(written_at, UTC) - timedelta(minutes=1),
                end=datetime.fromtimestamp(self.ctx.clock(), UTC) + timedelta(minutes=5),
                endpoint_id=endpoint.endpoint_id,
                account_id=opts.account_id,
            )
            matching = [c for c in changes if not c.error_code and c.policy_sha256 == sha]
            if matching:
                latest = max(matching, key=lambda c: c.event_time)
                writer = f"{latest.principal or '?'} at {latest.event_time.isoformat()} (event {latest.event_id})"
        except AwsError as exc:
            writer = f"unknown (LookupEvents failed: {exc})"
        diff = policy_diff(after, deployed_now, labels=("ours", "deployed"))
        self.emit(Superseded(deployed_sha256=sha, writer=writer, diff=diff))
        self.ctx.journal.step(journal_id, "watch", "superseded", deployed_sha256=sha, writer=writer)
        self.ctx.journal.finish(journal_id, "superseded", deployed_sha256=sha, writer=writer)
        reason = f"the deployed document changed during the watch; written by {writer}"
        return RolloutSummary("superseded", None, opts.poll_seconds, probes, journal_id, reason=reason)

    async def _round(self, probes: Sequence[Probe], samples: int) -> list[Observation]:
        """Call every probe `samples` times at once; a round looks new only if every sample does."""
        from vpce_console.aws.probes import ProbeRunner

        if self._runner is None:
            self._runner = ProbeRunner(self.ctx.gateway)
        runner = self._runner
        calls = [
            runner.call(
                p.action,
                p.resource,
                role_arn=p.identity.role_arn,
                session_tags=p.identity.session_tags,
                keys=p.identity.keys,
            )
            for p in probes
            for _ in range(max(1, samples))
        ]
        results = await asyncio.gather(*calls)
        observations = []
        for index, probe in enumerate(probes):
            chunk = results[index * max(1, samples) : (index + 1) * max(1, samples)]
            outcomes = [outcome_of(ProbeAnswer(r.ok, r.error_code, r.message, r.kind)) for r in chunk]
            at = max(r.answered_at for r in chunk)
            watch_probe = probe.watch_probe()
            phases = [phase_of(watch_probe, o) for o, _ in outcomes]
            if Phase.OLD in phases:
                outcome = outcomes[phases.index(Phase.OLD)][0]
                detail = f"{phases.count(Phase.OLD)}/{len(chunk)} old"
            elif Phase.NEW in phases:
                outcome, detail = probe.after, f"{phases.count(Phase.NEW)}/{len(chunk)} new"
            else:
                outcome, detail = INCONCLUSIVE, outcomes[0][1]
            observations.append(Observation(probe.probe_id, at, outcome, detail))
        return observations

    async def _passive_round(self, endpoint_id: str, cursor: dict[str, Any]) -> list[tuple[Any, float]]:
        """New VpceAccessDenied events for this endpoint from the trail's log groups."""
        from vpce_console.aws.logs import filter_log_events
        from vpce_console.services.tail import denial_filter_pattern

        found: list[tuple[Any, float]] = []
        pattern = denial_filter_pattern(endpoint_id)
        for group in self.ctx.log_groups:
            token: str | None = None
            for _ in range(20):
                try:
                    page = await filter_log_events(self.ctx.gateway, group, pattern, cursor["start_ms"], token)
                except AwsError as exc:
                    self.emit(PassiveFailed(error=str(exc)))
                    break
                for event in page.events:
                    try:
                        record = json.loads(event.message)
                    except ValueError:
                        continue
                    denial = classify(record) if isinstance(record, dict) else None
                    if denial is None or denial.endpoint_id != endpoint_id or denial.reason not in ENDPOINT_REASONS:
                        continue
                    if denial.event_id in cursor["seen"]:
                        continue
                    cursor["seen"].add(denial.event_id)
                    found.append((denial, event.timestamp_ms / 1000.0))
                    cursor["high_ms"] = max(cursor.get("high_ms", 0), event.timestamp_ms)
                token = page.next_token
                if not token:
                    break
        if cursor.get("high_ms"):
            # re-read only a two-minute overlap (late CloudTrail delivery); `seen` drops the repeats
            cursor["start_ms"] = max(cursor["start_ms"], cursor["high_ms"] - 120_000)
        return found
