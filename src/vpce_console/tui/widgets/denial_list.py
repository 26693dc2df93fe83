"""A cheap newest-first list for the denial tail: one Text per frame instead of a DataTable's per-cell pipeline.

At 1,000 denials/s the pane redraws four times a second; a DataTable re-renders every cell of every visible row after
each clear (~1 ms per cell on a loaded 2-core host), which stalls the event loop. This widget formats fixed-width
lines once and keeps a row cursor for `v` (policy version of the selected denial).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import Widget

from vpce_console.tui.models import DenialRow
from vpce_console.tui.render import colour, short_principal

COLUMNS: tuple[tuple[str, int], ...] = (
    ("Time UTC", 8),
    ("Reason", 18),
    ("Action", 26),
    ("Endpoint", 22),
    ("Account", 12),
    ("Principal", 15),
    ("Policy ver.", 11),
)
"""Column titles and widths (characters)."""

HISTORY_MARK = "◷"
"""Marks a row backfilled from the trail (a group of denials; its time is the newest one's) against a live row."""


def _cell(value: str, width: int) -> str:
    return value[: width - 1] + "…" if len(value) > width else value.ljust(width)


class DenialList(Widget, can_focus=True):
    """Header line plus the newest rows that fit; up/down move the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "up", show=False),
        Binding("down", "cursor(1)", "down", show=False),
        Binding("home", "cursor_home", "top", show=False),
    ]

    cursor: reactive[int] = reactive(0)
    """Index of the highlighted row among the shown rows."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rows: Sequence[DenialRow] = ()
        self.variables: Mapping[str, str] = {}

    def show(self, rows: Sequence[DenialRow], variables: Mapping[str, str]) -> None:
        """Replace the rows (newest first) and redraw once."""
        self.rows = rows
        self.variables = variables
        self.cursor = min(self.cursor, max(0, len(rows) - 1))
        self.refresh()

    def render(self) -> Text:
        deny = colour(self.variables, "decision-deny")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" ".join(_cell(title, width) for title, width in COLUMNS) + "\n", style="bold")
        height = max(1, self.size.height - 1)
        for index, row in enumerate(self.rows[:height]):
            values = (
                f"{HISTORY_MARK} " + datetime.fromtimestamp(row.at, UTC).strftime("%H:%M")
                if row.history
                else datetime.fromtimestamp(row.at, UTC).strftime("%H:%M:%S"),
                f"✗ ×{row.count} (trail)" if row.history else f"✗ {row.reason}",
                row.action,
                row.endpoint_id,
                row.account_id,
                short_principal(row.principal, 15),
                row.policy_version or "?",
            )
            start = len(text)
            for column, (value, (_, width)) in enumerate(zip(values, COLUMNS, strict=True)):
                cell = _cell(value, width) + " "
                text.append(cell, style=deny if column == 1 else ("dim" if row.history and column == 0 else ""))
            if index == self.cursor and self.has_focus:
                text.stylize("reverse", start, len(text))
            text.append("\n")
        if not self.rows:
            text.append(
                "no denials yet (the tail keeps listening; trail history, if any, shows here too)", style="italic"
            )
        return text

    def action_cursor(self, delta: int) -> None:
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))
        self.refresh()

    def action_cursor_home(self) -> None:
        self.cursor = 0
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def selected(self) -> DenialRow | None:
        """The highlighted denial."""
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None
