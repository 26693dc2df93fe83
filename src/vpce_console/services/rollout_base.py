"""The rollout service's state and the steps every write shares: read, recover, write and verify, analyse the impact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from vpce_console.errors import AwsError
from vpce_console.services.journal import JournalEntry, sha256_text
from vpce_console.services.probes import (
    derive_probes,
)

if TYPE_CHECKING:
    from vpce_console.aws.writes import EndpointPolicy
    from vpce_console.policy.personas import HubEndpoint
    from vpce_console.services.personas import PersonaSet
    from vpce_console.services.plan import RolloutPlan
    from vpce_console.services.probes import Probe
from vpce_console.services.rollout_events import (
    ChangedDecision,
    Diffed,
    DryRun,
    ImpactAssessed,
    JournalSkipped,
    Modified,
    Recovered,
    RolloutEvent,
    Unverified,
    Verified,
)
from vpce_console.services.rollout_model import (
    Emit,
    RolloutContext,
    _maybe_crash,
    _Refused,
    _same_document,
    _Unverified,
)


class RolloutBase:
    """The rollout service's state and the steps every write shares."""

    def __init__(self, ctx: RolloutContext, emit: Emit | None = None) -> None:
        self.ctx = ctx
        self._emit = emit or (lambda event: None)
        self._runner: Any = None
        self._codes: list[str] = []
        self.known_endpoint: EndpointPolicy | None = None
        """The endpoint as the caller just read it; the next plan uses it instead of reading it again."""
        self._evaluated = 0
        self.observed_callers: Sequence[Mapping[str, Any]] = ()
        """The replay's heaviest callers (`ReplayReport` `callers` JSON) for the next plan: the ones this machine
        can act as and whose calls the draft changes become probes (`services.observed_probes`)."""
        self.planned_probes: tuple[Probe, ...] = ()
        """The probes the last plan chose (its watch's own calls: their denials are no surprise)."""

    def emit(self, event: RolloutEvent) -> None:
        """Send one progress event, stamped with the rollout's clock."""
        self._emit(replace(event, at=self.ctx.clock()))

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
            self.emit(JournalSkipped(path=str(self.ctx.journal.path), lines=tuple(self.ctx.journal.skipped[:20])))
        for entry in unfinished:
            last = entry.last_step
            where = f"{last.step} {last.outcome}" if last else "begin"
            if deployed_sha == entry.after_sha256 and entry.after_sha256 != entry.before_sha256:
                live.append(entry)
                self.emit(
                    Recovered(
                        journal_id=entry.journal_id,
                        state="applied",
                        crashed_at=where,
                        options=(
                            "resume the watch: vpce rollout --endpoint ID --resume",
                            "roll back: vpce rollback --endpoint ID --confirm ID --allow-write",
                        ),
                    )
                )
            elif entry.journal_id in undone:
                self.ctx.journal.finish(entry.journal_id, "rolled_back", by=undone[entry.journal_id])
                self.emit(Recovered(journal_id=entry.journal_id, state="rolled-back", crashed_at=where))
            elif deployed_sha == entry.before_sha256:
                self.ctx.journal.finish(entry.journal_id, "aborted", reason=f"process died at {where}; never written")
                self.emit(Recovered(journal_id=entry.journal_id, state="not-applied", crashed_at=where))
            else:
                self.ctx.journal.finish(entry.journal_id, "superseded", reason="the deployed document changed since")
                self.emit(Recovered(journal_id=entry.journal_id, state="superseded", crashed_at=where))
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
            DryRun(
                outcome="ok" if honoured else "ignored",
                note="" if honoured else "the API ignored DryRun; treating the write as done",
            )
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
        self.emit(Modified(endpoint_id=endpoint.endpoint_id))
        _maybe_crash("modify")
        try:
            reread = await self.read(endpoint.endpoint_id, account_id)
        except AwsError as exc:  # written for sure, verified not: never report this as "nothing written"
            journal.step(entry_id, "verify", "unverified", error=str(exc))
            self.emit(Unverified(error=str(exc)))
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
        self.emit(Verified(exact=exact, sha256=sha256_text(reread.policy_text)))
        _maybe_crash("verify")
        return written_at

    def _persona_set(self, hub: HubEndpoint) -> PersonaSet | None:
        if self.ctx.persona_set is not None:
            return self.ctx.persona_set
        if not self.ctx.personas:
            return None
        from vpce_console.services.personas import PersonaSet

        return PersonaSet(tuple(self.ctx.personas), hub, "personas")

    def _analyse(self, plan: RolloutPlan, deployed: str, draft: str, service: str, hub: HubEndpoint) -> RolloutPlan:
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
            with_observed,
        )

        diff = policy_diff(deployed, draft)
        self.emit(Diffed(diff=diff))
        plan = replace(plan, diff=diff, changes=describe_changes(deployed, draft))
        notes: list[str] = []
        pset = self._persona_set(hub)
        if pset is None:
            self.emit(ImpactAssessed(personas=0, note="no personas configured"))
            notes.append("no personas configured: impact unknown")
        else:
            try:
                result = change_impact(pset, service, deployed, draft, endpoint_id=hub.endpoint_id, vpc_id=hub.vpc_id)
            except PolicyError as exc:
                self.emit(ImpactAssessed(personas=len(pset.personas), note=f"cannot evaluate: {exc}"))
                notes.append(f"impact cannot be evaluated: {exc}")
            else:
                nat = tuple(sorted(pset.nat_personas(service) & {p.name for p in pset.personas}))
                self.emit(
                    ImpactAssessed(
                        personas=len(pset.personas),
                        cells=len(result.cells),
                        not_through_endpoint=nat,
                        changed=tuple(
                            ChangedDecision(
                                c.persona.name, c.action, c.resource, c.before.kind, c.after.kind, c.direction
                            )
                            for c in result.changed_cells
                        ),
                    )
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
        observed: list[Any] = []
        try:
            discriminating, evaluated = derive_probes(deployed, draft, service=service, hub=hub, identities=identities)
            if self.observed_callers:
                from vpce_console.services.observed_probes import observed_probes

                observed, observed_notes = observed_probes(
                    self.observed_callers, identities, service=service, hub=hub, before=deployed, after=draft
                )
                notes += observed_notes
        except PolicyError as exc:
            discriminating, evaluated = [], []
            notes.append(f"probes cannot evaluate the policies: {exc}")
        denied, allowed = choose_probes(discriminating)
        self._evaluated = len(evaluated)
        probes_denied, probes_allowed, probes = with_observed(denied, allowed, observed)
        self.planned_probes = probes
        return replace(
            plan,
            probes_denied=probes_denied,
            probes_allowed=probes_allowed,
            probes=probes,
            notes=tuple(notes),
        )

    async def close(self) -> None:
        """Close probe clients."""
        if self._runner is not None:
            await self._runner.close()
            self._runner = None
