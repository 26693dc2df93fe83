"""Folds the rollout service's typed events into the view the rollout screen shows (steps log, probes, status)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vpce_console.services import rollout_events as ev
from vpce_console.tui.models import ProbeView, WatchView

if TYPE_CHECKING:
    from vpce_console.services.plan import RolloutPlan
    from vpce_console.services.rollout_model import RolloutSummary


def plan_summary(plan: RolloutPlan) -> str:
    """One log line for a plan: versions, who is affected in each direction, and how it will be proven."""
    proof = (
        f"{len(plan.probes_denied)} probe(s) for newly denied, {len(plan.probes_allowed)} for newly allowed"
        if plan.observable
        else "no probe can observe this change (it will end UNOBSERVED)"
    )
    return (
        f"plan: {plan.deployed_version} → {plan.new_version}: {len(plan.newly_denied)} newly denied, "
        f"{len(plan.newly_allowed)} newly allowed; {proof}"
    )


class RolloutTracker:
    """The state of one rollout as its events arrive; `event` and `finish` return the new view."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.labels: dict[str, tuple[str, str]] = {}
        """probe id -> (label, decision expected after the change)."""
        self.probes: tuple[ProbeView, ...] = ()
        self.status = "planning"
        self.elapsed = 0.0
        self.applied = False
        self.journal_id = ""
        self.plan: RolloutPlan | None = None
        """The service's plan once it is built."""
        self.stale_lease = ""
        """The lease id of a stale lease that refused this write (breakable by typing it)."""

    def view(self, *, done: bool = False, reason: str = "") -> WatchView:
        """The current state as the screen's view (the last 12 log lines)."""
        return WatchView(
            self.status,
            self.elapsed,
            self.probes,
            tuple(self.log[-12:]),
            self.applied,
            done,
            reason,
            journal_id=self.journal_id,
            plan=self.plan,
            stale_lease=self.stale_lease,
        )

    def event(self, event: ev.RolloutEvent) -> WatchView:
        """Fold one event in and return the new view."""
        match event:
            case ev.Planned(plan=plan):
                self.plan = plan
                self.log.append(plan_summary(plan))
            case ev.Refused(reason=reason, holder=holder, stale=stale):
                self.status = "refused"
                self.stale_lease = holder.lease_id if stale and holder is not None else ""
                self.log.append(f"refused: {reason}")
                return self.view(done=True, reason=reason)
            case ev.Journaled(journal_id=journal_id):
                self.journal_id = journal_id or self.journal_id
                self.log.append(f"journaled as {journal_id}")
            case ev.RollingBack(journal_id=journal_id, rollback_of=of, restore_sha256=sha):
                self.journal_id = journal_id or self.journal_id
                self.log.append("rollback" if sha is None else f"rolling back {of}: restoring {sha:.12}")
            case ev.LintChecked(errors=errors, warnings=warnings):
                self.log.append(f"lint: {errors} error(s), {warnings} warning(s)")
            case ev.DryRun(outcome=outcome):
                self.log.append(f"dry run: {outcome}")
            case ev.Modified(outcome=outcome):
                self.log.append(f"written (ModifyVpcEndpoint {outcome})")
            case ev.Verified() | ev.Unverified():  # written either way: the watch decides what is in force
                self.applied = True
                self.status = "pending"
                self.log.append("verified: the API returns the new document")
            case ev.ProbesChosen(probes=probes, count=count):
                for probe in probes:
                    self.labels[probe.probe_id] = (probe.label or probe.probe_id, probe.after)
                self.log.append(f"{count} probes")
            case ev.ProbeRound(report=report):
                self.status = str(report.status)
                self.elapsed = event.elapsed
                self.probes = tuple(
                    ProbeView(
                        name=self.labels.get(p.probe_id, (p.probe_id, ""))[0],
                        expected=self.labels.get(p.probe_id, ("", "new"))[1] or "new",
                        last=p.last_outcome or "-",
                        streak=p.streak,
                        flaps=p.flaps,
                    )
                    for p in report.probes
                )
            case ev.StatusChanged(status=status, elapsed=elapsed):
                self.status = str(status)
                self.log.append(f"status: {self.status} at {elapsed:.0f}s")
            case ev.PassiveEvidence(events=events):
                self.log.append(f"passive evidence: {events} CloudTrail denial(s) under the new policy")
            case ev.PassiveFailed():
                self.log.append("passive evidence: 0 CloudTrail denial(s) under the new policy")
            case ev.ImpactAssessed(changed=changed, note=note):
                self.log.append(f"impact: {len(changed)} decision(s) change" + (f" ({note})" if note else ""))
            case ev.NoProbes(message=message):
                self.log.append(message or "no probe can observe this change")
            case ev.Recovered(journal_id=journal_id, state=state):
                self.log.append(f"journal: {journal_id} was {state}")
            case ev.Diffed():
                pass  # the diff has its own step on screen
            case _:  # journal_skipped, flapping, denials, unreachable, superseded, lease: their fields in words
                words = {
                    k: v
                    for k, v in event.to_json().items()
                    if k not in ("event", "time", "path") and isinstance(v, str | int | float)
                }
                self.log.append(f"{event.KIND}: " + ", ".join(f"{k} {v}" for k, v in words.items())[:100])
        return self.view()

    def finish(self, summary: RolloutSummary) -> WatchView:
        """The closing view from the rollout's summary."""
        self.status = str(summary.status)
        if summary.propagation_seconds is not None:
            self.elapsed = max(self.elapsed, float(summary.propagation_seconds))
        self.log.append(f"{summary.status}: {summary.reason}" if summary.reason else str(summary.status))
        return self.view(done=True, reason=str(summary.reason))
