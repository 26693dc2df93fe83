"""End to end, as an on-call engineer runs it (issue 9): the real `vpce --lab --allow-write` in tmux, by keys.

The same script runs in tmux directly and through a real SSH session (the system `ssh` client against a throwaway
asyncssh server started for the test, with a PTY), so "works over SSH on a bastion" is checked, not skipped.

Path: edit → ctrl+o → every step drawn → wrong id refused → right id → watch with active probes → CONVERGED with a
frozen time within 3 poll intervals of the lab's truth → the Denials pane names the new version → `b` → the
rollback watched to CONVERGED → the deployed bytes equal the original. Then a loosening change, left while
watching, found again in `:history` and rolled back from there.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import ssh_command
from tests.e2e.test_console_tmux import Tmux, console_command

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

POLL_SECONDS = 1.0
"""The console's watch poll interval in this test (config `watch.poll_seconds`)."""
PROPAGATION = "4:8"
"""The lab's propagation window: long enough that old and new policy overlap, short enough for CI."""

TIGHT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {
                "Sid": "NoProbeList",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:ListQueues",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": "probe"}},
            },
        ],
    }
)
"""Tightening: the probe identity (tagged team=probe) loses sqs:ListQueues."""

LOOSE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    }
)
"""Loosening from TIGHT: the restriction is removed (a document of its own, not the original bytes)."""

CONFIG = """
watch: {poll_seconds: %s, timeout_seconds: 120, required_streak: 2}
probes:
  - name: probe
    role_arn: arn:aws:iam::111111111111:role/vpce-console-probe
    session_tags: {team: probe}
"""
"""The probe role of the lab's hub account (the demo lab's hub is 111111111111)."""


def version(text: str) -> str:
    """The short policy version the console shows (first 12 hex of the sha256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class Lab:
    """The lab the console started, found through its ready-file in the console's private TMPDIR."""

    def __init__(self, tmpdir: Path) -> None:
        self.tmpdir = tmpdir
        self._ready: dict[str, Any] | None = None

    @property
    def ready(self) -> dict[str, Any]:
        if self._ready is None:
            files = list(self.tmpdir.glob("vpce-lab-*/ready.json"))
            assert files, f"no lab ready-file under {self.tmpdir}"
            self._ready = json.loads(files[0].read_text(encoding="utf-8"))
        return self._ready

    @property
    def sqs(self) -> str:
        return str(self.ready["hub"]["endpoints"]["sqs"])

    def deployed(self) -> str | None:
        """The sqs endpoint's document, read with the real SDK."""
        import boto3

        operator = self.ready["operator"]
        ec2 = boto3.client(
            "ec2",
            endpoint_url=self.ready["endpoint_url"],
            region_name=self.ready["region"],
            aws_access_key_id=operator["access_key_id"],
            aws_secret_access_key=operator["secret_access_key"],
        )
        answer = ec2.describe_vpc_endpoints(VpcEndpointIds=[self.sqs])
        return answer["VpcEndpoints"][0].get("PolicyDocument")  # type: ignore[no-any-return]

    def truth(self) -> float:
        """Seconds from the last write to the lab's full propagation (`/lab-api/propagation`)."""
        with urllib.request.urlopen(self.ready["endpoint_url"] + "/lab-api/propagation", timeout=10) as answer:
            body = json.load(answer)
        entry = body["endpoints"][self.sqs]
        return float(entry["fully_propagated_at"]) - float(entry["changed_at"])


def converged_seconds(screen: str, prefix: str = "") -> int:
    """The frozen `CONVERGED after mm:ss` on screen, in seconds."""
    found = re.search(prefix + r"✓ CONVERGED after (\d\d):(\d\d)", screen)
    assert found, screen
    return int(found.group(1)) * 60 + int(found.group(2))


def check_against_truth(declared: int, truth: float) -> None:
    """Never before the lab's truth, and within 3 poll intervals after it (mm:ss floors; the write returns after
    the lab's change time, so one second of slack each way)."""
    print(f"declared {declared}s · lab truth {truth:.1f}s · {declared - truth:+.1f}s")  # the measured figures (-s)
    assert declared + 1 >= truth, f"declared {declared}s before the truth {truth:.1f}s"
    assert declared <= truth + 3 * POLL_SECONDS + 1, f"declared {declared}s, truth {truth:.1f}s"


