"""The console reads the lab's org trail: the numbers on screen equal the lab's ground truth (issue 13, console).

Each app runs the real services over the real SDK against the session lab, whose demo history (7 days) is in the
log-archive bucket; the window is set to the history's start so the whole trail counts, as in test_trail_lab.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.functional.conftest import TEST_CONFIG, make_app, notifications, wait_for, write_ready
from tests.lab.test_trail import control
from textual.widgets import DataTable, Static

from vpce_console.tui.app import VpceApp
from vpce_console.tui.models import NO_TRAIL
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.widgets.denial_list import DenialList
from vpce_console.tui.widgets.header import ConsoleHeader
from vpce_console.tui.widgets.panes import DenialsPane, EndpointsPane, SubscribersPane, count_text

pytestmark = pytest.mark.lab


def whole_history(app: VpceApp, start: str) -> VpceApp:
    """Point the backend's windows at the history's start, so the answer covers exactly what the lab delivered."""
    inner = app._connect

    async def connect() -> Any:
        backend = await inner()
        backend.trail_window = start
        backend.denial_window = start
        return backend

    app._connect = connect
    return app


def truth_now(ready: Mapping[str, Any]) -> dict[str, Any]:
    """Deliver what is pending, then the lab's aggregates of everything in the bucket."""
    control(ready, "/lab-api/trail/flush", "POST")
    return control(ready, "/lab-api/trail/truth")


