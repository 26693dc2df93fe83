"""The Denials pane: the live tail and the trail's history, bounded, filterable, with a rate sparkline."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import Sparkline, Static

from vpce_console.tui.models import (
    DenialHistory,
    DenialRow,
)
from vpce_console.tui.widgets.denial_list import DenialList
from vpce_console.tui.widgets.pane_base import (
    Pane,
)

MAX_DENIALS = 500
"""Denials kept in memory (newest first); older ones fall off."""


MAX_DENIAL_ROWS = 100
"""Denials drawn in the table at once; drawing more only costs frame time."""


class DenialsPane(Pane):
    """The live denial tail: newest first, bounded, filterable, pausable, with a rate sparkline."""

    PANE_NAME = "denials"
    TITLE = "Denials"
    HELP_SCOPE = "denials"

    paused: reactive[bool] = reactive(False)
    """When paused the table stays still; new denials are counted and shown on resume."""
    progress: reactive[str] = reactive("")
    """The trail backfill's progress while it runs."""

    def __init__(self, *, clock: Callable[[], float] = time.time, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.rows: deque[DenialRow] = deque(maxlen=MAX_DENIALS)
        self.total_seen = 0
        self.held = 0
        self.rate_buckets: deque[tuple[int, int]] = deque(maxlen=60)
        self.dirty = False
        self.history: DenialHistory | None = None
        """The trail's denials of the last window (shown after the live rows, marked `trail`); None while loading."""

    def compose(self) -> ComposeResult:
        yield self.compose_title()
        yield Static("", id="denials-status")
        yield Sparkline([0.0], id="denials-rate", summary_function=max)
        yield DenialList(id="denials-table")

    def on_mount(self) -> None:
        self.update_title()
        self.update_status()
        self.set_interval(0.25, self.flush, name="denials-flush")

    def update_title(self, extra: str = "") -> None:
        """Title with the kept and seen counts, always."""
        super().update_title(extra or f"{len(self.rows)} kept (max {MAX_DENIALS}), {self.total_seen} seen")

    def add(self, rows: Iterable[DenialRow]) -> None:
        """Take a batch from the tail; drawing happens on the next flush tick, not per batch."""
        count = 0
        for row in rows:
            self.rows.appendleft(row)
            count += 1
        self.loaded = True
        if not count:
            return
        self.total_seen += count
        second = int(self.clock())
        if self.rate_buckets and self.rate_buckets[-1][0] == second:
            self.rate_buckets[-1] = (second, self.rate_buckets[-1][1] + count)
        else:
            self.rate_buckets.append((second, count))
        if self.paused:
            self.held += count
        else:
            self.dirty = True

    def set_history(self, history: DenialHistory) -> None:
        """Backfill from the trail (grouped rows, older than the live tail's); drawn on the next flush."""
        self.history = history
        self.loaded = True
        self.dirty = True
        if self.is_mounted:
            self.update_status()

    def all_rows(self) -> list[DenialRow]:
        """Live rows (newest first), then the trail's history rows (newest first)."""
        return [*self.rows, *(self.history.rows if self.history is not None else ())]

    def watch_progress(self) -> None:
        if self.is_mounted:
            self.update_status()

    def history_status(self) -> str:
        """What the backfill found, in words (or why there is none)."""
        history = self.history
        if history is None:
            return self.progress or "history: loading…"
        if history.state != "ok":
            return f"history: {history.note}"
        if not history.rows:
            text = f"history: no denials in the trail in the last {history.window}"
            text += " (`vpce denials --since 7d` looks back further)"
        else:
            total = sum(r.count for r in history.rows)
            text = f"history ◷: {total:,} denials in {len(history.rows)} groups from the trail, last {history.window}"
        return " · ".join([text, *history.skipped])

    def flush(self) -> None:
        """Redraw when something changed (at most four times a second)."""
        if self.dirty and not self.paused:
            self.dirty = False
            self.rerender()
        self.update_status()

    def watch_paused(self, paused: bool) -> None:
        if not paused:
            self.held = 0
            self.dirty = True
            self.flush()
        elif self.is_mounted:
            self.update_status()

    def fields(self, row: DenialRow) -> dict[str, str]:
        return {
            "endpoint": row.endpoint_id,
            "service": row.service,
            "account": row.account_id,
            "reason": row.reason,
            "principal": row.principal,
            "action": row.action,
            "version": row.policy_version,
            "source": "trail" if row.history else "live",
        }

    def visible_rows(self) -> list[DenialRow]:
        """Newest first, filtered, at most MAX_DENIAL_ROWS."""
        flt = self.row_filter
        out: list[DenialRow] = []
        for row in self.all_rows():
            if flt.empty or flt.matches(self.fields(row)):
                out.append(row)
                if len(out) >= MAX_DENIAL_ROWS:
                    break
        return out

    def rerender(self) -> None:
        self.query_one(DenialList).show(self.visible_rows(), self.variables)
        self.update_title()

    def rate(self) -> float:
        """Denials per second over the last ten seconds."""
        now = int(self.clock())
        recent = sum(count for second, count in self.rate_buckets if now - second < 10)
        return recent / 10.0

    def update_status(self) -> None:
        """Live/paused line and the per-second rate sparkline."""
        if not self.is_mounted:
            return
        state = f"⏸ PAUSED — {self.held} new held" if self.paused else "● live"
        self.query_one("#denials-status", Static).update(
            Text(
                f"{state} · {self.rate():.1f}/s · newest first\n{self.history_status()}",
                no_wrap=True,
                overflow="ellipsis",
            )
        )
        now = int(self.clock())
        counts = dict(self.rate_buckets)
        self.query_one("#denials-rate", Sparkline).data = [float(counts.get(now - age, 0)) for age in range(59, -1, -1)]

    def selected(self) -> DenialRow | None:
        """The denial under the cursor."""
        return self.query_one(DenialList).selected()

    def focus_main(self) -> None:
        self.query_one(DenialList).focus()
