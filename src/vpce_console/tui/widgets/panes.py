"""The main panes: each renders the snapshot (or the denial stream) it is given and filters it; no I/O here."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import DataTable, Sparkline, Static

from vpce_console.tui.filtering import RowFilter, parse_filter
from vpce_console.tui.models import (
    NO_TRAIL,
    CostRow,
    DenialHistory,
    DenialRow,
    DoctorRow,
    EndpointRow,
    Snapshot,
    SubscriberCell,
    TrailUsage,
)
from vpce_console.tui.render import (
    SPARK_CHARS,
    bar,
    bytes_cell_text,
    colour,
    human_bytes,
    severity_text,
    state_text,
    subscriber_text,
)
from vpce_console.tui.widgets.denial_list import DenialList

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


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


def _short_sgs(groups: tuple[str, ...]) -> str:
    """One SG id shortened, or a count: the details screen has the full list and rules."""
    if not groups:
        return "—"
    if len(groups) == 1:
        return groups[0] if len(groups[0]) <= 12 else groups[0][:11] + "…"
    return f"{len(groups)} SGs"


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


def plural(count: int, word: str) -> str:
    """`1 spoke`, `2 spokes`."""
    return word if count == 1 else word + "s"


@dataclass(frozen=True, slots=True)
class MatrixLayout:
    """How the subscribers matrix fits the pane's width."""

    compact: bool
    """Cells show the symbol alone (the legend spells them out)."""
    env: bool
    """Whether the Env column fits (the cell line below names the environment anyway)."""
    padding: int
    """DataTable cell padding: 0 in the narrowest layout, where each column keeps one space of its own."""
    width: int
    """Service column width (0: as wide as the label)."""
    labels: Mapping[str, str]
    note: str = ""
    """Said in the title when columns are still off screen (`→ 3 more services: scroll`)."""


def short_service(service: str, width: int) -> str:
    """`ecr.api` → `ecra`, `ssmmessages` → `ssmm`: distinct short headers for the narrow matrix."""
    if len(service) <= width:
        return service
    if "." in service:
        head, tail = service.split(".", 1)
        return head[: width - 1] + tail[:1]
    return service[:width]


