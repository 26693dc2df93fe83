"""The console's rollout view folds the service's typed events: the same words per step as before the types."""

from __future__ import annotations

from vpce_console.services import rollout_events as ev
from vpce_console.services.rollout_model import RolloutSummary
from vpce_console.services.watch import ProbeState, WatchReport, WatchStatus
from vpce_console.tui.rollout_tracker import RolloutTracker


def test_steps_rounds_and_summary_become_the_view() -> None:
    tracker = RolloutTracker()
    tracker.event(ev.LintChecked(errors=0, warnings=1, findings=()))
    tracker.event(ev.Diffed(diff="--- a\n+++ b"))
    tracker.event(ev.Journaled(journal_id="j1", path="/j"))
    tracker.event(ev.DryRun(outcome="ok", note=""))
    tracker.event(ev.Modified(endpoint_id="vpce-1"))
    view = tracker.event(ev.Verified(exact=True, sha256="ab"))
    assert view.applied and view.status == "pending" and view.journal_id == "j1"
    probe = ProbeState("p1", 2, 2, 2, 0, 0, 1, "explicit_deny", 1.0)
    view = tracker.event(
        ev.ProbeRound(number=1, report=WatchReport(WatchStatus.PENDING, 9.0, 3.25, None, None, (probe,), 0))
    )
    assert view.status == "pending" and view.elapsed == 3.25
    assert (view.probes[0].name, view.probes[0].expected, view.probes[0].last) == ("p1", "new", "explicit_deny")
    tracker.event(ev.StatusChanged(status=WatchStatus.CONVERGED, elapsed=4.6))
    tracker.event(ev.LeaseChanged(action="released", lease_id="L1"))
    done = tracker.finish(RolloutSummary("converged", 4.6, 0.5, 1, "j1"))
    assert done.done and done.status == "converged"
    assert list(done.evidence) == [
        "lint: 0 error(s), 1 warning(s)",
        "journaled as j1",
        "dry run: ok",
        "written (ModifyVpcEndpoint ok)",
        "verified: the API returns the new document",
        "status: converged at 5s",
        "lease: action released, lease_id L1",
        "converged",
    ]


def test_a_refusal_ends_the_view_with_its_reason() -> None:
    view = RolloutTracker().event(ev.Refused(reason="stale base", diff="--- base"))
    assert (view.done, view.status, view.reason) == (True, "refused", "stale base")
    assert view.evidence == ("refused: stale base",)


def test_a_stale_lease_refusal_offers_its_lease_id_and_a_live_one_does_not() -> None:
    """Only a stale lease (holder gone or expired) is breakable: the view carries its id for `x`; a live holder's
    refusal carries none, so nobody is offered to break a lease that is really in use."""
    from vpce_console.services.lease import LeaseInfo

    holder = LeaseInfo("99db047da8c4", "vpce-1", "arn:aws:iam::111111111111:user/op", "vm", 4242, 0.0, 300.0)
    stale = RolloutTracker().event(ev.Refused(reason="stale lease", holder=holder, by_lease=True, stale=True))
    live = RolloutTracker().event(ev.Refused(reason="being changed", holder=holder, by_lease=True))
    assert stale.stale_lease == "99db047da8c4" and live.stale_lease == ""
    assert ev.Refused(reason="r", holder=holder, by_lease=True, stale=True).to_json()["stale"] is True
    assert "stale" not in ev.Refused(reason="r", holder=holder, by_lease=True).to_json()
