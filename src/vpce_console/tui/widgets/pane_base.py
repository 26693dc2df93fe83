"""What every main pane shares: the title line, the filter, the cursor kept across a refresh, count words."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import ClassVar

from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from vpce_console.tui.filtering import RowFilter, parse_filter
from vpce_console.tui.models import (
    Snapshot,
)


class Pane(Vertical):
    """Base of every main pane: a title line, a filter, a stale marker and a snapshot to render."""

    PANE_NAME: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    HELP_SCOPE: ClassVar[str] = ""

    filter_text: reactive[str] = reactive("")
    """The `/` filter applied to this pane's rows."""
    stale_reason: reactive[str] = reactive("")
    """Why the data shown is old (last refresh failed); empty when fresh."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(id=self.PANE_NAME, **kwargs)  # type: ignore[arg-type]
        self.snapshot = Snapshot()
        self.loaded = False

    def compose_title(self) -> Static:
        return Static(self.TITLE, classes="pane-title", id=f"{self.PANE_NAME}-title")

    @property
    def row_filter(self) -> RowFilter:
        """The parsed filter."""
        return parse_filter(self.filter_text)

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Show a new snapshot (fresh data clears the stale marker)."""
        self.snapshot = snapshot
        self.loaded = True
        self.stale_reason = ""
        self.rerender()

    def watch_filter_text(self) -> None:
        if self.is_mounted:
            self.rerender()

    def watch_stale_reason(self) -> None:
        if self.is_mounted:
            self.set_class(bool(self.stale_reason), "stale")
            self.update_title()

    def update_title(self, extra: str = "") -> None:
        """Title line: pane name, counts, filter and staleness in words."""
        parts = [self.TITLE]
        if extra:
            parts.append(extra)
        if self.filter_text:
            parts.append(f"filter: /{self.filter_text}")
        if self.stale_reason:
            parts.append(f"STALE — {self.stale_reason}")
        elif not self.loaded:
            parts.append("loading…")
        self.query_one(f"#{self.PANE_NAME}-title", Static).update(" · ".join(parts))

    def rerender(self) -> None:
        """Redraw from `self.snapshot` and the filter."""

    def focus_main(self) -> None:
        """Focus the pane's main widget (its table)."""
        for table in self.query(DataTable):
            table.focus()
            return

    @property
    def variables(self) -> Mapping[str, str]:
        """The current theme's variables, for semantic colours."""
        return self.app.theme_variables


def _restore_cursor(table: DataTable[object], key: str | None) -> None:
    """Keep the cursor on the same row across a redraw when that row still exists."""
    if key is None:
        return
    with contextlib.suppress(Exception):  # the row is gone; leave the cursor where it is
        table.move_cursor(row=table.get_row_index(key), animate=False)


def _cursor_key(table: DataTable[object]) -> str | None:
    if table.row_count == 0:
        return None
    try:
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
    except Exception:
        return None
    return str(key.value) if key.value is not None else None


def count_text(value: int) -> str:
    """`987`, `12.3k`, `4.5M`: counts short enough for a narrow column."""
    if value < 10_000:
        return str(value)
    if value < 1_000_000:
        return f"{value / 1000:.1f}k"
    return f"{value / 1_000_000:.1f}M"


def plural(count: int, word: str) -> str:
    """`1 spoke`, `2 spokes`."""
    return word if count == 1 else word + "s"
