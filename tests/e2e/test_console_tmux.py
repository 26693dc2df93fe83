"""End to end: the real `vpce --lab` in a real terminal (tmux), driven by keystrokes as a person would.

Also over SSH: the system `ssh` client against a throwaway server the test starts (tests/e2e/ssh_server.py).
In tmux an Escape followed at once by another key arrives as Alt+key, so the test pauses after every Escape.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VPCE = Path(sys.executable).with_name("vpce")
POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", '
    '"Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0abc1234"}}}]}'
)
"""A policy using aws:SourceVpc, which names the hub VPC behind a shared endpoint: `hub-scoped-key`."""


class Tmux:
    """One detached tmux session running one command at 120×36."""

    def __init__(self, command: str) -> None:
        self.name = f"vpce-e2e-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", "120", "-y", "36", command],
            check=True,
        )

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True).returncode == 0

    def screen(self) -> str:
        done = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True)
        return done.stdout

    def keys(self, *keys: str, literal: bool = False, pause: float = 0.15) -> None:
        args = ["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []), *keys]
        subprocess.run(args, check=True)
        time.sleep(pause)

    def escape(self) -> None:
        """Escape alone (a key right after it would turn into Alt+key)."""
        self.keys("Escape", pause=0.6)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            if not self.alive():
                break
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear within {timeout}s; screen:\n{screen}")

    def wait_without(self, text: str, timeout: float = 60.0) -> None:
        """Wait until `text` has left the screen (e.g. a loading marker)."""
        deadline = time.monotonic() + timeout
        while text in self.screen():
            if time.monotonic() > deadline or not self.alive():
                raise AssertionError(f"{text!r} still on screen after {timeout}s; screen:\n{self.screen()}")
            time.sleep(0.2)

    def wait_gone(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"the console did not quit; screen:\n{self.screen()}")
            time.sleep(0.2)

    def resize(self, width: int, height: int) -> None:
        """Resize the terminal (the console gets SIGWINCH, also through ssh)."""
        subprocess.run(["tmux", "resize-window", "-t", self.name, "-x", str(width), "-y", str(height)], check=True)

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def console_command(home: Path) -> str:
    """`vpce --lab` with a private home, state and temp dir (the lab's ready-file lands under `home/tmp`, see
    `lab_ready_of`), dummy credentials and no AWS config."""
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env = {
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    assignments = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
    return f"env -i {assignments} {shlex.quote(str(VPCE))} --lab"


def lab_ready_of(home: Path) -> dict[str, Any]:
    """The ready-file of the lab a `console_command(home)` started (its workdir is under `home/tmp`)."""
    found = sorted((home / "tmp").glob("*/ready.json"))
    assert len(found) == 1, f"expected one lab under {home / 'tmp'}, found {found}"
    loaded: dict[str, Any] = json.loads(found[0].read_text(encoding="utf-8"))
    return loaded


def set_lab_faults(home: Path, spec: str) -> None:
    """Replace the injected faults of the lab a `console_command(home)` started (`/lab-api/faults`, docs/lab.md)."""
    url = f"{lab_ready_of(home)['endpoint_url']}/lab-api/faults"
    body = json.dumps({"spec": spec, "replace": True}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        answer.read()


def drive(session: Tmux) -> None:
    """The person's script: endpoints with the trail's calls, help, panes (denials history, a used matrix cell), filter,
    editor, select-all, type, see the finding, quit."""
    session.wait_for("READ-ONLY", timeout=15)  # the first frame comes before the lab and the SDK
    session.wait_for("● available", timeout=120)  # early rows, while Route 53 and the spokes still load
    session.wait_without("loading", timeout=120)  # a person waits for the whole inventory before editing
    # the trail's 7 days of the lab's history: calls per endpoint, the quiet sts endpoint named (issue 13)
    screen = session.wait_for("trail 7d:", timeout=180)
    assert "7d calls" in screen and "no network activity events in the window for sts" in screen, screen
    session.keys("?")
    session.wait_for("Keys —")
    session.escape()
    session.keys(":", "denials", literal=True)
    session.keys("Enter")
    session.wait_for("Denials ·")
    session.wait_for("history", timeout=30)  # the trail backfill's line (the lab's last 24 h may hold no denials)
    session.keys(":", "subscribers", literal=True)
    session.keys("Enter")
    session.wait_for("Subscribers ·")
    session.keys("Down", "Down", "Right")
    session.wait_for("used: ", timeout=20)  # the highlighted spoke × service: how much and when, from the trail
    session.keys(":", "endpoints", literal=True)
    session.keys("Enter")
    session.wait_for("Endpoints ·")
    session.keys("/", "sqs", literal=True)
    session.keys("Enter")
    session.wait_for("filter: /sqs")
    session.keys("e")
    session.wait_for("Policy editor")
    session.wait_for("no changes")  # the editor has mounted, focused its text and linted the deployed policy
    for attempt in range(3):  # a select-all lost under load (keys mid-mount) shows as json-syntax: select, retype
        session.keys("F7", pause=0.5)  # TextArea's select-all
        session.keys(POLICY, literal=True, pause=0.5)
        try:
            session.wait_for("hub-scoped-key", timeout=10 if attempt < 2 else 30)
            break
        except AssertionError:
            if attempt == 2:
                raise
    session.escape()  # leave the text
    session.escape()  # back to the endpoints
    session.wait_for("Endpoints ·")
    session.resize(80, 24)  # the 80-column layout: service, whole id, policy, subscribers and the trail's calls
    screen = session.wait_for("7d calls", timeout=20)
    assert "AZs" not in screen and re.search(r"vpce-[0-9a-f]{17}\s+\S+\s+\d+\s+\d+", screen), screen
    session.keys("q")
    session.wait_gone()


@pytest.mark.usefixtures("tmux_available")
def test_console_in_tmux(tmp_path: Path) -> None:
    """Start `vpce --lab`, wait for rows, `?`, `:denials`, `:endpoints`, `/sqs`, `e`, F7, type, finding, `q`."""
    session = Tmux(console_command(tmp_path))
    try:
        drive(session)
    finally:
        session.kill()


@pytest.mark.usefixtures("tmux_available")
def test_console_over_ssh(tmp_path: Path, ssh_server: tuple[int, Path]) -> None:
    """The same script through the system `ssh` client with a PTY, against the test's own SSH server."""
    from tests.e2e.conftest import ssh_command

    session = Tmux(ssh_command(ssh_server, console_command(tmp_path)))
    try:
        drive(session)
    finally:
        session.kill()
