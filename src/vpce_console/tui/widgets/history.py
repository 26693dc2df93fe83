"""The `:history` pane: the change journal, newest first, with keys to watch or roll back a change."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from vpce_console.tui.models import ChangeRow
from vpce_console.tui.render import colour
from vpce_console.tui.widgets.pane_base import Pane, _cursor_key, _restore_cursor

OUTCOME_STYLE = {
    "converged": "state-available",
    "applied": "state-available",
    "rolled_back": "finding-warning",
    "unobserved": "finding-warning",
    "timed_out": "finding-error",
    "failed": "finding-error",
    "unfinished": "finding-error",
}
"""Theme variable per outcome; the outcome is always written out as well (never colour alone)."""


def change_label(change: ChangeRow, *, short: bool = False) -> str:
    """`apply`, or `rollback of 20261130T185349-8f31846d` (`rollback of …8f31846d` when short)."""
    if change.kind != "rollback" or not change.rollback_of:
        return change.kind
    return f"rollback of …{change.rollback_of[-8:]}" if short else f"rollback of {change.rollback_of}"


class HistoryPane(Pane):
    """Journal entries of every endpoint (the local change journal), newest first."""

    PANE_NAME = "history"
    TITLE = "History"
    HELP_SCOPE = "history"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.changes: tuple[ChangeRow, ...] = ()
        self.deployed_sha: dict[str, str] = {}
        """Endpoint id → sha256 of its deployed document, to mark the change in force."""

    def compose(self) -> ComposeResult:
        yield self.compose_title()
        table: DataTable[object] = DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        # The journal id goes last: it repeats the time, and the line below the table names it in full.
        table.add_columns("When (UTC)", "Kind", "Outcome", "Endpoint", "Versions", "Journal id")
        yield table
        yield Static("", id="history-detail")

    def on_mount(self) -> None:
        self.update_title()

    def set_changes(self, changes: Sequence[ChangeRow], deployed_sha: dict[str, str]) -> None:
        """Show freshly read journal entries; a new change takes the cursor (it is what a person looks for)."""
        newest = max(self.changes, key=lambda c: c.started_at).journal_id if self.changes else None
        self.changes = tuple(changes)
        self.deployed_sha = dict(deployed_sha)
        self.loaded = True
        self.rerender()
        latest = max(self.changes, key=lambda c: c.started_at).journal_id if self.changes else None
        if latest is not None and latest != newest:
            self.query_one("#history-table", DataTable).move_cursor(row=0, animate=False)
            self.show_selected()

    def set_snapshot(self, snapshot: object) -> None:
        """The journal is not part of the inventory snapshot; the main screen hands it over with set_changes."""

    def visible_rows(self) -> list[ChangeRow]:
        """Entries passing the filter, newest first."""
        flt = self.row_filter
        rows = [
            c
            for c in self.changes
            if flt.matches(
                {
                    "id": c.journal_id,
                    "kind": c.kind,
                    "endpoint": c.endpoint_id,
                    "outcome": c.outcome,
                    "version": f"{c.before_version} {c.after_version}",
                }
            )
        ]
        return sorted(rows, key=lambda c: c.started_at, reverse=True)

    def in_force(self, change: ChangeRow) -> bool:
        """True when the endpoint holds the document this change wrote, and it is its latest such change."""
        if not change.written or self.deployed_sha.get(change.endpoint_id) != change.after_sha256:
            return False
        later = [c for c in self.changes if c.endpoint_id == change.endpoint_id and c.written]
        return bool(later) and later[-1].journal_id == change.journal_id

    def rerender(self) -> None:
        table = self.query_one("#history-table", DataTable)
        key = _cursor_key(table)
        table.clear()
        rows = self.visible_rows()
        variables = self.variables
        for change in rows:
            when = time.strftime("%m-%d %H:%M:%S", time.gmtime(change.started_at))
            outcome = Text(
                change.outcome.replace("_", " "), style=colour(variables, OUTCOME_STYLE.get(change.outcome, ""))
            )
            if self.in_force(change):
                outcome.append(" ● in force")
            table.add_row(
                when,
                change_label(change, short=True),
                outcome,
                change.endpoint_id,
                f"{change.before_version[:8]}→{change.after_version[:8]}",
                change.journal_id,
                key=change.journal_id,
            )
        _restore_cursor(table, key)
        self.update_title(f"{len(rows)} changes" if len(rows) != 1 else "1 change")
        self.show_selected()

    def selected(self) -> ChangeRow | None:
        """The highlighted entry."""
        key = _cursor_key(self.query_one("#history-table", DataTable))
        return next((c for c in self.changes if c.journal_id == key), None)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_selected()

    def show_selected(self) -> None:
        """What the selected entry did and what the keys would do with it."""
        detail = self.query_one("#history-detail", Static)
        change = self.selected()
        if change is None:
            detail.update(
                "no changes recorded yet: applies and rollbacks from the console or `vpce rollout` appear here"
            )
            return
        text = Text()
        text.append(f"{change.journal_id} ", style="bold")
        text.append(f"{change_label(change)} on {change.endpoint_id}: {change.outcome.replace('_', ' ')}")
        if change.caller:
            text.append(f" · by {change.caller.rsplit('/', 1)[-1]}")
        text.append("\n")
        if change.kind == "rollback":
            text.append("b: roll back this rollback — re-applies the document it removed (explicit choice)\n")
        else:
            text.append("b: roll back — restores the document in force before this change (preview, typed id)\n")
        if change.outcome == "unfinished":
            text.append("w: watch it — its process stopped before the watch finished\n")
        detail.update(text)
