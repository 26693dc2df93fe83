"""The Doctor and Cost panes render what the services decided: fix commands with ids, one meaning per symbol."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from tests.functional.conftest import wait_for
from tests.snapshots.conftest import FROZEN_NOW, FrozenBackend
from textual.widgets import DataTable, Static

from vpce_console.tui.app import VpceApp
from vpce_console.tui.models import CostRow, DoctorRow, HeaderInfo, Snapshot
from vpce_console.tui.widgets.cost_pane import VERDICT_WORDS
from vpce_console.tui.widgets.panes import CHEAPEST_MARK, CostPane, DoctorPane

HEADER = HeaderInfo("111111111111", "us-east-1", "arn:aws:iam::111111111111:user/op", True, True)

COMMAND = (
    "[account 111111111111, hosted zone owner] aws route53 create-vpc-association-authorization "
    "--hosted-zone-id Z0SQS --vpc VPCRegion=us-east-1,VPCId=vpc-0b1"
)

SNAPSHOT = Snapshot(
    doctor=(
        DoctorRow(
            code="phz-missing-association",
            severity="error",
            message="VPC vpc-0b1 (dev-app, account 222222222222) is not associated with the sqs zone",
            hint="associate the zone with the VPC",
            vpc_id="vpc-0b1",
            service="sqs",
            account_id="222222222222",
            vpc_name="dev-app",
            fix_commands=(COMMAND,),
        ),
    ),
    cost=(
        CostRow("kms", 6, 833.9, 46.92, 95.94, 37.52, 730.0, "nat", 139.0),
        CostRow("sts", 7, 2075.1, 84.15, 122.95, 93.38, 730.0, "centralize", 296.4),
        CostRow("heavy", 1, 5000.0, 171.90, 64.60, 225.00, 730.0, "per-vpc", 5000.0),
    ),
)


def build() -> VpceApp:
    backend = FrozenBackend(HEADER, SNAPSHOT, [])

    async def connect() -> FrozenBackend:
        return backend

    return VpceApp(connect, clock=lambda: FROZEN_NOW, monotonic=lambda: FROZEN_NOW, tail=False)  # type: ignore[arg-type]


async def test_doctor_pane_names_the_spoke_and_lists_the_commands() -> None:
    app = build()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("colon", *"doctor", "enter")
        pane = app.screen.query_one(DoctorPane)
        await wait_for(pilot, lambda: pane.loaded, what="doctor pane")
        text = str(app.screen.query_one("#doctor-body", Static).render())
        assert "account 222222222222 · vpc-0b1 (dev-app) · sqs" in text
        assert f"1. {COMMAND}" in " ".join(text.split())


async def open_cost(app: VpceApp, pilot: Any) -> tuple[CostPane, DataTable[object]]:
    """`:cost`, then the pane once loaded and its table."""
    await pilot.press("colon", *"cost", "enter")
    pane = app.screen.query_one(CostPane)
    await wait_for(pilot, lambda: pane.loaded, what="cost pane")
    return pane, app.screen.query_one("#cost-table", DataTable)


async def test_cost_pane_marks_the_cheapest_with_its_own_symbol() -> None:
    """★ sits on the figure the verdict names, in every row; ◆ only ever means the break-even, with a legend."""
    app = build()
    async with app.run_test(size=(120, 36)) as pilot:
        pane, table = await open_cost(app, pilot)
        labels = [str(c.label) for c in table.columns.values()]
        designs = {labels.index("Hub $/mo"): "centralize", labels.index("Per-VPC $/mo"): "per-vpc"}
        designs[labels.index("NAT $/mo")] = "nat"
        for index, row in enumerate(SNAPSHOT.cost):
            cells = [str(c) for c in table.get_row_at(index)]
            marked = [designs[i] for i in designs if CHEAPEST_MARK in cells[i]]
            assert marked == [row.verdict], (row.service, cells)
            assert not any("◆" in c for c in cells)
        console = Console(width=200, record=True)
        rows = pane.visible_rows()
        console.print(pane.chart(rows, [sum(r.hub_monthly for r in rows), 0.0, 0.0]))
        chart = " ".join(console.export_text().split())
        assert f"{CHEAPEST_MARK} cheapest of row = verdict" in chart and "◆ break-even" in chart
        assert "1 centralize, 1 per-VPC, 1 NAT (no policy)" in chart


async def test_cost_pane_verdict_is_on_screen_at_80x24() -> None:
    """At 80×24 the Verdict column lies wholly inside the table's width: the answer is never scrolled off."""
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        _, table = await open_cost(app, pilot)
        columns = list(table.columns.values())
        widths = [c.get_render_width(table) for c in columns]
        verdict = [str(c.label) for c in columns].index("Verdict")
        assert sum(widths[: verdict + 1]) <= table.size.width, (widths, table.size.width)
        shown = [str(table.get_row_at(i)[verdict]) for i in range(len(SNAPSHOT.cost))]
        assert shown == [VERDICT_WORDS[row.verdict] for row in SNAPSHOT.cost]


async def test_subscribers_matrix_shows_the_profile_path() -> None:
    """A cell reached through a Route 53 Profile shows `P` (both paths `✓P`), and the line below names the Profile."""
    from vpce_console.tui.models import SpokeRow, SubscriberCell
    from vpce_console.tui.widgets.panes import SubscribersPane

    snapshot = Snapshot(
        spokes=(SpokeRow("222222222222", "vpc-0b1", "dev-app", "dev"),),
        services=("kms", "sqs", "sts"),
        cells=(
            SubscriberCell("vpc-0b1", "kms", "associated", (), "profile", "shared-endpoints (rp-0abc)"),
            SubscriberCell(
                "vpc-0b1", "sqs", "associated", ("profile-and-direct",), "both", "shared-endpoints (rp-0abc)"
            ),
            SubscriberCell("vpc-0b1", "sts", "associated", (), "direct", ""),
        ),
    )
    backend = FrozenBackend(HEADER, snapshot, [])

    async def connect() -> FrozenBackend:
        return backend

    app = VpceApp(connect, clock=lambda: FROZEN_NOW, monotonic=lambda: FROZEN_NOW, tail=False)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("colon", *"subscribers", "enter")
        pane = app.screen.query_one(SubscribersPane)
        await wait_for(pilot, lambda: pane.loaded, what="subscribers pane")
        table = app.screen.query_one("#subscribers-table", DataTable)
        cells = [str(c) for c in table.get_row_at(0)][2:]
        assert cells == ["P via Profile", "✓P direct + Profile (1✱)", "✓ associated"]
        table.cursor_coordinate = (0, 2)  # type: ignore[assignment]
        await pilot.pause()
        line = str(app.screen.query_one("#subscribers-cell", Static).render())
        assert "kms: associated (through Route 53 Profile shared-endpoints (rp-0abc))" in line
