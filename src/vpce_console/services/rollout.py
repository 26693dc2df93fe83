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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from vpce_console.errors import AwsError, UsageError
from vpce_console.services.classify import ENDPOINT_REASONS, classify
from vpce_console.services.journal import Journal, JournalEntry, sha256_text
from vpce_console.services.plan import UNOBSERVED_NOTE
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
    from vpce_console.services.journal import RollbackTarget
    from vpce_console.services.personas import PersonaSet
    from vpce_console.services.plan import RolloutPlan

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
    plan: RolloutPlan | None = field(default=None, compare=False, repr=False)
    """The typed plan, on `plan` events (the console renders it; `data` holds its JSON)."""

    def to_json(self) -> dict[str, Any]:
        """A flat JSON object with `event` and `time` first."""
        return {"event": self.event, "time": round(self.at, 3), **self.data}


@dataclass(frozen=True, slots=True)
class RolloutSummary:
    """How a rollout (or rollback) ended: the last JSON line and the exit code."""

    status: str
    """converged | unobserved (written; no probe could see it) | timed_out | refused | rolled_back (the denial guard
    undid the change) | superseded (someone else wrote during the watch) | written_unverified (the write succeeded,
    the read-back failed) | unreachable (lost the endpoint mid-watch)."""
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
    kind: str = "apply"
    """apply | rollback."""

    @property
    def exit_code(self) -> int:
        """0 converged, 3 unobserved, 4 superseded, 5 written but not verified, 1 everything else (timed out, …)."""
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
            "kind": self.kind,
        }


EXIT_CODES = {"converged": 0, "unobserved": 3, "superseded": 4, "written_unverified": 5, "unreachable": 5}
"""Exit code per final status (docs/cli/rollout.md, "Exit codes of a write"); every other status is 1."""


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
    propagation_window_seconds: float = 600.0
    """How long a change no probe can observe is waited for before it ends UNOBSERVED (AWS: "a few minutes")."""


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
    persona_set: PersonaSet | None = None
    """Personas, hub and zone associations for the impact (NAT-path personas never count); None: `personas`."""
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


def _blank_plan(endpoint: EndpointPolicy, caller: str, before: str, after: str) -> RolloutPlan:
    from vpce_console.services.plan import RolloutPlan

    return RolloutPlan(
        "apply",
        endpoint.endpoint_id,
        endpoint.service,
        caller,
        sha256_text(before)[:12],
        sha256_text(after)[:12],
        (),
        "",
    )


