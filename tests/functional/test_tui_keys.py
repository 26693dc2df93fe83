"""Keymap, themes and quitting, on recorded lab data (no lab process needed)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.snapshots.conftest import FrozenBackend, load_recorded
from textual.widgets import Input

from vpce_console.errors import ConfigError
from vpce_console.tui.app import VpceApp
from vpce_console.tui.screens.editor import PolicyEditorScreen
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.widgets.panes import EndpointsPane


def recorded_app(**kwargs: Any) -> VpceApp:
    header, snapshot, denials = load_recorded()
    backend = FrozenBackend(header, snapshot, denials)

    async def connect() -> FrozenBackend:
        return backend

    kwargs.setdefault("tail", False)
    return VpceApp(connect, **kwargs)  # type: ignore[arg-type]


async def loaded(app: VpceApp, pilot: Any) -> MainScreen:
    for _ in range(200):
        if isinstance(app.screen, MainScreen) and app.screen.query_one(EndpointsPane).loaded:
            return app.screen
        await pilot.pause(0.02)
    raise AssertionError("endpoints never loaded")


async def test_keymap_rebinds_by_id_and_theme_comes_from_config() -> None:
    app = recorded_app(keymap={"filter": "f", "command": "ctrl+k"}, theme="vpce-high-contrast")
    async with app.run_test(size=(120, 36)) as pilot:
        main = await loaded(app, pilot)
        assert app.theme == "vpce-high-contrast"
        await pilot.press("slash")
        assert not main.query_one("#filter-input", Input).display, "the default key is gone once rebound"
        await pilot.press("f", *"sqs", "enter")
        assert main.query_one(EndpointsPane).filter_text == "sqs"
        await pilot.press("ctrl+k", *"cost", "enter")
        assert main.current_name == "cost"
        await pilot.press("colon", *"theme light", "enter")
        assert app.theme == "vpce-high-contrast", "`:` no longer opens the command line"


def test_unknown_keymap_id_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="refrsh"):
        recorded_app(keymap={"refrsh": "ctrl+r"})


async def test_q_quits_from_main_panes_but_types_in_the_editor() -> None:
    app = recorded_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(app, pilot)
        await pilot.press("e")
        editor = app.screen
        assert isinstance(editor, PolicyEditorScreen)
        await pilot.press("q")
        assert app.screen is editor and "q" in editor.current_text()
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("q")
    assert app.return_code == 0


async def test_denials_pane_quiet_stream_filter_pause_and_export(tmp_path: Any) -> None:
    """A stream that goes quiet still shows its rows; `/` filters by reason; `p` holds new rows; `x` writes JSONL."""
    import json
    import os
    from pathlib import Path

    from vpce_console.tui.models import DenialRow
    from vpce_console.tui.widgets.panes import DenialsPane

    app = recorded_app(tail=True, initial_pane="denials")
    async with app.run_test(size=(120, 36)) as pilot:
        main = await loaded(app, pilot)
        pane = main.query_one(DenialsPane)
        expected = len(load_recorded()[2])
        for _ in range(100):
            if pane.total_seen == expected:
                break
            await pilot.pause(0.02)
        assert pane.total_seen == expected, "the one batch of a now-quiet stream reached the pane"

        await pilot.press("slash", *"reason=vpce-explicit", "enter")
        shown = pane.visible_rows()
        assert shown and all(row.reason == "vpce-explicit" for row in shown)

        await pilot.press("p")
        assert pane.paused
        extra = DenialRow(
            at=1.0,
            endpoint_id="vpce-x",
            service="sqs",
            account_id="1",
            principal="p",
            action="a",
            reason="vpce-explicit",
        )
        pane.add([extra])
        assert pane.held == 1 and pane.query_one("DenialList").rows[0] is not extra  # type: ignore[attr-defined]
        await pilot.press("p")
        await pilot.pause(0.1)
        assert pane.query_one("DenialList").rows[0] is extra  # type: ignore[attr-defined]

        await pilot.press("x")
        exports = list((Path(os.environ["XDG_STATE_HOME"]) / "vpce-console" / "exports").glob("denials-*.jsonl"))
        assert len(exports) == 1
        lines = [json.loads(line) for line in exports[0].read_text().splitlines()]
        assert len(lines) == len(pane.visible_rows()) and all(line["reason"] == "vpce-explicit" for line in lines)
