"""Issue 6: endpoint rows appear while the rest of the inventory (Route 53, spokes) is still loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.functional.conftest import make_app, wait_for
from textual.widgets import DataTable

from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.widgets.header import ConsoleHeader
from vpce_console.tui.widgets.panes import EndpointsPane

pytestmark = pytest.mark.lab


def rows(table: DataTable[object]) -> dict[str, list[object]]:
    """Endpoint id -> the row's cells."""
    return {str(table.get_row_at(i)[1]): table.get_row_at(i) for i in range(table.row_count)}


async def test_endpoint_rows_show_before_the_full_load_and_the_cursor_survives_it(
    console_files: tuple[Path, Path], lab_ready: Any
) -> None:
    """Rows (Subs `…`) while the progress line still names what loads; full rows after, cursor on the same row."""
    app = make_app(*console_files)  # no preloaded snapshot: a real, slow (Route 53 bound) first load
    async with app.run_test(size=(140, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        pane = screen.query_one(EndpointsPane)
        table = screen.query_one("#endpoints-table", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0 or pane.loaded, what="first endpoint rows")
        assert not pane.loaded and pane.partial  # the full snapshot has not arrived
        assert pane.progress.startswith("⧗ ")  # still saying what is loading
        assert screen.snapshot.endpoints == ()
        early = rows(table)
        hub_endpoints = set(lab_ready["hub"]["endpoints"].values())
        assert hub_endpoints <= set(early)
        subs_column = EndpointsPane.COLUMNS.index("Subs")
        assert {str(cells[subs_column]) for cells in early.values()} == {"…"}  # unknown, never a wrong 0
        assert "loading…" in str(screen.query_one("#endpoints-title").render())

        sqs = lab_ready["hub"]["endpoints"]["sqs"]
        table.move_cursor(row=table.get_row_index(sqs), animate=False)
        await wait_for(pilot, lambda: pane.loaded, what="the full snapshot")
        assert not pane.partial and pane.progress == ""
        full = rows(table)
        assert set(full) == set(early)
        assert all(str(cells[subs_column]).isdigit() for cells in full.values())
        assert int(str(full[sqs][subs_column])) >= 1  # the lab associates spokes with the sqs zone
        assert pane.selected() is not None and pane.selected().endpoint_id == sqs  # type: ignore[union-attr]
        assert screen.query_one(ConsoleHeader).status == f"{len(full)} endpoints"
