"""Guided rollout of an endpoint policy: plan, compare-and-swap, journal, dry run, write, verify, watch, roll back.

UI-agnostic: progress leaves as frozen `RolloutEvent`s through an `emit` callback (the CLI prints them, the TUI
posts them as messages from a worker). Time comes from `clock`/`sleep`, so the watch is testable; AWS comes in
through the gateway and the `aws/` write, log and probe functions.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vpce_console.errors import AwsError, UsageError
from vpce_console.services.classify import ENDPOINT_REASONS, classify
from vpce_console.services.journal import Journal, JournalEntry, sha256_text
from vpce_console.services.probes import (
    Probe,
    ProbeAnswer,
    ProbeIdentity,
    derive_probes,
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
    WatchProbe,
    WatchReport,
    WatchStatus,
    phase_of,
)

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway
    from vpce_console.aws.writes import EndpointPolicy
    from vpce_console.policy.personas import Hub, Persona

CRASH_ENV = "VPCE_CRASH_AFTER"
"""Test hook: kill -9 this process right after the named step was journaled (journal, dry_run, modify, verify,
watch), so crash recovery is tested with a real killed process."""

PASSIVE_PROBE = WatchProbe("passive", ALLOW, EXPLICIT_DENY, "CloudTrail VpceAccessDenied evidence")


@dataclass(frozen=True, slots=True)
class RolloutEvent:
    """One step of progress; `to_json` is a line of `vpce rollout --format json`."""

    event: str
    """plan, refused, lint, diff, impact, recovery, journal, dry_run, modify, verify, probes, no_probes, round,
    status, flapping, passive, denials, rollback, summary."""
    at: float
    """Clock time (epoch seconds)."""
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A flat JSON object with `event` and `time` first."""
        return {"event": self.event, "time": round(self.at, 3), **self.data}


@dataclass(frozen=True, slots=True)
class RolloutSummary:
    """How a rollout (or rollback) ended: the last JSON line and the exit code."""

    status: str
    """converged | timed_out | refused | rolled_back | superseded (someone else wrote during the watch) |
    written_unverified (the write succeeded, the read-back failed) | unreachable (lost the endpoint mid-watch)."""
    propagation_seconds: float | None
    poll_seconds: float
    probes: int
    journal_id: str | None
    reason: str = ""
    flaps: int = 0
    mode: str = "probes"
    """probes | passive | none: what the watch relied on."""
    converged_at: float | None = None
    """Clock time (epoch seconds) the watch first converged."""

    @property
    def exit_code(self) -> int:
        """0 converged, 4 superseded, 5 written but not verified, 1 everything else (timed out, refused, …)."""
        return EXIT_CODES.get(self.status, 1)

    def to_json(self) -> dict[str, Any]:
        """The summary object (the last line of JSON output)."""
        return {
            "event": "summary",
            "status": self.status,
            "propagation_seconds": None if self.propagation_seconds is None else round(self.propagation_seconds, 3),
            "poll_seconds": self.poll_seconds,
            "probes": self.probes,
            "journal_id": self.journal_id,
            "reason": self.reason,
            "flaps": self.flaps,
            "mode": self.mode,
            "converged_at": self.converged_at,
        }


EXIT_CODES = {"converged": 0, "superseded": 4, "written_unverified": 5, "unreachable": 5}
"""Exit code per final status (README "Exit codes of a write"); every other status is 1."""


@dataclass(frozen=True, slots=True)
class RolloutOptions:
    """What the user asked for."""

    endpoint_id: str
    policy_text: str
    base_text: str | None = None
    poll_seconds: float = 10.0
    timeout_seconds: float = 900.0
    required_streak: int = 3
    samples: int = 8
    """Calls per probe per round; a round looks new only if every sample does (hosts converge at random)."""
    settle_seconds: float | None = None
    """Keep watching this long after convergence to catch flapping (default: two poll intervals)."""
    rollback_on_denials: int | None = None
    """Roll back when the new policy causes more than N endpoint denials per minute after convergence."""
    guard_seconds: float = 60.0
    """How long the denial guard watches after convergence."""
    force_lint: bool = False
    account_id: str | None = None
    """Hub account that owns the endpoint (None: the caller's)."""


