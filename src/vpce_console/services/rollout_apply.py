"""Plan and apply: read, check the base, lint, evaluate the impact, choose probes, write and watch."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from vpce_console.errors import AwsError
from vpce_console.services.journal import sha256_text

if TYPE_CHECKING:
    from vpce_console.aws.writes import EndpointPolicy
    from vpce_console.policy.personas import HubEndpoint
    from vpce_console.services.plan import RolloutPlan
from vpce_console.services.rollout_events import Journaled, LintChecked, LintLine, Planned, Refused, RollingBack
from vpce_console.services.rollout_model import (
    RolloutOptions,
    RolloutSummary,
    _hub,
    _maybe_crash,
    _Refused,
    _Unverified,
)
from vpce_console.services.rollout_watch import WatchSteps


class ApplySteps(WatchSteps):
    """Plan and apply."""

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
    ) -> tuple[RolloutPlan, EndpointPolicy | None, HubEndpoint | None]:
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
            self.emit(refused.event())
            return plan, endpoint, hub
        self._emit_plan(plan, deployed, text)
        return plan, endpoint, hub

    def _emit_plan(self, plan: RolloutPlan, deployed: str, text: str) -> None:
        self.emit(Planned(plan=plan, deployed_sha256=sha256_text(deployed), draft_sha256=sha256_text(text)))

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
            self.emit(Journaled(journal_id=journal_id, path=str(self.ctx.journal.path)))
            if kind == "rollback":
                self.emit(RollingBack(journal_id=journal_id, rollback_of=rollback_of, restore_sha256=sha256_text(text)))
            _maybe_crash("journal")
            written_at = await self.write(journal_id, endpoint, text, opts.account_id)
        except _Refused as refused:
            self.emit(refused.event())
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
            self.emit(Refused(reason=reason))
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
            LintChecked(
                errors=len(errors),
                warnings=warnings,
                findings=tuple(LintLine(f.code, str(f.severity), f.line, f.message) for f in findings),
            )
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
