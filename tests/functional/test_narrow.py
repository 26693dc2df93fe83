"""At 80×24 (a laptop terminal over SSH) the important parts stay on screen (issue 9, "also seen")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.functional.conftest import wait_for
from textual.widgets import DataTable

from vpce_console.tui.app import VpceApp
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.widgets.panes import SubscribersPane, matrix_layout

pytestmark = pytest.mark.lab


async def test_subscribers_at_80_columns_show_every_service_and_the_cell_fix(
    console_app: Callable[..., VpceApp],
) -> None:
    """Every service column fits 80 columns, and the selected cell's explanation (with its `fix:`) is shown."""
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        pane = main.query_one(SubscribersPane)
        await wait_for(pilot, lambda: pane.loaded, what="subscribers")
        await pilot.press("colon", *"subscribers", "enter")
        await pilot.pause()
        table = pane.query_one("#subscribers-table", DataTable)
        width = sum(column.get_render_width(table) for column in table.columns.values())
        assert width <= 80, f"{width} columns wide"
        assert len(table.columns) >= len(pane.snapshot.services) + 1
        missing = next(c for c in pane.snapshot.cells if c.status == "missing" and c.findings)
        row = table.get_row_index(missing.vpc_id)
        column = pane.first_service_column + pane.services_shown(pane.row_filter).index(missing.service)
        table.move_cursor(row=row, column=column)
        await pilot.pause()
        detail = str(pane.query_one("#subscribers-cell").render())
        assert "missing" in detail and "fix:" in detail, detail
        region = pane.query_one("#subscribers-cell").region
        assert region.bottom <= 24 and region.height >= 3, "the explanation is on screen"


def test_matrix_layout_narrows_before_hiding_and_says_what_is_hidden() -> None:
    """Full words when they fit, then symbols, then narrow columns; a scroll hint only when even those do not fit."""
    services = [f"service{i}" for i in range(12)]
    assert not matrix_layout(200, 14, 9, services[:3]).compact
    assert matrix_layout(120, 14, 9, services).env
    narrow = matrix_layout(80, 14, 9, services)
    assert narrow.width == 5 and not narrow.note
    tiny = matrix_layout(40, 14, 9, services)
    assert "more services" in tiny.note


async def test_header_keeps_the_caller_in_write_mode_at_80_columns(console_app: Callable[..., VpceApp]) -> None:
    """The caller's name is visible next to the WRITE badge on an 80-column terminal."""
    app = console_app(read_only=False)
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: app.backend is not None and main.snapshot.endpoints != (), what="load")
        await pilot.pause()
        where = main.query_one("#hdr-where")
        text = str(where.render())
        assert text.startswith("user/") or text.startswith("assumed-role/"), text
        name = text.split(" · ")[0]
        assert where.region.width >= len(name), (where.region.width, name)
