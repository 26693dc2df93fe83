"""`make demo` on a fresh machine: the minute-long quiet install says what it is doing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_install_steps_are_announced_and_pip_stays_quiet() -> None:
    """Each slow step of the install is preceded by an echo that names it; pip itself keeps --quiet."""
    plan = subprocess.run(
        ["make", "-n", "-B", "-C", str(ROOT), "demo"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    commands = [line.strip() for line in plan if line.strip() and not line.startswith("make")]
    for slow in ("-m venv", "pip install", "/vpce --lab"):
        index = next(i for i, line in enumerate(commands) if slow in line and not line.startswith("echo "))
        assert index > 0 and commands[index - 1].startswith("echo "), f"no message before {slow!r}: {commands}"
    pip = next(line for line in commands if "pip install" in line and not line.startswith("echo "))
    assert "--quiet" in pip
