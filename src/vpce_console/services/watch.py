"""The propagation watch decision: has the new endpoint policy really taken effect everywhere we can see?

AWS returns the new document at once but keeps enforcing the old one for minutes, with hosts converging at random.
This module is pure (no I/O, the clock is an argument), so every branch is tested without sleeping; the rollout
service feeds it observations and renders the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

ALLOW = "allow"
EXPLICIT_DENY = "explicit_deny"
IMPLICIT_DENY = "implicit_deny"
INCONCLUSIVE = "inconclusive"
"""An answer that says nothing about the endpoint policy (throttled, dropped, denied by another policy type)."""


class WatchStatus(StrEnum):
    """Where a propagation watch stands."""

    PENDING = "pending"
    CONVERGED = "converged"
    FLAPPING = "flapping"
    """Converged once, then some probe showed the old behaviour again and has not re-established its streak."""
    TIMED_OUT = "timed_out"


class Phase(StrEnum):
    """Which policy version an observation looks like."""

    NEW = "new"
    OLD = "old"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class WatchProbe:
    """One discriminating check: the endpoint decision it must show before and after the change."""

    probe_id: str
    """Stable id, e.g. `self:sqs:GetQueueAttributes:arn:aws:sqs:…:orders`."""
    before: str
    """Endpoint decision under the deployed policy: allow | explicit_deny | implicit_deny."""
    after: str
    """Endpoint decision under the new policy."""
    label: str = ""
    """Human description, e.g. `bastion → sqs:GetQueueAttributes on orders`."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One probe answer at one moment, already classified to an endpoint decision."""

    probe_id: str
    at: float
    """Clock time of the answer (same clock as the watch)."""
    outcome: str
    """allow | explicit_deny | implicit_deny | inconclusive."""
    detail: str = ""
    """Error code or reason behind the outcome, for display."""


def _allowed(outcome: str) -> bool:
    return outcome == ALLOW


def phase_of(probe: WatchProbe, outcome: str) -> Phase:
    """Whether an observed endpoint decision matches the new policy, the old one, or neither.

    An exact match wins; otherwise allow-vs-deny decides (an explicit deny where an implicit one was expected still
    tells us the request did not pass), and anything else is inconclusive.
    """
    if outcome == INCONCLUSIVE:
        return Phase.INCONCLUSIVE
    if outcome == probe.after and outcome != probe.before:
        return Phase.NEW
    if outcome == probe.before and outcome != probe.after:
        return Phase.OLD
    if _allowed(outcome) != _allowed(probe.before) and _allowed(outcome) == _allowed(probe.after):
        return Phase.NEW
    if _allowed(outcome) == _allowed(probe.before) and _allowed(outcome) != _allowed(probe.after):
        return Phase.OLD
    return Phase.INCONCLUSIVE


@dataclass(frozen=True, slots=True)
class ProbeState:
    """What one probe has shown so far."""

    probe_id: str
    streak: int
    """New-looking answers in a row (inconclusive answers neither extend nor break it)."""
    observations: int
    new: int
    old: int
    inconclusive: int
    flaps: int
    """Old-looking answers after the whole watch had converged."""
    last_outcome: str | None
    last_at: float | None


@dataclass(frozen=True, slots=True)
class WatchReport:
    """The full picture at `now`: status, elapsed time and each probe's streak and flaps."""

    status: WatchStatus
    now: float
    elapsed: float
    """Seconds since the change was applied."""
    converged_at: float | None
    """Clock time the watch first converged (None before that)."""
    reconverged_at: float | None
    """Clock time the latest convergence was (re-)established; equals converged_at without flaps."""
    probes: tuple[ProbeState, ...]
    flaps: int

    @property
    def propagation_seconds(self) -> float | None:
        """Seconds from the apply to the first convergence."""
        return None if self.converged_at is None else self.converged_at - (self.now - self.elapsed)


@dataclass(frozen=True, slots=True)
class Watch:
    """Decide from probe observations whether a policy change has propagated."""

    probes: tuple[WatchProbe, ...]
    applied_at: float
    """Clock time the new document was written."""
    deadline: float = 900.0
    """Seconds after applied_at before an unconverged watch times out (issue default: 15 minutes)."""
    required_streak: int = 3
    """New-looking answers in a row every probe needs before the watch counts as converged."""
    _index: dict[str, WatchProbe] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.required_streak < 1:
            raise ValueError("required_streak must be at least 1")
        object.__setattr__(self, "_index", {p.probe_id: p for p in self.probes})

    def status(self, now: float, observations: Sequence[Observation]) -> WatchStatus:
        """CONVERGED once every probe has shown the new behaviour N times in a row; FLAPPING if one slips back."""
        return self.report(now, observations).status

    def report(self, now: float, observations: Iterable[Observation]) -> WatchReport:
        """Replay the observations in time order and report status, streaks and flaps at `now`."""
        ids = list(self._index)
        streak = dict.fromkeys(ids, 0)
        counts = {pid: [0, 0, 0, 0] for pid in ids}  # observations, new, old, inconclusive
        flaps = dict.fromkeys(ids, 0)
        last: dict[str, tuple[str, float]] = {}
        converged_at: float | None = None
        reconverged_at: float | None = None
        all_good = False
        for obs in sorted((o for o in observations if o.at <= now), key=lambda o: o.at):
            probe = self._index.get(obs.probe_id)
            if probe is None:
                continue
            counter = counts[obs.probe_id]
            counter[0] += 1
            last[obs.probe_id] = (obs.outcome, obs.at)
            seen = phase_of(probe, obs.outcome)
            if seen is Phase.NEW:
                counter[1] += 1
                streak[obs.probe_id] += 1
            elif seen is Phase.OLD:
                counter[2] += 1
                streak[obs.probe_id] = 0
                if converged_at is not None:
                    flaps[obs.probe_id] += 1
            else:
                counter[3] += 1
            good = bool(ids) and all(streak[pid] >= self.required_streak for pid in ids)
            if good and not all_good:
                if converged_at is None:
                    converged_at = obs.at
                reconverged_at = obs.at
            all_good = good
        if converged_at is not None and all_good:
            status = WatchStatus.CONVERGED
        elif now - self.applied_at > self.deadline:
            status = WatchStatus.TIMED_OUT
        elif converged_at is not None:
            status = WatchStatus.FLAPPING
        else:
            status = WatchStatus.PENDING
        states = tuple(
            ProbeState(
                probe_id=pid,
                streak=streak[pid],
                observations=counts[pid][0],
                new=counts[pid][1],
                old=counts[pid][2],
                inconclusive=counts[pid][3],
                flaps=flaps[pid],
                last_outcome=last[pid][0] if pid in last else None,
                last_at=last[pid][1] if pid in last else None,
            )
            for pid in ids
        )
        return WatchReport(
            status=status,
            now=now,
            elapsed=now - self.applied_at,
            converged_at=converged_at,
            reconverged_at=reconverged_at if all_good else None,
            probes=states,
            flaps=sum(flaps.values()),
        )
