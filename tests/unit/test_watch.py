"""The pure propagation-watch decision, driven by a fake clock (no sleeping)."""

from __future__ import annotations

import pytest

from vpce_console.services.watch import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    INCONCLUSIVE,
    Observation,
    Phase,
    Watch,
    WatchProbe,
    WatchStatus,
    phase_of,
)

A = WatchProbe("a", before=ALLOW, after=EXPLICIT_DENY)
B = WatchProbe("b", before=IMPLICIT_DENY, after=ALLOW)


def obs(pid: str, at: float, outcome: str) -> Observation:
    return Observation(pid, at, outcome)


def test_pending_until_every_probe_has_its_streak() -> None:
    watch = Watch((A, B), applied_at=100.0, deadline=60, required_streak=3)
    seen = [obs("a", 101 + i, EXPLICIT_DENY) for i in range(3)] + [obs("b", 101, ALLOW), obs("b", 102, ALLOW)]
    assert watch.status(110, seen) is WatchStatus.PENDING
    seen.append(obs("b", 103, ALLOW))
    report = watch.report(110, seen)
    assert report.status is WatchStatus.CONVERGED
    assert report.converged_at == 103
    assert report.propagation_seconds == pytest.approx(3.0)
    assert {p.probe_id: p.streak for p in report.probes} == {"a": 3, "b": 3}


def test_old_answer_resets_streak_before_convergence_without_counting_a_flap() -> None:
    watch = Watch((A,), applied_at=0, deadline=60, required_streak=3)
    seen = [obs("a", 1, EXPLICIT_DENY), obs("a", 2, EXPLICIT_DENY), obs("a", 3, ALLOW), obs("a", 4, EXPLICIT_DENY)]
    report = watch.report(5, seen)
    assert report.status is WatchStatus.PENDING
    assert report.probes[0].streak == 1
    assert report.probes[0].old == 1
    assert report.flaps == 0


def test_flapping_after_convergence_then_reconverged() -> None:
    watch = Watch((A,), applied_at=0, deadline=60, required_streak=2)
    seen = [obs("a", 1, EXPLICIT_DENY), obs("a", 2, EXPLICIT_DENY), obs("a", 3, ALLOW)]
    report = watch.report(3.5, seen)
    assert report.status is WatchStatus.FLAPPING
    assert report.flaps == 1 and report.probes[0].flaps == 1
    assert report.converged_at == 2
    seen += [obs("a", 4, EXPLICIT_DENY), obs("a", 5, EXPLICIT_DENY)]
    report = watch.report(6, seen)
    assert report.status is WatchStatus.CONVERGED
    assert report.converged_at == 2 and report.reconverged_at == 5
    assert report.flaps == 1


def test_timed_out_when_deadline_passes_unconverged() -> None:
    watch = Watch((A,), applied_at=10, deadline=30, required_streak=3)
    seen = [obs("a", 11, EXPLICIT_DENY), obs("a", 12, ALLOW)]
    assert watch.status(40, seen) is WatchStatus.PENDING  # exactly at the deadline: still pending
    assert watch.status(40.01, seen) is WatchStatus.TIMED_OUT


def test_converged_never_times_out() -> None:
    watch = Watch((A,), applied_at=0, deadline=5, required_streak=1)
    assert watch.status(1000, [obs("a", 1, EXPLICIT_DENY)]) is WatchStatus.CONVERGED


def test_inconclusive_answers_neither_extend_nor_break_a_streak() -> None:
    watch = Watch((A,), applied_at=0, deadline=60, required_streak=3)
    seen = [obs("a", 1, EXPLICIT_DENY), obs("a", 2, INCONCLUSIVE), obs("a", 3, EXPLICIT_DENY)]
    report = watch.report(4, seen)
    assert report.probes[0].streak == 2 and report.probes[0].inconclusive == 1
    seen.append(obs("a", 5, EXPLICIT_DENY))
    assert watch.status(6, seen) is WatchStatus.CONVERGED


def test_observations_in_the_future_and_unknown_probes_are_ignored() -> None:
    watch = Watch((A,), applied_at=0, deadline=60, required_streak=1)
    assert watch.status(1, [obs("a", 2, EXPLICIT_DENY), obs("zzz", 0.5, EXPLICIT_DENY)]) is WatchStatus.PENDING


def test_observation_order_does_not_matter() -> None:
    watch = Watch((A,), applied_at=0, deadline=60, required_streak=2)
    seen = [obs("a", 3, EXPLICIT_DENY), obs("a", 1, ALLOW), obs("a", 2, EXPLICIT_DENY)]
    assert watch.report(4, seen).converged_at == 3


def test_no_probes_never_converges() -> None:
    watch = Watch((), applied_at=0, deadline=10)
    assert watch.status(5, []) is WatchStatus.PENDING
    assert watch.status(11, []) is WatchStatus.TIMED_OUT


@pytest.mark.parametrize(
    ("before", "after", "seen", "expected"),
    [
        (ALLOW, EXPLICIT_DENY, EXPLICIT_DENY, Phase.NEW),
        (ALLOW, EXPLICIT_DENY, ALLOW, Phase.OLD),
        (ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Phase.NEW),  # did not pass the endpoint: new-looking
        (IMPLICIT_DENY, EXPLICIT_DENY, EXPLICIT_DENY, Phase.NEW),
        (IMPLICIT_DENY, EXPLICIT_DENY, IMPLICIT_DENY, Phase.OLD),
        (IMPLICIT_DENY, EXPLICIT_DENY, ALLOW, Phase.INCONCLUSIVE),
        (EXPLICIT_DENY, ALLOW, INCONCLUSIVE, Phase.INCONCLUSIVE),
    ],
)
def test_phase_of(before: str, after: str, seen: str, expected: Phase) -> None:
    assert phase_of(WatchProbe("p", before, after), seen) is expected


def test_required_streak_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Watch((A,), applied_at=0, required_streak=0)