def by_endpoint(truth: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for row in truth["rows"]:
        calls, denied = out.get(row["endpoint_id"], (0, 0))
        out[row["endpoint_id"]] = (calls + row["calls"], denied + (row["calls"] if row["error_code"] else 0))
    return out


def main_of(app: VpceApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def test_endpoint_and_matrix_counts_equal_the_lab_truth(
    console_app: Callable[..., VpceApp], lab_ready: Mapping[str, Any]
) -> None:
    """Calls and denials per endpoint (table cells) and per spoke × service (model and the cell's detail line)."""
    before = truth_now(lab_ready)
    app = whole_history(console_app(trail=True), str(lab_ready["trail"]["history"]["start"]))
    async with app.run_test(size=(160, 40)) as pilot:
        main = main_of(app)
        pane = main.query_one(EndpointsPane)
        await wait_for(pilot, lambda: main.trail_usage is not None, timeout=120, what="the trail's answer")
        usage = main.trail_usage
        assert usage is not None and usage.state == "ok", (usage, notifications(app))
        after = control(lab_ready, "/lab-api/trail/truth")
        truth = before if usage.records == before["records"] else after
        assert usage.records == truth["records"], (usage.records, before["records"], after["records"])
        expected = by_endpoint(truth)
        await pilot.pause()
        table = pane.query_one("#endpoints-table", DataTable)
        columns = [str(c.label) for c in table.columns.values()]
        assert "Calls" in columns and "Denied" in columns, columns  # an ISO window: the trail line names it
        shown = 0
        for row in pane.snapshot.endpoints:
            calls, denied = expected.get(row.endpoint_id, (0, 0))
            assert (row.calls, row.denials) == (calls, denied), row.endpoint_id
            cells = table.get_row(row.endpoint_id)
            assert str(cells[columns.index("Calls")]) == (count_text(calls) if calls else "none")
            assert str(cells[columns.index("Denied")]).split()[0] == count_text(denied)
            shown += calls
        assert shown, "the demo history goes through the hub's endpoints"
        line = str(pane.query_one("#endpoints-trail", Static).render())
        assert f"{shown:,} calls" in line, line

        # the matrix: per spoke VPC × service, exactly the truth's calls from that VPC to that service's endpoints
        service_of = {e.endpoint_id: e.service for e in pane.snapshot.endpoints}
        cells: dict[tuple[str, str], list[Any]] = {}
        for row in truth["rows"]:
            service = service_of.get(row["endpoint_id"])
            if service is None:
                continue
            got = cells.setdefault((row["vpc_id"], service), [0, 0, ""])
            got[0] += row["calls"]
            got[1] += row["calls"] if row["error_code"] else 0
            got[2] = max(got[2], row["last_seen"])
        subscribers = main.query_one(SubscribersPane)
        spokes = {s.vpc_id for s in subscribers.snapshot.spokes}
        used = None
        unused = None
        for cell in subscribers.snapshot.cells:
            if cell.vpc_id not in spokes:
                continue
            calls, denied, last = cells.get((cell.vpc_id, cell.service), [0, 0, ""])
            assert (cell.calls, cell.denials, cell.last_seen) == (calls, denied, last), (
                cell.vpc_id,
                cell.service,
                [s for s in subscribers.snapshot.spokes if s.vpc_id == cell.vpc_id],
                {k: v for k, v in usage.cells.items() if k[1] == cell.service},
                {k: v for k, v in cells.items() if k[1] == cell.service},
            )
            if calls and used is None:
                used = cell
            if not calls and unused is None:
                unused = cell
        assert used is not None, "the demo history reaches some spoke's service"
        await pilot.press("colon", *"subscribers", "enter")
        await pilot.pause()
        matrix = subscribers.query_one("#subscribers-table", DataTable)
        for cell in (used, unused):
            if cell is None:
                continue
            column = subscribers.first_service_column + subscribers.services_shown(subscribers.row_filter).index(
                cell.service
            )
            matrix.move_cursor(row=matrix.get_row_index(cell.vpc_id), column=column)
            await pilot.pause()
            detail = str(subscribers.query_one("#subscribers-cell", Static).render())
            if cell.calls:
                assert f"used: {cell.calls:,} calls ({cell.denials:,} denied)" in detail, detail
                assert cell.last_seen.replace("T", " ")[:16] in detail, detail
            else:
                assert "no network activity events for this service from this VPC" in detail, detail


async def test_denials_pane_backfills_the_trail_history(
    console_app: Callable[..., VpceApp], lab_ready: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On open the Denials pane shows the trail's denials, grouped by who × what, marked ◷, beside the tail; while
    the sync and the query run, the inventory's progress line and the header say so, and clear after."""
    lines: list[str] = []
    headers: list[str] = []
    watch = EndpointsPane.watch_progress

    def record(pane: EndpointsPane, progress: str) -> None:
        lines.append(progress)
        headers.append(str(pane.screen.query_one(ConsoleHeader).status))
        watch(pane, progress)

    monkeypatch.setattr(EndpointsPane, "watch_progress", record)
    before = truth_now(lab_ready)
    app = whole_history(console_app(trail=True, initial_pane="denials"), str(lab_ready["trail"]["history"]["start"]))
    async with app.run_test(size=(120, 36)) as pilot:
        main = main_of(app)
        pane = main.query_one(DenialsPane)
        await wait_for(pilot, lambda: pane.history is not None, timeout=120, what="the denial history")
        history = pane.history
        assert history is not None and history.state == "ok", (history, notifications(app))
        after = control(lab_ready, "/lab-api/trail/truth")
        got: dict[tuple[str, ...], int] = {}
        for row in history.rows:
            assert row.history and row.reason == "VpceAccessDenied"
            raw = row.raw
            key = (row.endpoint_id, raw["account_id"], raw["principal"], raw["event_source"], raw["event_name"])
            got[key] = row.count
        expected: list[dict[tuple[str, ...], int]] = []
        for truth in (before, after):
            groups: dict[tuple[str, ...], int] = {}
            for t in truth["rows"]:
                if t["error_code"]:
                    key = (t["endpoint_id"], t["account_id"], t["principal"], t["event_source"], t["event_name"])
                    groups[key] = groups.get(key, 0) + t["calls"]
            expected.append(groups)
        assert got in expected, (got, expected[0])
        assert got, "the demo history has denials"
        await pilot.pause(0.4)  # one flush tick of the pane
        text = str(pane.query_one(DenialList).render())
        assert f"◷ {datetime.fromtimestamp(history.rows[0].at, UTC):%H:%M}" in text, text
        assert f"×{history.rows[0].count} (trail)" in text, text
        status = str(pane.query_one("#denials-status", Static).render())
        assert f"history ◷: {sum(got.values()):,} denials in {len(got)} groups from the trail" in status, status
        await wait_for(pilot, lambda: main.trail_usage is not None, timeout=120, what="the trail's answer")
        await pilot.pause()
        trail_lines = [line for line in lines if line.startswith("⧗ trail: ")]
        assert any("downloaded" in line for line in trail_lines), lines  # a fresh cache: the sync shows
        assert any("with DuckDB" in line for line in trail_lines), lines  # then the query
        assert "reading the trail…" in headers, headers
        assert main.query_one(EndpointsPane).progress == "", "the line clears when the answer is in"


async def test_no_trail_configured_says_so_in_every_pane(
    console_files: tuple[Path, Path],
    lab_ready: Mapping[str, Any],
    lab_snapshot: Any,
    tmp_path: Path,
) -> None:
    """No `trail:` section: the Endpoints line, the matrix cell and the Denials status name the missing config."""
    ready = write_ready({k: v for k, v in lab_ready.items() if k != "trail"}, tmp_path)
    app = make_app(ready, console_files[1], first_snapshot=lab_snapshot, trail=True)
    async with app.run_test(size=(80, 24)) as pilot:
        main = main_of(app)
        pane = main.query_one(EndpointsPane)
        await wait_for(pilot, lambda: main.trail_usage is not None, what="the trail's answer")
        assert main.trail_usage is not None and main.trail_usage.state == "off"
        await pilot.pause()
        assert NO_TRAIL in str(pane.query_one("#endpoints-trail", Static).render())
        table = pane.query_one("#endpoints-table", DataTable)
        columns = [str(c.label) for c in table.columns.values()]
        assert columns[:5] == ["Service", "Endpoint", "Policy", "Subs", "7d calls"], columns  # the 80-column layout
        right = sum(c.get_render_width(table) for c in list(table.columns.values())[:5])
        assert right <= 80, f"the calls column ends at {right}"
        first = pane.visible_rows()[0]
        assert str(table.get_row(first.endpoint_id)[columns.index("7d calls")]) == "—"
        await pilot.press("colon", *"subscribers", "enter")
        await pilot.pause()
        assert NO_TRAIL in str(main.query_one(SubscribersPane).query_one("#subscribers-cell", Static).render())
        await pilot.press("colon", *"denials", "enter")
        await pilot.pause(0.4)
        status = str(main.query_one(DenialsPane).query_one("#denials-status", Static).render())
        assert f"history: {NO_TRAIL}" in status, status
        assert not [n for n in notifications(app) if "trail" in n.lower()], notifications(app)


async def test_a_bucket_without_access_is_a_notification_and_a_status_line(
    console_files: tuple[Path, Path], lab_snapshot: Any, tmp_path: Path
) -> None:
    """A trail bucket the caller cannot read: one notification, the trail line says why; no traceback, no crash."""
    config = tmp_path / "config.yaml"
    config.write_text(TEST_CONFIG + "trail:\n  bucket: vpce-no-such-trail-bucket\n", encoding="utf-8")
    app = make_app(console_files[0], config, first_snapshot=lab_snapshot, trail=True)
    async with app.run_test(size=(120, 36)) as pilot:
        main = main_of(app)
        pane = main.query_one(EndpointsPane)
        await wait_for(
            pilot, lambda: any("reading the trail" in n for n in notifications(app)), timeout=60, what="the failure"
        )
        await pilot.pause()
        line = str(pane.query_one("#endpoints-trail", Static).render())
        assert (line.startswith("trail: ") and "vpce-no-such-trail-bucket" in line) or "NoSuchBucket" in line, line
        assert pane.loaded and pane.snapshot.endpoints, "the inventory stays on screen"
        status = str(main.query_one(DenialsPane).query_one("#denials-status", Static).render())
        assert "history: trail: " in status, status
        assert app.return_code in (None, 0)


async def test_skipped_objects_and_records_are_shown_as_the_cli_says_them(
    console_files: tuple[Path, Path], lab_ready: Mapping[str, Any], lab_snapshot: Any, tmp_path: Path
) -> None:
    """A cut-off gzip and records of eventVersion 2.0 under the trail's prefix: counted on the trail line, in the
    CLI's words, and the readable records still counted (5 good + the 1.10 one through the sqs endpoint)."""
    from tests.aws.test_trail_lab import put_bad_objects

    prefix = put_bad_objects(lab_ready, "bad-trail-console/")
    config = tmp_path / "config.yaml"
    config.write_text(TEST_CONFIG + f"trail:\n  prefix: {prefix}\n", encoding="utf-8")
    app = make_app(console_files[0], config, first_snapshot=lab_snapshot, trail=True)
    async with app.run_test(size=(120, 36)) as pilot:
        main = main_of(app)
        await wait_for(pilot, lambda: main.trail_usage is not None, timeout=60, what="the trail's answer")
        usage = main.trail_usage
        assert usage is not None and usage.state == "ok", (usage, notifications(app))
        sqs = lab_ready["hub"]["endpoints"]["sqs"]
        assert usage.endpoints[sqs].calls == 6
        await pilot.pause()
        line = str(main.query_one(EndpointsPane).query_one("#endpoints-trail", Static).render())
        assert "skipped 1 objects: truncated or corrupt gzip" in line, line
        assert "skipped 3 records: eventVersion major 2 (this reader knows 1.x)" in line, line


async def test_endpoints_columns_follow_a_resize_at_full_width(console_app: Callable[..., VpceApp]) -> None:
    """120 → 80 columns: the pane switches to the 80-column layout, and every column is as wide as its content (a
    rebuilt DataTable would otherwise stay as narrow as its titles until some later event)."""
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        pane = main_of(app).query_one(EndpointsPane)
        await wait_for(pilot, lambda: pane.loaded, what="endpoints")
        table = pane.query_one("#endpoints-table", DataTable)
        assert "AZs" in [str(c.label) for c in table.columns.values()]
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: "AZs" not in [str(c.label) for c in table.columns.values()], what="80 columns")
        widths = {str(c.label): c.get_render_width(table) for c in table.columns.values()}
        longest = max(len(e.endpoint_id) for e in pane.snapshot.endpoints)
        assert widths["Endpoint"] >= longest + 2, widths  # the whole id plus the cell padding
        assert widths["Service"] >= max(len(e.service) for e in pane.snapshot.endpoints) + 2, widths
        assert sum(list(widths.values())[:5]) <= 80, widths
