"""The Cost pane: hub vs per-VPC endpoints vs NAT per service, the totals and the break-even chart."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from vpce_console.tui.models import (
    CostRow,
)
from vpce_console.tui.render import (
    bar,
    colour,
)
from vpce_console.tui.widgets.pane_base import (
    Pane,
)

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
        # the verdict second: it is the answer, and at 80 columns the last ones are off-screen
        table.add_columns(
            "Service", "Verdict", "Spokes", "GB/month", "Hub $/mo", "Per-VPC $/mo", "NAT $/mo", "Break-even"
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
                VERDICT_WORDS.get(row.verdict, row.verdict),
                str(row.spokes),
                f"{row.gb_month:,.1f}",
                money(row.hub_monthly, "centralize"),
                money(row.per_vpc_monthly, "per-vpc"),
                money(row.nat_monthly, "nat"),
                f"{row.break_even_gb:,.0f} GB/spoke" if row.break_even_gb is not None else "never",
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