@dataclass(slots=True)
class RolloutContext:
    """Collaborators a rollout needs, passed in (never looked up globally)."""

    gateway: AwsGateway
    journal: Journal
    identities: Sequence[ProbeIdentity] = ()
    """Whom probes may act as (self and configured probe roles)."""
    personas: Sequence[Persona] = ()
    """Workloads for the impact preview and passive-evidence matching."""
    log_groups: Sequence[str] = ()
    """CloudTrail log groups for passive evidence and the denial guard."""
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)


Emit = Callable[[RolloutEvent], None]


class _Unverified(Exception):
    """ModifyVpcEndpoint succeeded but the read-back failed: the change is written, not verified."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Refused(Exception):
    def __init__(self, reason: str, **data: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.data = data


def _maybe_crash(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _same_document(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return bool(json.loads(a) == json.loads(b))
    except (ValueError, RecursionError):
        return False


def _hub(endpoint: EndpointPolicy, account_id: str, region: str) -> Hub:
    from vpce_console.policy.personas import Hub

    return Hub(
        account_id=endpoint.owner_id or account_id,
        vpc_id=endpoint.vpc_id,
        endpoint_id=endpoint.endpoint_id,
        region=region,
    )


class Rollout:
    """One guided rollout or rollback against one endpoint."""

    def __init__(self, ctx: RolloutContext, emit: Emit | None = None) -> None:
        self.ctx = ctx
        self._emit = emit or (lambda event: None)
        self._runner: Any = None

    def emit(self, event: str, **data: Any) -> None:
        """Send one progress event."""
        self._emit(RolloutEvent(event, self.ctx.clock(), data))

    # --- shared steps -----------------------------------------------------------------------------------------

    async def read(self, endpoint_id: str, account_id: str | None) -> EndpointPolicy:
        """The endpoint and its deployed document."""
        from vpce_console.aws.writes import describe_endpoint_policy

        return await describe_endpoint_policy(self.ctx.gateway, endpoint_id, account_id=account_id)

    def recover(self, endpoint: EndpointPolicy) -> list[JournalEntry]:
        """Look at unfinished journal entries for this endpoint: close the ones that never reached AWS, report the rest.

        Returns the entries whose new document is live (their process died after or during the write): the user
        resumes their watch (`--resume`) or rolls them back.
        """
        live: list[JournalEntry] = []
        deployed_sha = sha256_text(endpoint.policy_text)
        everything = self.ctx.journal.entries(endpoint.endpoint_id)
        unfinished = [e for e in everything if not e.finished]
        undone = {e.rollback_of: e.journal_id for e in everything if e.rollback_of and e.written_at is not None}
        if self.ctx.journal.skipped:  # a damaged line never blocks a rollout; it is reported and left alone
            self.emit("journal_skipped", path=str(self.ctx.journal.path), lines=self.ctx.journal.skipped[:20])
        for entry in unfinished:
            last = entry.last_step
            where = f"{last.step} {last.outcome}" if last else "begin"
            if deployed_sha == entry.after_sha256 and entry.after_sha256 != entry.before_sha256:
                live.append(entry)
                self.emit(
                    "recovery",
                    journal_id=entry.journal_id,
                    state="applied",
                    crashed_at=where,
                    options=[
                        "resume the watch: vpce rollout --endpoint ID --resume",
                        "roll back: vpce rollback --endpoint ID --confirm ID --allow-write",
                    ],
                )
            elif entry.journal_id in undone:
                self.ctx.journal.finish(entry.journal_id, "rolled_back", by=undone[entry.journal_id])
                self.emit("recovery", journal_id=entry.journal_id, state="rolled-back", crashed_at=where)
            elif deployed_sha == entry.before_sha256:
                self.ctx.journal.finish(entry.journal_id, "aborted", reason=f"process died at {where}; never written")
                self.emit("recovery", journal_id=entry.journal_id, state="not-applied", crashed_at=where)
            else:
                self.ctx.journal.finish(entry.journal_id, "superseded", reason="the deployed document changed since")
                self.emit("recovery", journal_id=entry.journal_id, state="superseded", crashed_at=where)
        return live

    async def write(self, entry_id: str, endpoint: EndpointPolicy, text: str, account_id: str | None) -> float:
        """Dry run, write and verify one document; returns the clock time the write was confirmed."""
        from vpce_console.aws.writes import dry_run_modify_policy, modify_policy

        gateway, journal = self.ctx.gateway, self.ctx.journal
        journal.step(entry_id, "dry_run", "started")
        try:
            honoured = await dry_run_modify_policy(gateway, endpoint.endpoint_id, text, account_id=account_id)
        except AwsError as exc:
            journal.step(entry_id, "dry_run", "failed", error=str(exc))
            journal.finish(entry_id, "failed", step="dry_run", error=str(exc))
            raise _Refused(f"dry run refused: {exc}", step="dry_run") from None
        journal.step(entry_id, "dry_run", "ok" if honoured else "ignored")
        self.emit(
            "dry_run",
            outcome="ok" if honoured else "ignored",
            note="" if honoured else "the API ignored DryRun; treating the write as done",
        )
        _maybe_crash("dry_run")
        journal.step(entry_id, "modify", "started")
        try:
            await modify_policy(gateway, endpoint.endpoint_id, text, account_id=account_id)
        except AwsError as exc:
            journal.step(entry_id, "modify", "failed", error=str(exc))
            journal.finish(entry_id, "failed", step="modify", error=str(exc))
            raise _Refused(f"ModifyVpcEndpoint failed: {exc}", step="modify") from None
        written_at = self.ctx.clock()
        journal.step(entry_id, "modify", "ok")
        self.emit("modify", outcome="ok", endpoint_id=endpoint.endpoint_id)
        _maybe_crash("modify")
        try:
            reread = await self.read(endpoint.endpoint_id, account_id)
        except AwsError as exc:  # written for sure, verified not: never report this as "nothing written"
            journal.step(entry_id, "verify", "unverified", error=str(exc))
            self.emit("verify", outcome="unverified", error=str(exc))
            raise _Unverified(
                f"ModifyVpcEndpoint succeeded but reading it back failed ({exc}); the change is WRITTEN, not "
                "verified: run `vpce rollout --endpoint ID --resume` to verify and watch it"
            ) from None
        exact = reread.policy_text == text
        if not exact and not _same_document(reread.policy_text, text):
            journal.step(entry_id, "verify", "failed", deployed_sha256=sha256_text(reread.policy_text))
            journal.finish(entry_id, "failed", step="verify")
            raise _Refused("verify failed: the endpoint does not hold the document just written", step="verify")
        journal.step(entry_id, "verify", "ok", exact=exact)
        self.emit("verify", outcome="ok", exact=exact, sha256=sha256_text(reread.policy_text))
        _maybe_crash("verify")
        return written_at

    # --- apply ------------------------------------------------------------------------------------------------

    async def apply(self, opts: RolloutOptions) -> RolloutSummary:
        """The whole guided rollout; never raises for refusals (they are a summary with status `refused`)."""
        journal_id: str | None = None
        try:
            endpoint = await self.read(opts.endpoint_id, opts.account_id)
            caller = await self.ctx.gateway.caller_identity()
            deployed = endpoint.policy_text
            self.emit(
                "plan",
                endpoint_id=endpoint.endpoint_id,
                service=endpoint.service,
                deployed_sha256=sha256_text(deployed),
                draft_sha256=sha256_text(opts.policy_text),
                caller=caller.arn,
            )
            live = self.recover(endpoint)
            if live:
                raise _Refused(
                    "an unfinished change is live on this endpoint: resume its watch or roll it back",
                    journal_id=live[-1].journal_id,
                )
            self._check_base(opts.base_text, deployed)
            if deployed == opts.policy_text:
                raise _Refused("the draft is identical to the deployed document: nothing to do")
            self._lint(opts.policy_text, endpoint.service, opts.force_lint, endpoint)
            hub = _hub(endpoint, caller.account_id, self.ctx.gateway.region)
            self._preview(deployed, opts.policy_text, endpoint.service, hub)
            journal_id = self.ctx.journal.begin(
                kind="apply",
                endpoint_id=endpoint.endpoint_id,
                before_text=deployed,
                after_text=opts.policy_text,
                account_id=hub.account_id,
                region=self.ctx.gateway.region,
                caller={"account_id": caller.account_id, "arn": caller.arn, "user_id": caller.user_id},
            )
            self.emit("journal", journal_id=journal_id, path=str(self.ctx.journal.path))
            _maybe_crash("journal")
            written_at = await self.write(journal_id, endpoint, opts.policy_text, opts.account_id)
        except _Refused as refused:
            self.emit("refused", reason=refused.reason, **refused.data)
            return RolloutSummary("refused", None, opts.poll_seconds, 0, journal_id, reason=refused.reason)
        except _Unverified as unverified:
            return RolloutSummary(
                "written_unverified", None, opts.poll_seconds, 0, journal_id, reason=unverified.reason
            )
        return await self.watch(journal_id, endpoint, deployed, opts.policy_text, written_at, opts)

    async def resume(self, opts: RolloutOptions) -> RolloutSummary:
        """Resume the watch of an unfinished change whose document is live (after a crash)."""
        endpoint = await self.read(opts.endpoint_id, opts.account_id)
        live = self.recover(endpoint)
        if not live:
            reason = "no unfinished change is live on this endpoint"
            self.emit("refused", reason=reason)
            return RolloutSummary("refused", None, opts.poll_seconds, 0, None, reason=reason)
        entry = live[-1]
        self.ctx.journal.step(entry.journal_id, "watch", "resumed")
        written_at = entry.written_at or entry.started_at
        return await self.watch(entry.journal_id, endpoint, entry.before_text, entry.after_text, written_at, opts)

    def _check_base(self, base: str | None, deployed: str) -> None:
        if base is None or base == deployed:
            return
        from vpce_console.policy.diff import policy_diff

        raise _Refused(
            "the deployed policy changed since your base: refusing to overwrite it",
            diff=policy_diff(base, deployed, labels=("base", "deployed")),
        )

    def _lint(self, text: str, service: str, force: bool, endpoint: EndpointPolicy | None = None) -> None:
        from vpce_console.policy.endpoint_context import EndpointContext
        from vpce_console.policy.linter import lint

        # `rollout --endpoint` targets a hub endpoint, so messages may name its VPC and id as the shared ones
        context = (
            EndpointContext(endpoint.endpoint_id, endpoint.vpc_id, endpoint.owner_id or None, shared=True)
            if endpoint is not None
            else None
        )
        findings = lint(text, policy_type="vpce", service=service, endpoint=context)
        errors = [f for f in findings if str(f.severity) == "error"]
        self.emit(
            "lint",
            errors=len(errors),
            warnings=sum(1 for f in findings if str(f.severity) == "warning"),
            findings=[
                {"code": f.code, "severity": str(f.severity), "line": f.line, "message": f.message} for f in findings
            ],
        )
        duplicates = sorted({f.path for f in findings if f.code == "duplicate-key"})
        if duplicates:  # AWS keeps one of the two values, not the document the author reviewed: never forced
            raise _Refused(
                "the draft repeats a key in one object (AWS would keep only one of them): "
                + ", ".join(duplicates[:5])
                + "; --force-lint does not override this",
                codes=["duplicate-key"],
            )
        if errors and not force:
            raise _Refused(
                f"lint found {len(errors)} error(s); fix them or pass --force-lint",
                codes=sorted({f.code for f in errors}),
            )

    def _preview(self, deployed: str, draft: str, service: str, hub: Hub) -> None:
        from vpce_console.policy.diff import policy_diff

        self.emit("diff", diff=policy_diff(deployed, draft))
        if not self.ctx.personas:
            self.emit("impact", personas=0, changed=[], note="no personas configured")
            return
        from vpce_console.policy.evaluator import PolicyError
        from vpce_console.policy.impact_matrix import impact, named_in_policies
        from vpce_console.services.probes import PROBE_ACTIONS

        actions = [a for a in named_in_policies([deployed, draft], "Action") if "*" not in a]
        actions += [a for a, _ in PROBE_ACTIONS.get(service, ()) if a not in actions]
        resources = ["*", *[r for r in named_in_policies([deployed, draft], "Resource") if r != "*"]]
        try:
            result = impact(deployed, draft, list(self.ctx.personas), actions, resources, hub)
        except PolicyError as exc:
            self.emit("impact", personas=len(self.ctx.personas), changed=[], note=f"cannot evaluate: {exc}")
            return
        self.emit(
            "impact",
            personas=len(self.ctx.personas),
            cells=len(result.cells),
            changed=[
                {
                    "persona": c.persona.name,
                    "action": c.action,
                    "resource": c.resource,
                    "before": c.before.kind,
                    "after": c.after.kind,
                    "direction": c.direction,
                }
                for c in result.changed_cells
            ],
        )

    # --- watch ------------------------------------------------------------------------------------------------

    async def watch(
        self,
        journal_id: str,
        endpoint: EndpointPolicy,
        before: str,
        after: str,
        written_at: float,
        opts: RolloutOptions,
    ) -> RolloutSummary:
        """Watch until the new document is in force (or time runs out), then close the journal entry."""
        from vpce_console.policy.evaluator import PolicyError

        caller = await self.ctx.gateway.caller_identity()
        hub = _hub(endpoint, caller.account_id, self.ctx.gateway.region)
        try:
            probes, evaluated = derive_probes(
                before, after, service=endpoint.service, hub=hub, identities=list(self.ctx.identities)
            )
        except PolicyError as exc:
            probes, evaluated = [], []
            self.emit("probes", count=0, note=f"cannot evaluate the policies: {exc}")
        journal = self.ctx.journal
        journal.step(journal_id, "watch", "started", probes=len(probes))
        if probes:
            self.emit("probes", count=len(probes), evaluated=len(evaluated), probes=[p.to_json() for p in probes])
            mode = "probes"
        else:
            mode = "passive" if self.ctx.log_groups else "none"
            self.emit(
                "no_probes",
                evaluated=len(evaluated),
                message=(
                    "no probe discriminates: this change only affects workloads this machine cannot act as; "
                    + (
                        "watching CloudTrail for VpceAccessDenied evidence and the timer"
                        if self.ctx.log_groups
                        else "no CloudTrail log group configured, only the timer is left"
                    )
                ),
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
        while True:
            round_no += 1
            if probes:
                observations.extend(await self._round(probes, opts.samples))
            deployed_now, unreachable = await self._deployed_now(endpoint.endpoint_id, opts.account_id)
            if deployed_now is not None and not _same_document(deployed_now, after):
                return await self._superseded(journal_id, endpoint, after, deployed_now, written_at, opts, len(probes))
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
                    self.emit("passive", events=len(evidence), event_ids=[d.event_id for d, _ in evidence][:20])
            now = self.ctx.clock()
            while denial_times and denial_times[0] < now - 120.0:
                denial_times.popleft()  # the guard looks at the last minute only: keep memory bounded
            report = watch.report(now, observations)
            self.emit("round", round=round_no, **_report_json(report))
            if report.status is not last_status:
                self.emit("status", status=str(report.status), elapsed=round(report.elapsed, 3))
                last_status = report.status
            if report.flaps > flaps_seen:
                self.emit("flapping", flaps=report.flaps, probes=[p.probe_id for p in report.probes if p.flaps])
                flaps_seen = report.flaps
            if report.status is WatchStatus.CONVERGED and report.converged_at is not None:
                converged_at = report.converged_at
                if opts.rollback_on_denials is not None and report.reconverged_at is not None:
                    window = [t for t in denial_times if t >= max(converged_at, now - 60.0)]
                    minutes = max(1.0 / 60.0, min(60.0, now - converged_at) / 60.0)
                    rate = len(window) / minutes
                    if len(window) > opts.rollback_on_denials and rate > opts.rollback_on_denials:
                        self.emit("denials", per_minute=round(rate, 1), threshold=opts.rollback_on_denials)
                        return await self._guard_rollback(journal_id, endpoint, before, after, opts, report)
                if now - (report.reconverged_at or converged_at) >= settle:
                    break
            if report.status is WatchStatus.TIMED_OUT:
                break
            if mode == "none" and now - written_at > opts.timeout_seconds:
                break
            _maybe_crash("watch")
            next_round += opts.poll_seconds * (1.0 - 0.1 * self.ctx.rng.random())
            await self.ctx.sleep(max(0.0, next_round - self.ctx.clock()))
        status = "converged" if report.status is WatchStatus.CONVERGED else "timed_out"
        propagation = None if report.converged_at is None else report.converged_at - written_at
        reason = "" if status == "converged" else f"not converged after {opts.timeout_seconds:g}s"
        if status == "timed_out" and unreachable is not None:  # not a plain time-out: we lost sight of it
            status, reason = "unreachable", f"the endpoint became unreachable during the watch: {unreachable}"
            journal.step(journal_id, "watch", status, error=unreachable)
            return RolloutSummary(status, None, opts.poll_seconds, len(probes), journal_id, reason=reason, mode=mode)
        journal.step(journal_id, "watch", status, flaps=report.flaps)
        journal.finish(journal_id, status, propagation_seconds=propagation, flaps=report.flaps)
        if mode == "none":
            reason = "no discriminating probe and no CloudTrail evidence: waited for the timer only"
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
            self.emit("unreachable", error=str(exc))
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
        self.emit("superseded", deployed_sha256=sha, writer=writer, diff=diff)
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
            runner.call(p.action, p.resource, role_arn=p.identity.role_arn, session_tags=p.identity.session_tags)
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
                    self.emit("passive", error=str(exc))
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

    async def _guard_rollback(
        self,
        journal_id: str,
        endpoint: EndpointPolicy,
        before: str,
        after: str,
        opts: RolloutOptions,
        report: WatchReport,
    ) -> RolloutSummary:
        self.ctx.journal.step(journal_id, "watch", "converged", flaps=report.flaps)
        result = await self.rollback(
            opts.endpoint_id,
            account_id=opts.account_id,
            entry_id=journal_id,
            reason=f"more than {opts.rollback_on_denials} endpoint denials per minute",
        )
        propagation = report.propagation_seconds
        status = "rolled_back" if result.status == "rolled_back" else "refused"
        if status != "rolled_back":  # the guard could not undo it: the change stays, converged
            self.ctx.journal.finish(journal_id, "converged", guard="rollback refused: " + result.reason)
        return RolloutSummary(
            status,
            propagation,
            opts.poll_seconds,
            len(report.probes),
            journal_id,
            reason=result.reason,
            flaps=report.flaps,
        )

    # --- rollback ---------------------------------------------------------------------------------------------

    async def rollback(
        self, endpoint_id: str, *, account_id: str | None = None, entry_id: str | None = None, reason: str = ""
    ) -> RolloutSummary:
        """Restore the document the last change replaced, byte for byte, with the same CAS check and journal."""
        try:
            endpoint = await self.read(endpoint_id, account_id)
            deployed_sha = sha256_text(endpoint.policy_text)
            live = [] if entry_id else self.recover(endpoint)
            journal = self.ctx.journal
            if entry_id:
                target = journal.get(entry_id)
            elif live:
                target = live[-1]
            else:
                target = journal.last_written(endpoint_id)
            if target is not None and target.kind == "rollback" and target.rollback_of:
                # retrying a crashed or failed rollback: the change to undo is the one it was undoing, and the
                # document to restore is the one in force before that change, never what the rollback removed
                original = journal.get(target.rollback_of)
                if original is not None and original.before_sha256 == deployed_sha:
                    if not target.finished:
                        journal.finish(target.journal_id, "applied", completed_by="retry: already in force")
                    if not original.finished:
                        journal.finish(original.journal_id, "rolled_back", by=target.journal_id)
                    self.emit("rollback", journal_id=target.journal_id, rollback_of=original.journal_id, already=True)
                    return RolloutSummary(
                        "rolled_back",
                        None,
                        0.0,
                        0,
                        target.journal_id,
                        reason=f"already restored: the document in force before {original.journal_id} is deployed",
                    )
                target = original
            if target is None:
                raise _Refused("the journal has no change to this endpoint to roll back")
            if target.after_sha256 != deployed_sha:
                from vpce_console.policy.diff import policy_diff

                raise _Refused(
                    f"the deployed policy is not the one change {target.journal_id} wrote: refusing to overwrite it",
                    diff=policy_diff(target.after_text, endpoint.policy_text, labels=("journal", "deployed")),
                )
            caller = await self.ctx.gateway.caller_identity()
            rollback_id = journal.begin(
                kind="rollback",
                endpoint_id=endpoint_id,
                before_text=endpoint.policy_text,
                after_text=target.before_text,
                account_id=target.account_id,
                region=self.ctx.gateway.region,
                caller={"account_id": caller.account_id, "arn": caller.arn, "user_id": caller.user_id},
                rollback_of=target.journal_id,
            )
            self.emit(
                "rollback",
                journal_id=rollback_id,
                rollback_of=target.journal_id,
                restore_sha256=target.before_sha256,
                reason=reason,
            )
            _maybe_crash("journal")
            await self.write(rollback_id, endpoint, target.before_text, account_id)
            journal.finish(rollback_id, "applied")
            if not target.finished:
                journal.finish(target.journal_id, "rolled_back", by=rollback_id)
        except _Refused as refused:
            self.emit("refused", reason=refused.reason, **refused.data)
            return RolloutSummary("refused", None, 0.0, 0, entry_id, reason=refused.reason)
        except _Unverified as unverified:
            return RolloutSummary("written_unverified", None, 0.0, 0, rollback_id, reason=unverified.reason)
        return RolloutSummary("rolled_back", None, 0.0, 0, rollback_id, reason=reason or "restored")

    async def close(self) -> None:
        """Close probe clients."""
        if self._runner is not None:
            await self._runner.close()
            self._runner = None


def _report_json(report: WatchReport) -> dict[str, Any]:
    return {
        "status": str(report.status),
        "elapsed": round(report.elapsed, 3),
        "flaps": report.flaps,
        "probes": [
            {
                "probe_id": p.probe_id,
                "streak": p.streak,
                "last": p.last_outcome,
                "new": p.new,
                "old": p.old,
                "flaps": p.flaps,
            }
            for p in report.probes
        ],
    }


def check_write_gate(*, allow_write: bool, config_allows: bool, confirm: str | None, endpoint_id: str) -> None:
    """Writes need --allow-write (or config write mode) and the endpoint id typed out; UsageError otherwise."""
    if not (allow_write or config_allows):
        raise UsageError("read-only: pass --allow-write (or set allow_write: true in the config) to change a policy")
    if confirm != endpoint_id:
        raise UsageError(f"--confirm must repeat the endpoint id exactly ({endpoint_id}) to write")
