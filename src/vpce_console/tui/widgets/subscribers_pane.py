"""The Subscribers pane: spoke VPCs x services, each cell's status and its fix, laid out to the width."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from vpce_console.tui.filtering import RowFilter
from vpce_console.tui.models import (
    SubscriberCell,
    TrailUsage,
)
from vpce_console.tui.render import (
    subscriber_text,
)
from vpce_console.tui.widgets.pane_base import (
    Pane,
    plural,
)


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
