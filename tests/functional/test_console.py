"""The console against the lab, driven with Textual's Pilot: panes, command line, filter, help, errors."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from tests.functional.conftest import notifications, wait_for
from textual.widgets import DataTable

from vpce_console.tui.app import VpceApp
from vpce_console.tui.screens.help import HelpScreen
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.widgets.header import ConsoleHeader
from vpce_console.tui.widgets.panes import CostPane, DoctorPane, EndpointsPane, SubscribersPane

pytestmark = pytest.mark.lab


def endpoint_ids(app: VpceApp) -> list[str]:
    table = app.screen.query_one("#endpoints-table", DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


def main_screen(app: VpceApp) -> MainScreen:
    assert isinstance(app.screen, MainScreen)
    return app.screen


async def test_panes_command_line_filter_and_help(console_app: Callable[..., VpceApp], lab_ready: Any) -> None:
    """Endpoints load; every `:` command switches pane; `/` filters; `?` lists the pane's keys; `:quit` exits."""
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: main_screen(app).query_one(EndpointsPane).loaded, what="endpoints")
        hub_endpoints = set(lab_ready["hub"]["endpoints"].values())
        assert hub_endpoints <= set(endpoint_ids(app))
        header = main_screen(app).query_one(ConsoleHeader)
        assert header.info is not None and header.info.account_id == lab_ready["hub"]["account_id"]
        assert header.info.is_lab and header.info.read_only
        assert str(main_screen(app).query_one("#hdr-mode").render()).strip() == "READ-ONLY"

        for command, typed, pane_type in (
            ("subscribers", "subscribers", SubscribersPane),
            ("doctor", "doc", DoctorPane),
            ("cost", "cost", CostPane),
            ("endpoints", "ep", EndpointsPane),
        ):
            await pilot.press("colon", *typed, "enter")
            assert main_screen(app).current_name == command
            assert main_screen(app).current_pane.loaded and isinstance(main_screen(app).current_pane, pane_type)

        doctor_codes = {row.code for row in main_screen(app).snapshot.doctor}
        assert {fault["code"] for fault in lab_ready["seeded_faults"]} & doctor_codes
        sqs_cells = [c for c in main_screen(app).snapshot.cells if c.service == "sqs"]
        assert any(c.status == "associated" for c in sqs_cells)

        # `/` filter: Enter applies, Esc clears.
        await pilot.press("slash", *"sqs", "enter")
        assert endpoint_ids(app) == [lab_ready["hub"]["endpoints"]["sqs"]]
        await pilot.press("escape")
        assert len(endpoint_ids(app)) >= len(hub_endpoints)

        # Completion: `:sub` + tab completes to `subscribers`.
        await pilot.press("colon", *"sub", "tab")
        assert main_screen(app).query_one("#command-line").value == "subscribers"  # type: ignore[attr-defined]
        await pilot.press("escape")

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        listed = {keys: does for keys, does, _ in app.screen.rows()}
        assert {":", "/", "?,f1", "r", "q", "e", "ctrl+p"} <= set(listed)
        assert listed["e"] == "edit policy"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)

        await pilot.press("colon", *"theme light", "enter")
        assert app.theme == "vpce-light"
        await pilot.press("colon", "q", "enter")
    assert app.return_code == 0


async def test_errors_become_notifications_and_keep_stale_data(
    console_app: Callable[..., VpceApp], lab_ready: Any
) -> None:
    """A failing refresh names the call and the account; the rows stay, marked stale; never a traceback."""
    app = console_app()
    faults_url = f"{lab_ready['endpoint_url']}/lab-api/faults"

    def set_faults(spec: str) -> None:
        body = json.dumps({"spec": spec, "replace": True}).encode()
        request = urllib.request.Request(faults_url, body, {"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(request, timeout=5).read()

    async with app.run_test(size=(120, 36)) as pilot:
        pane = main_screen(app).query_one(EndpointsPane)
        await wait_for(pilot, lambda: pane.loaded, what="endpoints")
        before = endpoint_ids(app)
        try:
            set_faults("ec2:DescribeVpcEndpoints=5xx")
            await pilot.press("r")
            await wait_for(pilot, lambda: bool(pane.stale_reason), what="stale marker")
        finally:
            set_faults("")
        assert endpoint_ids(app) == before
        text = " ".join(notifications(app))
        assert "DescribeVpcEndpoints" in text
        assert lab_ready["hub"]["account_id"] in text or "caller's account" in text
        assert "Traceback" not in text
        await pilot.press("r")
        await wait_for(pilot, lambda: not pane.stale_reason, what="fresh data after the fault is gone")
