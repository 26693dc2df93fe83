"""Eventual consistency of endpoint policies: after a change, requests see the old or new document for a while."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Change:
    """The last policy change of one endpoint."""

    old: str
    """Policy text the fleet enforced before the change."""
    new: str
    changed_at: float
    fully_propagated_at: float


def parse_window(text: str) -> tuple[float, float]:
    """`MIN:MAX` seconds (or one number) -> (min, max); ValueError on nonsense."""
    parts = text.split(":")
    if len(parts) == 1:
        parts = [parts[0], parts[0]]
    if len(parts) != 2:
        raise ValueError(f"--propagation wants MIN:MAX seconds, got {text!r}")
    low, high = float(parts[0]), float(parts[1])
    if low < 0 or high < low:
        raise ValueError(f"--propagation wants 0 <= MIN <= MAX, got {text!r}")
    return low, high


class Propagation:
    """Per-endpoint windows; inside one, each request sees the new document with probability ((t-t0)/(t1-t0))^2."""

    def __init__(
        self,
        window: tuple[float, float] = (20.0, 60.0),
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.window = window
        self.rng = rng or random.Random()
        self.clock = clock
        self._changes: dict[str, Change] = {}
        self._lock = threading.Lock()

    def changed(self, endpoint_id: str, old: str, new: str) -> Change:
        """Record a policy change made now; the window length is drawn from the configured range."""
        now = self.clock()
        with self._lock:
            previous = self._changes.get(endpoint_id)
            if previous is not None and now < previous.fully_propagated_at:
                # hosts that had not picked up the previous change still serve its old document
                old = previous.old if self.rng.random() > self._p_new(previous, now) else previous.new
            change = Change(old, new, now, now + self.rng.uniform(*self.window))
            self._changes[endpoint_id] = change
            return change

    @staticmethod
    def _p_new(change: Change, now: float) -> float:
        span = change.fully_propagated_at - change.changed_at
        if span <= 0 or now >= change.fully_propagated_at:
            return 1.0
        return max(0.0, (now - change.changed_at) / span) ** 2

    def effective(self, endpoint_id: str, current: str) -> str:
        """The document the host that serves this request enforces right now."""
        now = self.clock()
        with self._lock:
            change = self._changes.get(endpoint_id)
        if change is None or now >= change.fully_propagated_at:
            return current
        return change.new if self.rng.random() < self._p_new(change, now) else change.old

    def snapshot(self) -> dict[str, dict[str, dict[str, float]]]:
        """The `/lab-api/propagation` body: the truth tests compare against."""
        with self._lock:
            return {
                "endpoints": {
                    eid: {"changed_at": c.changed_at, "fully_propagated_at": c.fully_propagated_at}
                    for eid, c in self._changes.items()
                }
            }
