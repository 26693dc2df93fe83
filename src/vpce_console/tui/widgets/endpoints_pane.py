"""The Endpoints pane: the hub's endpoints, their wiring, policy and subscribers, and the trail's calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from vpce_console.tui.models import (
    NO_TRAIL,
    EndpointRow,
    Snapshot,
    TrailUsage,
)
from vpce_console.tui.render import (
    SPARK_CHARS,
    bytes_cell_text,
    colour,
    human_bytes,
    state_text,
)
from vpce_console.tui.widgets.pane_base import (
    Pane,
    _cursor_key,
    _restore_cursor,
    count_text,
)


def _short_sgs(groups: tuple[str, ...]) -> str:
    """One SG id shortened, or a count: the details screen has the full list and rules."""
    if not groups:
        return "—"
    if len(groups) == 1:
        return groups[0] if len(groups[0]) <= 12 else groups[0][:11] + "…"
    return f"{len(groups)} SGs"


WIDE_ENDPOINTS = 150
"""Pane width from which calls and denials get a column each; below it they share one (`1.2k ✗3`)."""


NARROW_ENDPOINTS = 120
"""Below this pane width AZs, SGs and Private DNS give way (the details screen lists them) and State moves right."""


def endpoint_columns(width: int, usage: TrailUsage | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every column, the trail's columns) for a pane `width` wide: the 80-column layout keeps service, id,
    policy, subscribers and the window's calls on screen; wider ones add the wiring, then a column per count."""
    window = usage.window if usage is not None else "7d"
    window = window if len(window) <= 4 else ""  # an ISO start does not fit a title: the trail line has it
    if width >= WIDE_ENDPOINTS:
        trail: tuple[str, ...] = (f"Calls {window}".strip(), f"Denied {window}".strip())
    else:
        trail = (f"{window} calls".strip(),)
    base = EndpointsPane.COLUMNS
    if width >= NARROW_ENDPOINTS:
        return base[:8] + trail + base[8:], trail
    return ("Service", "Endpoint", "Policy", "Subs", *trail, "State", "24 h bytes"), trail


def trail_summary(usage: TrailUsage | None, rows: Sequence[EndpointRow]) -> str:
    """The Endpoints pane's trail line: totals over the window, endpoints without events, skips — or why not."""
    if usage is None:
        return ""
    if usage.state != "ok":
        return usage.note or NO_TRAIL
    calls = sum(usage.endpoints[r.endpoint_id].calls for r in rows if r.endpoint_id in usage.endpoints)
    denied = sum(usage.endpoints[r.endpoint_id].denials for r in rows if r.endpoint_id in usage.endpoints)
    parts = [f"trail {usage.window}: {calls:,} calls, {denied:,} denied", *usage.skipped]  # skips before they scroll
    quiet = sorted({r.service for r in rows if not usage.endpoints.get(r.endpoint_id)})
    if quiet:
        more = f" and {len(quiet) - 4} more" if len(quiet) > 4 else ""
        parts.append(f"no network activity events in the window for {', '.join(quiet[:4])}{more}")
    if usage.note:
        parts.append(usage.note)  # what the CLI's footer says: records read, the sync or Athena's scan and cost
    return " · ".join(parts)


