"""The seam between the console and the services: one async object the workers call, passed in, never global.

`commands/console_backend.py` is the real one (services over the AWS gateway), built by `commands/console.py`'s
connector after the first frame; tests may pass another built on the same services. Widgets never see it — only
workers do (STYLE.md rule 3).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from vpce_console.policy.vocab import FractionProgress
from vpce_console.tui.models import ChangeRow, DenialHistory, DenialRow, HeaderInfo, Snapshot, TrailUsage, WatchView

if TYPE_CHECKING:
    from vpce_console.policy.record import ContextMap
    from vpce_console.services.plan import RolloutPlan

ReplayDoc = dict[str, object]
"""A replay report as JSON (`ReplayReport.to_json()`), what the editor's Observed tab and the plan step read."""


class LoadReporter(Protocol):
    """A `FractionProgress` that also takes the endpoint rows known before the rest of the load finishes.

    It travels through `load`'s `progress` argument, so backends that cannot list endpoints early (or predate
    this) keep their signature and simply call it as a `FractionProgress`; a backend that can checks for
    `endpoints`.
    """

    def __call__(self, what: str, fraction: float) -> None:
        """What is loading now."""
        ...

    def endpoints(self, snapshot: Snapshot) -> None:
        """A partial snapshot: endpoint rows only; subscribers and lint counts are not known yet."""
        ...


class Backend(Protocol):
    """What the console needs from the outside world."""

    async def header(self) -> HeaderInfo:
        """Caller identity, account and region for the header."""
        ...

    async def load(self, progress: FractionProgress | None = None) -> Snapshot:
        """Inventory, doctor findings and cost in one snapshot.

        When `progress` is a `LoadReporter`, a backend may hand it the endpoint rows as soon as they are read.
        """
        ...

    def rollout(
        self,
        endpoint_id: str,
        expected: str | None,
        draft: str,
        *,
        timeout: float | None = None,
        break_lease: str | None = None,
    ) -> AsyncIterator[WatchView]:
        """Write `draft` if the deployed document still equals `expected` (compare-and-swap), then watch it
        propagate; yields the flow's state after every step and round until converged, timed out or refused.
        `break_lease` is a stale lease's id the person typed: it breaks that one lease."""
        ...

    def rollback(
        self,
        endpoint_id: str,
        *,
        to: str | None = None,
        timeout: float | None = None,
        break_lease: str | None = None,
    ) -> AsyncIterator[WatchView]:
        """Restore the document in force before change `to` (default: the last change that is not a rollback),
        then watch it propagate like any rollout; yields the same views as `rollout`."""
        ...

    def resume(self, endpoint_id: str, *, timeout: float | None = None) -> AsyncIterator[WatchView]:
        """Watch an unfinished change that is live on the endpoint (its process stopped before convergence)."""
        ...

    async def plan(self, endpoint_id: str, draft: str, expected: str | None = None) -> RolloutPlan:
        """The rollout plan for `draft` (`services.plan.RolloutPlan`), writing nothing."""
        ...

    async def rollback_plan(self, endpoint_id: str, to: str | None = None) -> RolloutPlan:
        """What rolling back change `to` would restore, change, affect and probe (`refused` says why not)."""
        ...

    async def replay(self, endpoint_id: str, draft: str, *, days: int = 7) -> ReplayDoc:
        """The draft replayed against the endpoint's last `days` of trail calls; raises (a plain message) when
        there is no trail to replay or it cannot be read."""
        ...

    def cached_replay(self, endpoint_id: str, draft: str) -> ReplayDoc | None:
        """The last replay of exactly this draft on this endpoint (what the editor's Observed tab showed), or None."""
        ...

    def observed_callers(self, endpoint_id: str, draft: str) -> list[ReplayDoc]:
        """The heaviest callers of this draft's last replay (none before one ran)."""
        ...

    def replay_facts(self) -> ContextMap:
        """What replay may take as known beyond a trail record (`replay:` config): org ids, role tags."""
        ...

    def probe_roles(self) -> dict[str, str]:
        """Configured probe name -> role ARN (the watch's own calls, told apart from real callers' denials)."""
        ...

    async def history(self, endpoint_id: str | None = None) -> Sequence[ChangeRow]:
        """Journal entries, oldest first (all endpoints, or one)."""
        ...

    async def trail_usage(self, progress: FractionProgress | None = None) -> TrailUsage:
        """Calls and denials per endpoint and per spoke × service over the trail window (state `off` without a
        `trail:` config); called after `load`, whose inventory maps source IPs to spoke VPCs."""
        ...

    async def denial_history(self, progress: FractionProgress | None = None) -> DenialHistory:
        """The trail's denials of the last day (or the configured window), grouped by who and what."""
        ...

    def tail(self) -> AsyncIterator[Sequence[DenialRow]]:
        """Batches of new denials, forever."""
        ...

    async def close(self) -> None:
        """Release sessions (and a lab child, if we started one)."""
        ...


Connector = Callable[[], Awaitable[Backend]]
"""Builds the backend after the first frame (imports the SDK, may start a lab)."""