class Rollout:
    """One guided rollout or rollback against one endpoint."""

    def __init__(self, ctx: RolloutContext, emit: Emit | None = None) -> None:
        self.ctx = ctx
        self._emit = emit or (lambda event: None)
        self._runner: Any = None
        self._codes: list[str] = []
        self.known_endpoint: EndpointPolicy | None = None
        """The endpoint as the caller just read it; the next plan uses it instead of reading it again."""
        self._evaluated = 0

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

    # --- plan and apply ---------------------------------------------------------------------------------------

    async def plan(
        self,
        endpoint_id: str,
        text: str,
        *,
        base_text: str | None = None,
        account_id: str | None = None,
        force_lint: bool = False,
    ) -> RolloutPlan:
        """What an apply of `text` would change, affect and probe; writes nothing to AWS (the console's plan step)."""
        plan, _, _ = await self._prepare(
            endpoint_id, text, base_text=base_text, account_id=account_id, force=force_lint
        )
        return plan

    async def _prepare(
        self,
        endpoint_id: str,
        text: str,
        *,
        base_text: str | None,
        account_id: str | None,
        force: bool,
        kind: str = "apply",
        rollback_of: str | None = None,
        endpoint: EndpointPolicy | None = None,
    ) -> tuple[RolloutPlan, EndpointPolicy | None, Hub | None]:
        """Read, check, lint, diff, evaluate the impact and choose probes; the plan says why when it is refused."""
        from vpce_console.services.plan import RolloutPlan

        caller = await self.ctx.gateway.caller_identity()
        known, self.known_endpoint = self.known_endpoint, None
        if endpoint is None and known is not None and known.endpoint_id == endpoint_id:
            endpoint = known  # read moments ago by the caller (to pick the zone to read): one read less
        try:
            endpoint = endpoint or await self.read(endpoint_id, account_id)
        except AwsError as exc:
            refused = RolloutPlan(kind, endpoint_id, "?", caller.arn, "?", sha256_text(text)[:12], (), "")
            return replace(refused, refused=f"cannot read {endpoint_id}: {exc}"), None, None
        deployed = endpoint.policy_text
        hub = _hub(endpoint, caller.account_id, self.ctx.gateway.region)
        plan = RolloutPlan(
            kind=kind,
            endpoint_id=endpoint.endpoint_id,
            service=endpoint.service,
            caller=caller.arn,
            deployed_version=sha256_text(deployed)[:12],
            new_version=sha256_text(text)[:12],
            changes=(),
            diff="",
            rollback_of=rollback_of,
        )
        try:
            if kind == "apply":
                live = self.recover(endpoint)
                if live:
                    raise _Refused(
                        "an unfinished change is live on this endpoint: resume its watch or roll it back",
                        journal_id=live[-1].journal_id,
                    )
            self._check_base(base_text, deployed)
            if deployed == text:
                raise _Refused(
                    "the draft is identical to the deployed document: nothing to do"
                    if kind == "apply"
                    else "the endpoint already holds the document to restore: nothing to do"
                )
            errors, warnings = self._lint(text, endpoint.service, endpoint)
            plan = replace(plan, lint_errors=errors, lint_warnings=warnings)
            plan = self._analyse(plan, deployed, text, endpoint.service, hub)
            if errors and not force:
                raise _Refused(f"lint found {errors} error(s); fix them or pass --force-lint", codes=self._codes)
        except _Refused as refused:
            plan = replace(plan, refused=refused.reason)
            self._emit_plan(plan, deployed, text)
            self.emit("refused", reason=refused.reason, **refused.data)
            return plan, endpoint, hub
        self._emit_plan(plan, deployed, text)
        return plan, endpoint, hub

    def _emit_plan(self, plan: RolloutPlan, deployed: str, text: str) -> None:
        data = {
            **plan.to_json(),
            "deployed_sha256": sha256_text(deployed),
            "draft_sha256": sha256_text(text),
        }
        self._emit(RolloutEvent("plan", self.ctx.clock(), data, plan=plan))

    async def apply(self, opts: RolloutOptions) -> RolloutSummary:
        """The whole guided rollout; never raises for refusals (they are a summary with status `refused`)."""
        plan, endpoint, _ = await self._prepare(
            opts.endpoint_id,
            opts.policy_text,
            base_text=opts.base_text,
            account_id=opts.account_id,
            force=opts.force_lint,
        )
        if not plan.ready or endpoint is None:
            return RolloutSummary("refused", None, opts.poll_seconds, 0, None, reason=plan.refused)
        return await self._write_and_watch(plan, endpoint, opts.policy_text, opts, kind="apply")

    async def _write_and_watch(
        self,
        plan: RolloutPlan,
        endpoint: EndpointPolicy,
        text: str,
        opts: RolloutOptions,
        *,
        kind: str,
        rollback_of: str | None = None,
    ) -> RolloutSummary:
        """Journal, dry run, write, verify, then watch with the plan's probes."""
        journal_id: str | None = None
        caller = await self.ctx.gateway.caller_identity()
        deployed = endpoint.policy_text
        try:
            journal_id = self.ctx.journal.begin(
                kind=kind,
                endpoint_id=endpoint.endpoint_id,
                before_text=deployed,
                after_text=text,
                account_id=endpoint.owner_id or caller.account_id,
                region=self.ctx.gateway.region,
                caller={"account_id": caller.account_id, "arn": caller.arn, "user_id": caller.user_id},
                rollback_of=rollback_of,
            )
            self.emit("journal", journal_id=journal_id, path=str(self.ctx.journal.path))
            if kind == "rollback":
                self.emit("rollback", journal_id=journal_id, rollback_of=rollback_of, restore_sha256=sha256_text(text))
            _maybe_crash("journal")
            written_at = await self.write(journal_id, endpoint, text, opts.account_id)
        except _Refused as refused:
            self.emit("refused", reason=refused.reason, **refused.data)
            return RolloutSummary("refused", None, opts.poll_seconds, 0, journal_id, reason=refused.reason)
        except _Unverified as unverified:
            return RolloutSummary(
                "written_unverified", None, opts.poll_seconds, 0, journal_id, reason=unverified.reason, kind=kind
            )
        return await self.watch(journal_id, endpoint, deployed, text, written_at, opts, plan=plan)

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

    def _lint(self, text: str, service: str, endpoint: EndpointPolicy | None = None) -> tuple[int, int]:
        """Lint findings as an event; (errors, warnings). A repeated key is refused outright, never forced."""
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
        warnings = sum(1 for f in findings if str(f.severity) == "warning")
        self._codes = sorted({f.code for f in errors})
        self.emit(
            "lint",
            errors=len(errors),
            warnings=warnings,
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
        return len(errors), warnings

    def _persona_set(self, hub: Hub) -> PersonaSet | None:
        if self.ctx.persona_set is not None:
            return self.ctx.persona_set
        if not self.ctx.personas:
            return None
        from vpce_console.services.personas import PersonaSet

        return PersonaSet(tuple(self.ctx.personas), hub, "personas")

    def _analyse(self, plan: RolloutPlan, deployed: str, draft: str, service: str, hub: Hub) -> RolloutPlan:
        """Diff, impact (with the NAT-path rule) and per-direction probes, emitted and folded into the plan."""
        from vpce_console.policy.diff import policy_diff
        from vpce_console.policy.evaluator import PolicyError
        from vpce_console.services.personas import change_impact
        from vpce_console.services.plan import (
            NEWLY_ALLOWED,
            NEWLY_DENIED,
            AffectedCell,
            choose_probes,
            describe_changes,
            plan_probe,
        )

        diff = policy_diff(deployed, draft)
        self.emit("diff", diff=diff)
        plan = replace(plan, diff=diff, changes=describe_changes(deployed, draft))
        notes: list[str] = []
        pset = self._persona_set(hub)
        if pset is None:
            self.emit("impact", personas=0, changed=[], note="no personas configured")
            notes.append("no personas configured: impact unknown")
        else:
            try:
                result = change_impact(pset, service, deployed, draft, endpoint_id=hub.endpoint_id, vpc_id=hub.vpc_id)
            except PolicyError as exc:
                self.emit("impact", personas=len(pset.personas), changed=[], note=f"cannot evaluate: {exc}")
                notes.append(f"impact cannot be evaluated: {exc}")
            else:
                nat = tuple(sorted(pset.nat_personas(service) & {p.name for p in pset.personas}))
                self.emit(
                    "impact",
                    personas=len(pset.personas),
                    cells=len(result.cells),
                    not_through_endpoint=list(nat),
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
                cells = [
                    AffectedCell(
                        c.persona.name,
                        c.action,
                        c.resource,
                        NEWLY_DENIED if c.direction == "revoked" else NEWLY_ALLOWED,
                    )
                    for c in result.changed_cells
                ]
                plan = replace(
                    plan,
                    newly_denied=tuple(c for c in cells if c.direction == NEWLY_DENIED),
                    newly_allowed=tuple(c for c in cells if c.direction == NEWLY_ALLOWED),
                    personas=len(pset.personas),
                    personas_source=pset.source,
                    not_through_endpoint=nat,
                )
        identities = [
            i
            for i in self.ctx.identities
            if i.keys is None or pset is None or pset.through_endpoint(i.persona, service)
        ]
        try:
            discriminating, evaluated = derive_probes(deployed, draft, service=service, hub=hub, identities=identities)
        except PolicyError as exc:
            discriminating, evaluated = [], []
            notes.append(f"probes cannot evaluate the policies: {exc}")
        denied, allowed = choose_probes(discriminating)
        self._evaluated = len(evaluated)
        return replace(
            plan,
            probes_denied=tuple(plan_probe(p) for p in denied),
            probes_allowed=tuple(plan_probe(p) for p in allowed),
            probes=(*denied, *allowed),
            notes=tuple(notes),
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
                "probes",
                count=len(probes),
                evaluated=getattr(self, "_evaluated", len(probes)),
                probes=[{**p.to_json(), "label": p.label} for p in probes],
            )
            mode = "probes"
        else:
            mode = "passive" if passive else "none"
            self.emit(
                "no_probes",
                evaluated=getattr(self, "_evaluated", 0),
                window_seconds=wait_window,
                message="this change only affects workloads this machine cannot act as; "
                + UNOBSERVED_NOTE
                + ("; CloudTrail VpceAccessDenied evidence can still prove a newly denied call" if passive else ""),
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
            opts=replace(opts, rollback_on_denials=None, policy_text="", base_text=None),
            reason=f"more than {opts.rollback_on_denials} endpoint denials per minute",
        )
        propagation = report.propagation_seconds
        status = "refused" if result.status == "refused" else "rolled_back"
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

    async def rollback_plan(
        self, endpoint_id: str, *, to: str | None = None, account_id: str | None = None
    ) -> RolloutPlan:
        """What a rollback would restore, change, affect and probe; writes nothing to AWS."""
        plan, _, _ = await self._rollback_prepare(endpoint_id, to=to, account_id=account_id, recover=False)
        return plan

    async def _rollback_prepare(
        self, endpoint_id: str, *, to: str | None, account_id: str | None, recover: bool
    ) -> tuple[RolloutPlan, EndpointPolicy | None, RollbackTarget | None]:
        from vpce_console.services.journal import RollbackRefused, rollback_target
        from vpce_console.services.plan import RolloutPlan

        known, self.known_endpoint = self.known_endpoint, None
        try:
            if known is not None and known.endpoint_id == endpoint_id:
                endpoint = known
            else:
                endpoint = await self.read(endpoint_id, account_id)
        except AwsError as exc:
            reason = f"cannot read {endpoint_id}: {exc}"
            self.emit("refused", reason=reason)
            caller = await self.ctx.gateway.caller_identity()
            return RolloutPlan("rollback", endpoint_id, "?", caller.arn, "?", "?", (), "", refused=reason), None, None
        if recover:
            self.recover(endpoint)
        try:
            target = rollback_target(self.ctx.journal.entries(endpoint_id), endpoint_id, endpoint.policy_text, to=to)
        except RollbackRefused as exc:
            caller = await self.ctx.gateway.caller_identity()
            version = sha256_text(endpoint.policy_text)[:12]
            plan = RolloutPlan(
                "rollback", endpoint_id, endpoint.service, caller.arn, version, "?", (), "", refused=str(exc)
            )
            self.emit("refused", reason=str(exc))
            return plan, endpoint, None
        if target.already:  # an interrupted rollback wrote it already: nothing to write, only to close
            caller = await self.ctx.gateway.caller_identity()
            version = sha256_text(endpoint.policy_text)[:12]
            note = f"already restored: the document in force before {target.entry.journal_id} is deployed"
            plan = RolloutPlan(
                "rollback", endpoint_id, endpoint.service, caller.arn, version, version, (), "", refused=note
            )
            return plan, endpoint, target
        plan, endpoint_read, _ = await self._prepare(
            endpoint_id,
            target.text,
            base_text=None,
            account_id=account_id,
            force=True,  # restoring what was in force before is never blocked by today's lint rules
            kind="rollback",
            rollback_of=target.entry.journal_id,
            endpoint=endpoint,
        )
        return plan, endpoint_read, target

    def _close_interrupted(self, target: RollbackTarget) -> RolloutSummary:
        """An interrupted rollback had already written the document: close it (and the change it undid)."""
        journal = self.ctx.journal
        interrupted = target.interrupted
        assert interrupted is not None
        if not interrupted.finished:
            journal.finish(interrupted.journal_id, "applied", completed_by="retry: already in force")
        if not target.entry.finished:
            journal.finish(target.entry.journal_id, "rolled_back", by=interrupted.journal_id)
        self.emit("rollback", journal_id=interrupted.journal_id, rollback_of=target.entry.journal_id, already=True)
        reason = f"already restored: the document in force before {target.entry.journal_id} is deployed"
        return RolloutSummary("rolled_back", None, 0.0, 0, interrupted.journal_id, reason=reason, kind="rollback")

    async def rollback(
        self,
        endpoint_id: str,
        *,
        to: str | None = None,
        account_id: str | None = None,
        opts: RolloutOptions | None = None,
        entry_id: str | None = None,
        reason: str = "",
    ) -> RolloutSummary:
        """Restore the document in force before a change (`to`, default the last one), then watch it like a rollout.

        `rollback_target` decides which document; the write has the same compare-and-swap, journal and watch as an
        apply. `entry_id` is the denial guard rolling back its own live change.
        """
        to = to or entry_id
        opts = opts or RolloutOptions(endpoint_id=endpoint_id, policy_text="", account_id=account_id)
        plan, endpoint, target = await self._rollback_prepare(
            endpoint_id, to=to, account_id=account_id, recover=entry_id is None
        )
        if target is not None and target.already and target.interrupted is not None:
            return self._close_interrupted(target)
        if endpoint is None or target is None or not plan.ready:
            return RolloutSummary("refused", None, opts.poll_seconds, 0, None, reason=plan.refused, kind="rollback")
        summary = await self._write_and_watch(
            plan, endpoint, target.text, opts, kind="rollback", rollback_of=target.entry.journal_id
        )
        if summary.status != "refused" and not target.entry.finished:
            self.ctx.journal.finish(target.entry.journal_id, "rolled_back", by=summary.journal_id)
        return replace(summary, kind="rollback", reason=summary.reason or reason)

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
