"""The seam between the console and the services: one async object the workers call, passed in, never global.

`commands/console.py` builds the real one (services over the AWS gateway) after the first frame; tests may pass
another built on the same services. Widgets never see it — only workers do (STYLE.md rule 3).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol

from vpce_console.tui.models import ApplyOutcome, DenialRow, HeaderInfo, Snapshot, WatchView

Progress = Callable[[str, float], None]
"""Progress callback: (what is loading, fraction done 0..1)."""


class Backend(Protocol):
    """What the console needs from the outside world."""

    async def header(self) -> HeaderInfo:
        """Caller identity, account and region for the header."""
        ...

    async def load(self, progress: Progress | None = None) -> Snapshot:
        """Inventory, doctor findings and cost in one snapshot."""
        ...

    async def apply_policy(self, endpoint_id: str, expected: str | None, draft: str) -> ApplyOutcome:
        """Write `draft` if the deployed document still equals `expected` (compare-and-swap)."""
        ...

    def watch(self, endpoint_id: str, *, timeout: float | None = None) -> AsyncIterator[WatchView]:
        """Propagation watch ticks until converged or timed out."""
        ...

    async def rollback(self, endpoint_id: str) -> ApplyOutcome:
        """Restore the previous document byte for byte."""
        ...

    def tail(self) -> AsyncIterator[Sequence[DenialRow]]:
        """Batches of new denials, forever."""
        ...

    async def close(self) -> None:
        """Release sessions (and a lab child, if we started one)."""
        ...


Connector = Callable[[], Awaitable[Backend]]
"""Builds the backend after the first frame (imports the SDK, may start a lab)."""
