"""An unexpected bug never puts a traceback (with its local variables) on an on-call engineer's screen."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from vpce_console.paths import state_dir
from vpce_console.tui.app import VpceApp


async def _never_connects() -> object:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def test_a_bug_leaves_one_line_and_a_private_crash_log(capsys: pytest.CaptureFixture[str]) -> None:
    app = VpceApp(_never_connects)  # type: ignore[arg-type]
    secret = "wJalrXUtnFEMI-not-a-real-secret"

    def buggy_handler() -> None:
        credentials = {"secret_access_key": secret}  # a local Textual's default traceback would print
        raise RuntimeError(f"bug while handling {len(credentials)} credential")

    with pytest.raises(RuntimeError):
        async with app.run_test() as pilot:
            app.call_later(buggy_handler)
            await pilot.pause(0.3)
    assert app.return_code == 1
    shown = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(shown) == 1
    assert shown[0].startswith("vpce: internal error (RuntimeError: bug while handling 1 credential)")
    assert "Traceback" not in shown[0] and secret not in shown[0]
    logs = sorted((state_dir() / "crash").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in shown[0]
    assert "buggy_handler" in logs[0].read_text() and "Traceback" in logs[0].read_text()
    assert stat.S_IMODE(os.stat(logs[0]).st_mode) == 0o600


def test_crash_log_is_none_when_the_state_dir_is_unwritable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from vpce_console.tui.app import write_crash_log

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    assert write_crash_log("boom") is None
