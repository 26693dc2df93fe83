"""End to end in a real terminal: a person opens the console on a lab whose spokes use Route 53 Profiles and reads
the Subscribers matrix (P cells, the Profile named under the matrix) and the Doctor pane (profile-missing-zone)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VPCE = Path(sys.executable).with_name("vpce")


def _screen(name: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout


def _wait_for(name: str, text: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(name)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear within {timeout}s; screen:\n{screen}")


def _keys(name: str, *keys: str, literal: bool = False) -> None:
    subprocess.run(["tmux", "send-keys", "-t", name, *(["-l"] if literal else []), *keys], check=True)
    time.sleep(0.2)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_profile_subscriptions_on_screen(lab_factory: Callable[..., Any], size: tuple[int, int]) -> None:
    lab = lab_factory(scale="demo", seed=19, dns="profiles")
    name = f"vpce-prof-{uuid.uuid4().hex[:8]}"
    # the org trail is not what this test looks at: --no-trail spares the cold sync competing for the 2 cores
    command = f"{shlex.quote(str(VPCE))} --lab-ready {shlex.quote(str(lab.ready_file))} --no-trail"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", str(size[0]), "-y", str(size[1]), command], check=True
    )
    try:
        _wait_for(name, "12 endpoints")
        _keys(name, ":")
        _keys(name, "subscribers", literal=True)
        _keys(name, "Enter")
        _wait_for(name, "P via Profile")  # the legend is there at once; the rows come with the inventory
        screen = _wait_for(name, "staging-legacy")
        row = next(line for line in screen.splitlines() if line.lstrip().startswith("dev-eks"))
        assert row.split()[2:6] == ["P", "P", "P", "P"], row
        staging = next(line for line in screen.splitlines() if line.lstrip().startswith("staging-app"))
        assert "✗" in staging  # kms: its Profile lacks the zone
        # Move to dev-eks × ec2 and read the explanation line: the path and the Profile's name.
        ordered = [line.split()[0] for line in screen.splitlines()[3:] if line.strip() and not line.startswith("─")]
        for _ in range(ordered.index("dev-eks")):
            _keys(name, "Down")
        _keys(name, "Right", "Right")
        _wait_for(name, "through Route 53 Profile shared-endpoints")
        _keys(name, ":")
        _keys(name, "doctor", literal=True)
        _keys(name, "Enter")
        _wait_for(name, "Doctor ·")
        # The pane's filter, as a person would narrow a long list on a small terminal.
        _keys(name, "/")
        _keys(name, "profile-missing", literal=True)
        _keys(name, "Enter")
        _wait_for(name, "staging-core")
        _keys(name, "Escape")
        time.sleep(0.6)
        _keys(name, "/")
        _keys(name, "phz-missing", literal=True)
        _keys(name, "Enter")
        _wait_for(name, "no findings")  # no spoke on a Profile is reported as a missing association
        _keys(name, ":")
        _keys(name, "q", literal=True)
        _keys(name, "Enter")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