def confirm(session: Tmux, endpoint_id: str, *, wrong_first: bool = False) -> None:
    """Type the endpoint id in the confirmation (a wrong one first, which must be refused)."""
    session.wait_for("Type the endpoint id to confirm")
    if wrong_first:
        session.keys("vpce-wrong", literal=True)
        session.keys("Enter")
        session.wait_for("that is not the endpoint id")
        for _ in range(len("vpce-wrong")):
            session.keys("BSpace", pause=0.03)
    session.keys(endpoint_id, literal=True)
    session.keys("Enter")


def clear_editor(session: Tmux) -> None:
    """Select all (F7) and delete, until the editor holds one empty line: under load a key sent while the editor
    mounts, or an escape sequence split across reads, can be lost — a person would look and press it again."""
    for _ in range(6):
        session.keys("F7", pause=0.4)
        session.keys("BSpace", pause=0.6)
        if not re.search(r"▊\s+2\s", session.screen()):
            return
    raise AssertionError("the editor did not clear:\n" + session.screen())


def draft_linted_clean(session: Tmux, timeout: float = 15.0) -> bool:
    """True once the editor's status line says the draft is saved and has no lint errors (the text being typed
    lints with errors on its way there, so only the timeout says no)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = next((line for line in session.screen().splitlines() if "Policy editor" in line), "")
        if "draft saved" in status and " 0 errors" in status:
            return True
        time.sleep(0.2)
    return False


def edit_and_open_rollout(session: Tmux, policy: str) -> None:
    """`e` on the selected endpoint, replace the text, `ctrl+o`: the first step is drawn at once."""
    session.keys("e")
    session.wait_for("Policy editor")
    session.wait_for("no changes")
    for attempt in range(3):  # look at what arrived, as a person would, and type it again if keys were lost
        clear_editor(session)
        session.keys(policy, literal=True, pause=0.5)
        if draft_linted_clean(session, timeout=10):
            break
        assert attempt < 2, session.screen()
    session.keys("C-o")
    session.wait_for("1 ▶ lint")
    session.wait_for("lint clean")


def through_the_steps(session: Tmux) -> None:
    """n, n, n: plan, diff, confirm — each drawn."""
    session.keys("n")
    session.wait_for("2 ▶ plan")
    session.wait_for("Observed: ", timeout=240)  # n waits until the plan step shows the replay line
    session.wait_without("n waits for the replay line", timeout=240)
    session.keys("n")
    session.wait_for("3 ▶ diff")
    session.keys("n")
    session.wait_for("4 ▶ confirm")


MAIN_TITLES = ("Endpoints ·", "History ·", "Denials ·")


def on_main(session: Tmux) -> bool:
    """True when a main-screen pane is showing (not the rollout screen or the editor)."""
    screen = session.screen()
    return any(title in screen for title in MAIN_TITLES) and "Rollout —" not in screen


def back_to_main(session: Tmux) -> None:
    """Esc until a main pane shows, one Esc at a time (a running watch and the editor's text each take one more;
    an extra Esc on the main screen would go back to the previous pane)."""
    for _ in range(6):
        if on_main(session):
            return
        session.escape()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not on_main(session):
            time.sleep(0.1)
    assert on_main(session), session.screen()


def command(session: Tmux, name: str, title: str) -> None:
    """`:name` Enter, waiting for the typed word on screen first (over SSH keys arrive in bursts)."""
    session.keys(":")
    session.keys(name, literal=True)
    session.wait_for(name)
    session.keys("Enter", pause=0.3)
    session.wait_for(title)


def drive(session: Tmux, lab: Lab) -> None:
    """The whole path; asserts against the lab's truth and the deployed bytes."""
    session.wait_for("WRITE ENABLED", timeout=30)
    session.wait_for("● available", timeout=120)
    session.wait_without("loading", timeout=120)
    endpoint_id = lab.sqs
    original = lab.deployed()
    assert original is not None

    # 1. Tightening change through every step.
    session.keys("/", "sqs", literal=True)
    session.keys("Enter")
    session.wait_for("filter: /sqs")
    edit_and_open_rollout(session, TIGHT)
    through_the_steps(session)
    session.keys("a")
    confirm(session, endpoint_id, wrong_first=True)
    session.wait_for("5 ▶ watch", timeout=30)
    screen = session.wait_for("✓ CONVERGED after", timeout=90)
    declared = converged_seconds(screen)
    check_against_truth(declared, lab.truth())
    assert "6 ✓ done" in screen
    time.sleep(2.5)
    assert converged_seconds(session.screen()) == declared, "the time is frozen at convergence"
    assert lab.deployed() == TIGHT

    # 2. The probes' denials reach the Denials pane labelled with the version this console just wrote.
    back_to_main(session)
    command(session, "denials", "Denials ·")
    session.wait_for(version(TIGHT)[:10], timeout=60)  # the column shows the version's first 10 hex at 120×36

    # 3. Back to the endpoint: the change is found in the journal; `b` rolls it back, watched to CONVERGED.
    command(session, "endpoints", "Endpoints ·")
    session.keys("o")
    session.wait_for("Last change in force")
    session.keys("b")
    confirm(session, endpoint_id)
    session.wait_for("rollback: 1 ✓ rolled back", timeout=30)
    screen = session.wait_for("rollback ✓ CONVERGED after", timeout=90)
    check_against_truth(converged_seconds(screen, "rollback "), lab.truth())
    assert lab.deployed() == original
    session.keys("b")
    session.wait_for("already rolled back")  # rolling back the rollback is never the default

    # 4. Tighten again, then a loosening change; leave while it is watched; roll it back from :history.
    back_to_main(session)
    edit_and_open_rollout(session, TIGHT)
    through_the_steps(session)
    session.keys("a")
    confirm(session, endpoint_id)
    session.wait_for("✓ CONVERGED after", timeout=90)
    back_to_main(session)
    edit_and_open_rollout(session, LOOSE)
    through_the_steps(session)
    session.keys("a")
    confirm(session, endpoint_id)
    screen = session.wait_for("✓ CONVERGED after", timeout=90)
    check_against_truth(converged_seconds(screen), lab.truth())  # a loosening change converges (it used to time out)
    assert lab.deployed() == LOOSE
    back_to_main(session)
    command(session, "history", "History ·")
    session.wait_for("● in force")
    session.keys("b")  # the newest entry (the loosening change) is selected
    confirm(session, endpoint_id)
    screen = session.wait_for("rollback ✓ CONVERGED after", timeout=90)
    check_against_truth(converged_seconds(screen, "rollback "), lab.truth())
    assert lab.deployed() == TIGHT
    # and the tightening one before it, from the history again: the original bytes come back
    back_to_main(session)
    command(session, "history", "History ·")
    session.wait_for("● in force")
    session.keys("Down", "Down")  # newest first: the rollback, the loosening change, then the tightening change
    session.keys("b")
    confirm(session, endpoint_id)
    session.wait_for("rollback ✓ CONVERGED after", timeout=90)
    assert lab.deployed() == original
    back_to_main(session)
    session.keys("q")
    session.wait_gone()


def console_env_command(home: Path) -> str:
    """`vpce --lab --allow-write` with a short propagation window and the test config (`console_command` gives
    it a private TMPDIR, where `Lab` finds the lab's ready-file)."""
    config = home / "config.yaml"
    config.write_text(CONFIG % POLL_SECONDS, encoding="utf-8")
    return console_command(home) + f" --allow-write --lab-propagation {PROPAGATION} --config {shlex.quote(str(config))}"


@pytest.mark.usefixtures("tmux_available")
def test_guided_rollout_in_tmux(tmp_path: Path) -> None:
    """The whole path in tmux at 120×36."""
    session = Tmux(console_env_command(tmp_path))
    try:
        drive(session, Lab(tmp_path / "tmp"))
    finally:
        session.kill()


@pytest.mark.usefixtures("tmux_available")
def test_guided_rollout_over_ssh(tmp_path: Path, ssh_server: tuple[int, Path]) -> None:
    """The same path through the system `ssh` client with a PTY (`-t`), as on a bastion."""
    session = Tmux(ssh_command(ssh_server, console_env_command(tmp_path)))
    try:
        drive(session, Lab(tmp_path / "tmp"))
    finally:
        session.kill()
