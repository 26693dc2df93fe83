"""Messages workers post to their screens: results flow up as messages, never as direct widget calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.message import Message

from vpce_console.tui.backend import Backend
from vpce_console.tui.models import (
    ChangeRow,
    DenialHistory,
    DenialRow,
    HeaderInfo,
    Snapshot,
    TrailUsage,
    WatchView,
)

if TYPE_CHECKING:
    from vpce_console.services.plan import RolloutPlan


class Connected(Message):
    """The backend is built and the caller identity known."""

    def __init__(self, backend: Backend, header: HeaderInfo) -> None:
        super().__init__()
        self.backend = backend
        self.header = header


class LoadProgress(Message):
    """Part of the inventory is loading; drives the progress indicator."""

    def __init__(self, what: str, fraction: float) -> None:
        super().__init__()
        self.what = what
        self.fraction = fraction


class EndpointsListed(Message):
    """The hub's endpoints are read while the rest loads: rows to show at once (subscribers, lint not known yet)."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class SnapshotLoaded(Message):
    """A fresh inventory snapshot (endpoints, subscribers, doctor, cost)."""

    def __init__(self, snapshot: Snapshot, fetched_at: float) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.fetched_at = fetched_at


class TrailProgress(Message):
    """The trail sync or query is running (`what`), or finished (empty)."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what


class TrailLoaded(Message):
    """Calls and denials over the trail window (or why there are none)."""

    def __init__(self, usage: TrailUsage) -> None:
        super().__init__()
        self.usage = usage


class DenialHistoryLoaded(Message):
    """The trail's denials of the last window, for the Denials pane's backfill."""

    def __init__(self, history: DenialHistory) -> None:
        super().__init__()
        self.history = history


class DenialsArrived(Message):
    """A batch of new denials from the tail."""

    def __init__(self, rows: Sequence[DenialRow]) -> None:
        super().__init__()
        self.rows = tuple(rows)


class WatchTick(Message):
    """One observation round of the propagation watch."""

    def __init__(self, view: WatchView, run: int = 0) -> None:
        super().__init__()
        self.view = view
        self.run = run
        """Which write on the screen it belongs to (a rollback starts a new run; older ticks are dropped)."""


class HistoryLoaded(Message):
    """Journal entries read by a worker (all, or one endpoint's)."""

    def __init__(self, changes: Sequence[ChangeRow], endpoint_id: str | None = None) -> None:
        super().__init__()
        self.changes = tuple(changes)
        self.endpoint_id = endpoint_id


class PolicyWritten(Message):
    """A write to an endpoint's policy was verified: every screen showing that endpoint refreshes it."""

    def __init__(self, endpoint_id: str, text: str) -> None:
        super().__init__()
        self.endpoint_id = endpoint_id
        self.text = text


class PlanReady(Message):
    """The services' rollout plan (what changes, who is affected, which probes prove it), or None if unavailable."""

    def __init__(self, plan: RolloutPlan | None, *, kind: str, journal_id: str = "", note: str = "") -> None:
        super().__init__()
        self.plan = plan
        """What the services plan to write (the TUI renders its `lines()` and reads `refused`)."""
        self.kind = kind
        """`apply` (the plan step) or `rollback` (the preview before the typed confirmation)."""
        self.journal_id = journal_id
        """For a rollback: the change it undoes."""
        self.note = note
        """Why there is no plan (the backend cannot build one, or building it failed)."""