def matrix_layout(total: int, name: int, env: int, services: Sequence[str]) -> MatrixLayout:
    """The widest layout that shows every service column: full words, symbols, then narrow symbol columns."""
    count = len(services)
    full = {s: s for s in services}
    if count <= 4 and name + env + sum(len(s) + 2 for s in services) + 6 <= total:
        return MatrixLayout(False, True, 1, 0, full)
    six = {s: s[:6] for s in services}
    if name + env + 4 + 8 * count + 2 <= total:
        return MatrixLayout(True, True, 1, 0, six)
    four = {s: short_service(s, 4) for s in services}
    for with_env in (True, False):
        used = name + 1 + (env + 1 if with_env else 0) + 5 * count + 2
        if used <= total:
            return MatrixLayout(True, with_env, 0, 5, four)
    fits = max(0, (total - name - 3) // 5)
    hidden = count - fits
    return MatrixLayout(True, False, 0, 5, four, f"→ {hidden} more {plural(hidden, 'service')}: scroll right")


class SubscribersPane(Pane):
    """Spoke VPCs × services: who reaches which shared endpoint, and what is wrong with it."""

    PANE_NAME = "subscribers"
    TITLE = "Subscribers"
    HELP_SCOPE = "subscribers"

    trail: reactive[TrailUsage | None] = reactive(None, always_update=True)
    """The trail's answer: who used each service over the window (None while it loads)."""

    def watch_trail(self) -> None:
        if self.is_mounted and self.loaded:
            self.show_cell()

    def compose(self) -> ComposeResult:
        yield self.compose_title()
        yield DataTable(id="subscribers-table", cursor_type="cell", zebra_stripes=True)
        yield Static("", id="subscribers-cell", classes="cell-detail")
        yield Static(
            "✓ associated  P via Profile  ✗ missing  ⊘ FORBIDDEN  ? stale  · not expected  n✱ findings",
            classes="legend",
        )

    def on_mount(self) -> None:
        self.update_title()

    def services_shown(self, flt: RowFilter) -> list[str]:
        """Service columns left after `service=` terms."""
        wanted = [value for key, value in flt.fields if key == "service"]
        services = list(self.snapshot.services)
        return [s for s in services if not wanted or any(w in s for w in wanted)]

    def rerender(self) -> None:
        table = self.query_one("#subscribers-table", DataTable)
        flt = self.row_filter
        row_flt = RowFilter(flt.words, tuple((k, v) for k, v in flt.fields if k != "service"))
        services = self.services_shown(flt)
        table.clear(columns=True)
        # Explicit widths: auto-sizing happens on the table's next idle, which can come after a repaint on a busy
        # machine, so the matrix would briefly (or in a screenshot) show clipped names.
        spokes = self.snapshot.spokes
        name_width = max([4, *(len(spoke.name) for spoke in spokes)])
        env_width = max([3, *(len(spoke.environment) for spoke in spokes)])
        layout = matrix_layout(self.size.width or self.app.size.width, name_width, env_width, services)
        table.cell_padding = layout.padding
        table.add_column("Name", width=name_width + (1 if layout.padding == 0 else 0))
        if layout.env:
            table.add_column("Env", width=env_width + (1 if layout.padding == 0 else 0))
        for service in services:
            label = layout.labels[service]
            table.add_column(label, width=layout.width or max(len(label), 3))
        compact = layout.compact
        cells = {(c.vpc_id, c.service): c for c in self.snapshot.cells}
        shown = 0
        for spoke in sorted(self.snapshot.spokes, key=lambda s: (s.environment, s.name, s.vpc_id)):
            fields = {
                "account": spoke.account_id,
                "vpc": spoke.vpc_id,
                "name": spoke.name,
                "environment": spoke.environment,
            }
            if not row_flt.matches(fields):
                continue
            shown += 1
            row: list[object] = [spoke.name, spoke.environment] if layout.env else [spoke.name]
            for service in services:
                cell = cells.get((spoke.vpc_id, service))
                row.append(
                    subscriber_text(
                        cell.status if cell else "none",
                        self.variables,
                        len(cell.findings) if cell else 0,
                        compact=compact,
                        path=cell.path if cell else "",
                    )
                )
            table.add_row(*row, key=spoke.vpc_id)
        note = f" · {layout.note}" if layout.note else ""
        self.update_title(
            f"{shown} {plural(shown, 'spoke')} × {len(services)} {plural(len(services), 'service')}{note}"
        )
        if table.row_count and table.cursor_coordinate.column < self.first_service_column:
            table.move_cursor(column=self.first_service_column, animate=False)  # a cell to explain, not a name
        self.show_cell()

    @property
    def first_service_column(self) -> int:
        """Name (and Env when it fits) come before the service cells."""
        return len(self.query_one("#subscribers-table", DataTable).columns) - len(self.services_shown(self.row_filter))

    def on_resize(self) -> None:
        if self.loaded:
            self.rerender()

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        self.show_cell()

    def show_cell(self) -> None:
        """Explain the highlighted cell: status in words plus its doctor findings."""
        table = self.query_one("#subscribers-table", DataTable)
        detail = self.query_one("#subscribers-cell", Static)
        if table.row_count == 0:
            detail.update("no spokes match" if self.loaded else "")
            return
        coordinate = table.cursor_coordinate
        try:
            vpc_id = str(table.coordinate_to_cell_key(coordinate).row_key.value)
        except Exception:
            return
        services = self.services_shown(self.row_filter)
        spoke = next((s for s in self.snapshot.spokes if s.vpc_id == vpc_id), None)
        who = f"{spoke.name} {vpc_id} (account {spoke.account_id}, {spoke.environment})" if spoke else vpc_id
        column = coordinate.column - self.first_service_column
        if column < 0 or column >= len(services):
            detail.update(Text(f"{who}: move right to a service column to see its wiring"))
            return
        service = services[column]
        cell = next((c for c in self.snapshot.cells if c.vpc_id == vpc_id and c.service == service), None)
        status = cell.status if cell else "none"
        how = {"direct": "direct association", "profile": "through Route 53 Profile", "both": "direct and Profile"}
        via = f" ({how[cell.path]}{' ' + cell.profile if cell.profile else ''})" if cell and cell.path in how else ""
        lines = [who, f"× {service}: {status}{via}"]  # two lines: the cell's words never wrap mid-phrase
        lines.append(f"  {self.usage_line(cell)}")
        for finding in self.snapshot.doctor:
            if finding.vpc_id == vpc_id and (finding.service in (None, service)):
                # The fix first: on a short terminal the long message is what gets cut, not what to do.
                lines.append(f"  {finding.severity}: {finding.code}")
                if finding.hint:
                    lines.append(f"  fix: {finding.hint}")
                lines.append(f"  {finding.message}")
        detail.update(Text("\n".join(lines)))

    def usage_line(self, cell: SubscriberCell | None) -> str:
        """When this VPC last used the service and how much, over the trail window — or why that is not known."""
        usage = self.trail
        if usage is None:
            return "trail: loading…"
        if usage.state != "ok":
            return usage.note
        if cell is None or not cell.calls:
            return f"no network activity events for this service from this VPC in the window ({usage.window})"
        when = cell.last_seen.replace("T", " ").rstrip("Z")[:16]
        return f"used: {cell.calls:,} calls ({cell.denials or 0:,} denied) in {usage.window}, last {when} UTC"


def doctor_where(row: DoctorRow) -> str:
    """Where a finding is: account, VPC id with its name, service, endpoint (the parts it has)."""
    vpc = f"{row.vpc_id} ({row.vpc_name})" if row.vpc_id and row.vpc_name else row.vpc_id
    account = f"account {row.account_id}" if row.account_id else None
    return " · ".join(part for part in (account, vpc, row.service, row.endpoint_id) if part)


class DoctorPane(Pane):
    """Doctor findings grouped by severity, each with its explanation and fix hint."""

    PANE_NAME = "doctor"
    TITLE = "Doctor"
    HELP_SCOPE = "doctor"

    def compose(self) -> ComposeResult:
        yield self.compose_title()
        with VerticalScroll(id="doctor-scroll"):
            yield Static("", id="doctor-body")

    def on_mount(self) -> None:
        self.update_title()

    def visible_rows(self) -> list[DoctorRow]:
        """Findings passing the filter, most severe first."""
        flt = self.row_filter
        rows = [
            row
            for row in self.snapshot.doctor
            if flt.matches(
                {
                    "code": row.code,
                    "severity": row.severity,
                    "message": row.message,
                    "vpc": row.vpc_id or "",
                    "service": row.service or "",
                    "account": row.account_id or "",
                    "endpoint": row.endpoint_id or "",
                }
            )
        ]
        return sorted(rows, key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.code, r.vpc_id or ""))

    def rerender(self) -> None:
        rows = self.visible_rows()
        body = Text()
        if not rows:
            body.append("✓ no findings" if self.loaded else "", style=colour(self.variables, "state-available"))
        for severity in ("error", "warning", "info"):
            group = [row for row in rows if row.severity == severity]
            if not group:
                continue
            body.append_text(severity_text(severity, self.variables, label=f"{severity.upper()}S ({len(group)})"))
            body.append("\n")
            for row in group:
                body.append(f"  {row.code}", style="bold")
                body.append(f"  {doctor_where(row)}\n")
                body.append(f"    {row.message}\n")
                if row.explanation and row.explanation not in row.message:
                    body.append(f"    why: {row.explanation}\n", style="italic")
                if row.hint:
                    body.append(f"    fix: {row.hint}\n")
                for step, command in enumerate(row.fix_commands, 1):
                    body.append(f"      {step}. {command}\n")
            body.append("\n")
        self.query_one("#doctor-body", Static).update(body)
        counts = {s: sum(1 for r in rows if r.severity == s) for s in ("error", "warning", "info")}
        self.update_title(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info")

    def focus_main(self) -> None:
        self.query_one("#doctor-scroll").focus()


CHEAPEST_MARK = "★"
"""Marks the cheapest figure of a cost row (the verdict); ◆ is kept for the break-even alone."""

VERDICT_WORDS = {"centralize": "centralize", "per-vpc": "per-VPC", "nat": "NAT (no policy)", "unused": "unused"}
"""The verdict as the table prints it; NAT is cheaper only by giving up the endpoint policy, so it says so."""


class CostPane(Pane):
    """Per-service monthly cost: hub vs per-VPC endpoints vs NAT, with the break-even marked."""

    PANE_NAME = "cost"
    TITLE = "Cost"
    HELP_SCOPE = "cost"

    def compose(self) -> ComposeResult:
        yield self.compose_title()
        table: DataTable[object] = DataTable(id="cost-table", cursor_type="row", zebra_stripes=True)
        table.add_columns(
            "Service", "Spokes", "GB/month", "Hub $/mo", "Per-VPC $/mo", "NAT $/mo", "Break-even", "Verdict"
        )
        yield table
        with VerticalScroll(id="cost-chart-scroll"):
            yield Static("", id="cost-chart", classes="chart")

    def on_mount(self) -> None:
        self.update_title()

    def visible_rows(self) -> list[CostRow]:
        flt = self.row_filter
        return [row for row in self.snapshot.cost if flt.matches({"service": row.service, "verdict": row.verdict})]

    def rerender(self) -> None:
        table = self.query_one("#cost-table", DataTable)
        table.clear()
        rows = self.visible_rows()
        for row in rows:
            # The ★ goes where the verdict points (the cheapest total of the row); without subscribers nothing is
            # marked, since the alternatives then cost nothing and "cheapest" would mislead.
            def money(value: float, design: str, row: CostRow = row) -> str:
                return f"{value:,.2f}" + (f" {CHEAPEST_MARK}" if row.verdict == design else "")

            table.add_row(
                row.service,
                str(row.spokes),
                f"{row.gb_month:,.1f}",
                money(row.hub_monthly, "centralize"),
                money(row.per_vpc_monthly, "per-vpc"),
                money(row.nat_monthly, "nat"),
                f"{row.break_even_gb:,.0f} GB/spoke" if row.break_even_gb is not None else "never",
                VERDICT_WORDS.get(row.verdict, row.verdict),
                key=row.service,
            )
        totals = [
            sum(r.hub_monthly for r in rows),
            sum(r.per_vpc_monthly for r in rows),
            sum(r.nat_monthly for r in rows),
        ]
        self.query_one("#cost-chart", Static).update(self.chart(rows, totals))
        self.update_title(f"{len(rows)} services · hub ${totals[0]:,.2f}/mo vs per-VPC ${totals[1]:,.2f}/mo")

    def chart(self, rows: Sequence[CostRow], totals: Sequence[float]) -> Table:
        """Total monthly cost of the three designs as bars, then each service's usage against its break-even.

        The usage scale runs from 0 to twice the break-even: ◆ marks the break-even, ● the GB/month per spoke; the
        table's ★ (cheapest of the row) is a different mark, so the two meanings never share a symbol.
        """
        table = Table.grid(padding=(0, 1))
        table.add_column(justify="right", no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        top = max([*totals, 0.01])
        designs = (
            ("hub (centralized)", totals[0], "decision-allow"),
            ("per-VPC endpoints", totals[1], "finding-warning"),
            ("NAT gateway", totals[2], "finding-error"),
        )
        for label, value, var in designs:
            table.add_row(
                label, Text(bar(value, top, 60) or "▏", style=colour(self.variables, var)), f"${value:,.2f}/mo"
            )
        verdicts = {v: sum(1 for r in rows if r.verdict == v) for v in VERDICT_WORDS}
        table.add_row(
            "verdicts",
            ", ".join(f"{n} {VERDICT_WORDS[v]}" for v, n in verdicts.items() if n) or "-",
            "",
        )
        table.add_row("", "", "")
        table.add_row(
            "legend",
            Text(f"{CHEAPEST_MARK} cheapest of row = verdict · ◆ break-even · ● GB/mo per spoke"),
            "",
        )
        table.add_row(Text("usage vs break-even", style="bold"), Text("0 ─── ◆ break-even ─── 2×", style="bold"), "")
        width = 41
        marker_style = colour(self.variables, "break-even")
        for row in rows:
            if row.break_even_gb is None or row.break_even_gb <= 0:
                table.add_row(row.service, "no break-even (per-VPC never cheaper)", "")
                continue
            position = min(width - 1, int(row.gb_per_spoke / (2 * row.break_even_gb) * (width - 1)))
            middle = (width - 1) // 2
            line = Text("─" * width)
            line.stylize(marker_style, middle, middle + 1)
            cells = list(line.plain)
            cells[middle] = "◆"
            cells[position] = "●"
            scale = Text("".join(cells))
            scale.stylize(f"bold {marker_style}", middle, middle + 1)
            side = "hub < per-VPC" if row.gb_per_spoke <= row.break_even_gb else "per-VPC < hub"
            table.add_row(row.service, scale, f"{row.gb_per_spoke:,.1f} / {row.break_even_gb:,.0f} GB · {side}")
        return table


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