class EndpointsPane(Pane):
    """Every interface endpoint in the hub, one row each."""

    PANE_NAME = "endpoints"
    TITLE = "Endpoints"
    HELP_SCOPE = "endpoints"
    COLUMNS = ("Service", "Endpoint", "State", "AZs", "SGs", "Private DNS", "Policy", "Subs", "24 h bytes")

    progress: reactive[str] = reactive("")
    """What is still loading, shown under the title."""

    trail: reactive[TrailUsage | None] = reactive(None, always_update=True)
    """The trail's answer for the Calls/Denied columns (None while it loads)."""

    partial = False
    """True while the rows are the early endpoint list: subscriber and lint cells are not known yet (`…`)."""

    def compose(self) -> ComposeResult:
        yield self.compose_title()
        yield Static("", id="endpoints-progress", classes="progress")
        yield Static("", id="endpoints-trail", classes="trail-note")
        yield DataTable(id="endpoints-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.columns_shown: tuple[str, ...] = ()
        self.columns_sized: tuple[tuple[str, int], ...] = ()
        self.set_columns()
        self.update_title()
        self.query_one("#endpoints-trail", Static).display = False

    def trail_columns(self) -> tuple[str, ...]:
        """`Calls 7d`, `Denied 7d` when the pane is wide; one shared `7d calls` column below WIDE_ENDPOINTS."""
        return endpoint_columns(self.size.width or self.app.size.width, self.trail)[1]

    def set_columns(self, widths: Mapping[str, int] | None = None) -> None:
        """(Re)build the columns when the width class, the window or a column's content width changed.

        Explicit widths: a DataTable sizes auto columns on its next idle, which after a rebuild (a resize, the
        trail's answer) can leave the columns as narrow as their titles until some other event arrives.
        """
        columns = endpoint_columns(self.size.width or self.app.size.width, self.trail)[0]
        sized = tuple((c, max(len(c), (widths or {}).get(c, 0))) for c in columns)
        if sized == self.columns_sized:
            return
        table = self.query_one("#endpoints-table", DataTable)
        table.clear(columns=True)
        for label, width in sized:
            table.add_column(label, width=width)
        self.columns_shown = columns
        self.columns_sized = sized

    def on_resize(self) -> None:
        if self.is_mounted and endpoint_columns(self.size.width, self.trail)[0] != self.columns_shown:
            self.rerender()

    def watch_trail(self) -> None:
        if not self.is_mounted:
            return
        note = self.query_one("#endpoints-trail", Static)
        text = trail_summary(self.trail, self.snapshot.endpoints)
        note.update(text)
        note.display = bool(text)
        self.rerender()

    def trail_cells(self, row: EndpointRow) -> list[Text]:
        """Calls and denials over the window: `…` loading, `—` no trail, `?` failed, `none` without events."""
        variables = self.variables
        if row.calls is None:
            state = self.trail.state if self.trail is not None else "loading"
            mark = {"loading": "…", "off": "—"}.get(state, "?")
            return [Text(mark)] * len(self.trail_columns())
        deny = colour(variables, "finding-error")
        denied = Text(f"{count_text(row.denials or 0)} ✗", style=deny) if row.denials else Text("0")
        calls = Text("none", style="dim") if not row.calls else Text(count_text(row.calls))
        if len(self.trail_columns()) == 2:
            return [calls, denied]
        shared = calls.copy()
        if row.denials:
            shared.append(f" ✗{count_text(row.denials)}", style=deny)
        return [shared]

    def watch_progress(self, progress: str) -> None:
        progress_line = self.query_one("#endpoints-progress", Static)
        # one line: a long S3 prefix is cut at the edge, never wrapped out of sight
        progress_line.update(Text(progress, no_wrap=True, overflow="ellipsis"))
        progress_line.display = bool(progress)

    def show_partial(self, snapshot: Snapshot) -> None:
        """Show the endpoints read so far; the pane stays `loading…` until `set_snapshot` brings the rest."""
        self.snapshot = snapshot
        self.partial = True
        self.rerender()

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Show the complete snapshot (replacing early rows, keeping the cursor on the same endpoint)."""
        self.partial = False
        super().set_snapshot(snapshot)

    def fields(self, row: EndpointRow) -> dict[str, str]:
        """Filterable columns of a row."""
        return {
            "service": row.service,
            "endpoint": row.endpoint_id,
            "id": row.endpoint_id,
            "state": row.state,
            "vpc": row.vpc_id,
            "account": row.account_id,
            "policy": "custom" if row.policy_custom else "default",
        }

    def visible_rows(self) -> list[EndpointRow]:
        """Endpoints passing the filter, sorted by service then id."""
        flt = self.row_filter
        rows = sorted(self.snapshot.endpoints, key=lambda r: (r.service, r.endpoint_id))
        return [row for row in rows if flt.matches(self.fields(row))]

    def policy_cell(self, row: EndpointRow) -> Text:
        """`default`, `custom ✓`, or `custom 2✗ 1!` with severity colour and symbols."""
        variables = self.variables
        if not row.policy_custom:
            return Text("default", style=colour(variables, "finding-info"))
        if self.partial:
            return Text("custom …")
        counts = row.findings
        if counts.total == 0:
            return Text("custom ✓ clean", style=colour(variables, "state-available"))
        text = Text("custom ")
        if counts.errors:
            text.append(f"{counts.errors}✗ ", style=colour(variables, "finding-error"))
        if counts.warnings:
            text.append(f"{counts.warnings}! ", style=colour(variables, "finding-warning"))
        if counts.infos:
            text.append(f"{counts.infos}i", style=colour(variables, "finding-info"))
        return text

    @staticmethod
    def bytes_cell(row: EndpointRow, top: float) -> str:
        """Hourly sparkline and 24 h total when there is a series, else the total and its share of the busiest."""
        if row.bytes_24h:
            return bytes_cell_text(row.bytes_24h, row.bytes_total)
        if row.bytes_total is None:
            return "— no metrics"
        level = SPARK_CHARS[min(7, int(row.bytes_total / top * 7))] if top > 0 else SPARK_CHARS[0]
        return f"{level} {human_bytes(row.bytes_total)}"

    def rerender(self) -> None:
        table = self.query_one("#endpoints-table", DataTable)
        keep = _cursor_key(table)
        rows = self.visible_rows()
        top = max([row.bytes_total or 0.0 for row in self.snapshot.endpoints] + [0.0])
        trail = self.trail_columns()
        lines: list[dict[str, str | Text]] = []
        for row in rows:
            cells: dict[str, str | Text] = {
                "Service": row.service,
                "Endpoint": row.endpoint_id,
                "State": state_text(row.state, self.variables),
                "AZs": str(len(row.azs)),
                "SGs": _short_sgs(row.security_groups),
                "Private DNS": "on ⚠" if row.private_dns else "off",
                "Policy": self.policy_cell(row),
                "Subs": "…" if self.partial else str(row.subscribers),
                **dict(zip(trail, self.trail_cells(row), strict=True)),
                "24 h bytes": self.bytes_cell(row, top),
            }
            lines.append(cells)
        widths: dict[str, int] = {}
        for cells in lines:
            for column, value in cells.items():
                width = value.cell_len if isinstance(value, Text) else cell_len(value)
                widths[column] = max(widths.get(column, 0), width)
        self.set_columns(widths)
        table.clear()
        for row, cells in zip(rows, lines, strict=True):
            table.add_row(*(cells[column] for column in self.columns_shown), key=row.endpoint_id)
        _restore_cursor(table, keep)
        total = len(self.snapshot.endpoints)
        self.update_title(f"{len(rows)} of {total}" if len(rows) != total else f"{total}")

    def selected(self) -> EndpointRow | None:
        """The endpoint under the cursor."""
        table = self.query_one("#endpoints-table", DataTable)
        key = _cursor_key(table)
        return next((row for row in self.snapshot.endpoints if row.endpoint_id == key), None)
