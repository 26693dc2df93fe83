"""Rollback: which document to restore (the journal decides), the retry of an interrupted one, and the denial guard."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from vpce_console.errors import AwsError
from vpce_console.services.journal import sha256_text
from vpce_console.services.watch import (
    WatchReport,
)

if TYPE_CHECKING:
    from vpce_console.aws.writes import EndpointPolicy
    from vpce_console.services.journal import RollbackTarget
    from vpce_console.services.plan import RolloutPlan
from vpce_console.services.rollout_apply import ApplySteps
from vpce_console.services.rollout_events import Refused, RollingBack
from vpce_console.services.rollout_model import (
    RolloutOptions,
    RolloutSummary,
)


class RollbackSteps(ApplySteps):
    """Rollback."""

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
            self.emit(Refused(reason=reason))
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
            self.emit(Refused(reason=str(exc)))
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
        self.emit(RollingBack(journal_id=interrupted.journal_id, rollback_of=target.entry.journal_id, already=True))
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
