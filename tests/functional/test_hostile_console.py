"""Hostile text in the console: findings follow the text whatever it holds, and a crash exits non-zero."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.functional.conftest import wait_for
from tests.functional.test_editor import SOURCE_VPC_POLICY, open_sqs_editor
from textual.widgets import TextArea

from vpce_console.tui.app import VpceApp
from vpce_console.tui.screens.rollout import RolloutScreen

pytestmark = pytest.mark.lab

HUGE_NUMBER = SOURCE_VPC_POLICY.replace('"vpc-0123456789abcdef0"', "1" * 4400)
"""A 4,400-digit number: more digits than Python converts to int by default (4,300)."""


async def test_findings_follow_a_4400_digit_number_and_ctrl_o_survives(
    console_app: Callable[..., VpceApp], lab_ready: Any
) -> None:
    """The findings of the previous text are replaced by a json-syntax finding; ctrl+o opens the rollout screen."""
    app = console_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        editor = await open_sqs_editor(app, pilot, lab_ready)
        area = editor.query_one("#policy-text", TextArea)
        area.replace(SOURCE_VPC_POLICY, area.document.start, area.document.end)
        await wait_for(pilot, lambda: any(f.code == "hub-scoped-key" for f in editor.findings), what="first lint")
        area.replace(HUGE_NUMBER, area.document.start, area.document.end)
        await wait_for(
            pilot, lambda: [f.code for f in editor.findings] == ["json-syntax"], what="findings of the new text"
        )
        await pilot.press("ctrl+o")
        await pilot.pause(0.3)
        assert isinstance(app.screen, RolloutScreen)
        assert app.return_code is None, "the console is still running"


def test_console_command_exits_non_zero_after_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """`vpce console` returns the app's return code (1 after a crash), not `app.run()`'s None as 0."""
    import argparse

    from vpce_console.commands import console

    def crashed_run(self: VpceApp, *args: Any, **kwargs: Any) -> None:
        self._return_code = 1  # what App._fatal_error leaves behind (tests/functional/test_crash.py)

    monkeypatch.setattr(VpceApp, "run", crashed_run)
    args = argparse.Namespace(config=None, allow_write=False, theme=None, no_tail=True, lab=False, lab_ready=None)
    assert console.run(args) == 1
