"""End to end in tmux: the editor's Observed (7d) tab and the rollout plan's replay line on the lab.

The lab's demo history is a week of real-looking calls through the hub endpoints; a draft that shuts one spoke
account out must show, in the Observed tab and on the plan step, that it would have denied that account's calls.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from tests.e2e.test_console_tmux import Tmux, console_command, set_lab_faults
from tests.e2e.test_rollout_tmux import clear_editor, draft_linted_clean

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHUT_OUT = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},'
    '{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*",'
    '"Condition":{"StringEquals":{"aws:PrincipalAccount":"333333333333"}}}]}'
)


@pytest.mark.usefixtures("tmux_available")
def test_observed_tab_and_plan_line(tmp_path: Path) -> None:
    """You should see the Observed tab count 0 denied calls for the deployed policy, then 1 account's calls for a
    draft that shuts 333333333333 out, and the same sentence on the rollout's plan step."""
    session = Tmux(console_command(tmp_path))
    try:
        session.wait_for("READ-ONLY", timeout=15)
        session.wait_for("● available", timeout=120)
        session.wait_without("loading", timeout=120)
        session.keys("/", "sqs", literal=True)
        session.keys("Enter")
        session.wait_for("filter: /sqs")
        session.keys("e")
        session.wait_for("no changes")
        session.keys("F8", pause=0.5)
        session.wait_for("Observed (7d)")
        # the deployed policy replayed: nothing newly denied (the first replay syncs the trail: slow once)
        screen = session.wait_for("would have denied 0 call(s) from 0 account(s) in the last 7 days", timeout=240)
        assert "Sanity" in screen or "Newly allowed" in screen
        session.keys("F3", pause=0.3)
        session.keys("F7", pause=0.5)
        session.keys(SHUT_OUT, literal=True, pause=0.5)
        screen = session.wait_for("from 1 account(s) in the last 7 days", timeout=120)
        assert "(redacted: 333333333333)" in screen
        session.keys("C-o", pause=1.0)
        session.wait_for("Rollout —")
        session.keys("n")
        screen = session.wait_for("Observed: this draft would have denied", timeout=120)
        session.wait_for("from 1 account(s)", timeout=60)
        session.escape()
        session.escape()
        session.escape()
        session.wait_for("Endpoints ·", timeout=20)
        session.keys("q")
        session.wait_gone()
    finally:
        session.kill()


def open_plan(tmp_path: Path, *, size: tuple[int, int], config: str = "") -> Tmux:
    """`vpce --lab --allow-write` (own home, optional config); the draft that shuts 333333333333 out, typed into
    the sqs editor (at 120×36: the editor's status line is what says the draft is saved); `ctrl+o`; the lint step
    drawn at `size`."""
    if config:
        folder = tmp_path / "config" / "vpce-console"
        folder.mkdir(parents=True)
        (folder / "config.yaml").write_text(config, encoding="utf-8")
    session = Tmux(console_command(tmp_path) + " --allow-write")
    try:
        type_the_draft(session, size)
    except BaseException:
        session.kill()  # the caller never gets the session to kill
        raise
    return session


def type_the_draft(session: Tmux, size: tuple[int, int]) -> None:
    """The keys of `open_plan` after the console started."""
    session.wait_for("WRITE", timeout=60)
    session.wait_for("● available", timeout=120)
    session.wait_without("loading", timeout=120)
    session.keys("/", "sqs", literal=True)
    session.keys("Enter")
    session.wait_for("filter: /sqs")
    session.keys("e")
    session.wait_for("no changes")
    for attempt in range(3):  # a key lost under load is typed again, as a person would
        clear_editor(session)
        session.keys(SHUT_OUT, literal=True, pause=0.5)
        if draft_linted_clean(session, timeout=10):
            break
        assert attempt < 2, session.screen()
    width, height = size
    subprocess.run(["tmux", "resize-window", "-t", session.name, "-x", str(width), "-y", str(height)], check=True)
    session.keys("C-o")
    session.wait_for("1 ▶ lint")
    session.wait_for("lint clean")


def confirm_then_cancel(session: Tmux) -> None:
    """From the plan step once its replay line is shown: diff, confirm, `a` opens the typed confirmation; Esc."""
    session.keys("n")
    session.wait_for("3 ▶ diff")
    session.keys("n")
    session.wait_for("4 ▶ confirm")
    session.keys("a", pause=0.5)
    session.wait_for("Apply the draft policy")
    session.escape()
    session.wait_for("nothing was written")


@pytest.mark.usefixtures("tmux_available")
def test_apply_waits_for_the_plan_steps_replay_line(tmp_path: Path) -> None:
    """You should see, at 120×36, `n` refused on the plan step while the replay runs (the notification says so),
    `a` refused there too, then the plan step's line "this draft would have denied … from 1 account(s)", the plan's
    "probe acts as observed caller 333333333333 … (N calls/7d)" and only then the way on to the typed
    confirmation."""
    session = open_plan(tmp_path, size=(120, 36))
    try:
        # the replay reads the endpoint's policy changes (LookupEvents) first: slowed, the second n surely arrives
        # while it runs (a warm trail cache made the replay fast enough to race the key once)
        set_lab_faults(tmp_path, "cloudtrail:LookupEvents=latency:6")
        started = time.monotonic()
        session.keys("n", "n")
        screen = session.wait_for("the replay of the last 7 days is still running", timeout=60)
        assert "2 ▶ plan" in screen and "n waits for the replay line" in screen, screen
        session.keys("a", pause=0.5)
        session.wait_for("review the plan step first")
        screen = session.wait_for("from 1 account(s) in the last 7 days", timeout=240)
        assert "Observed: this draft would have denied" in screen and "n: next (diff)" in screen, screen
        assert time.monotonic() - started >= 6, "the injected LookupEvents latency did not slow the replay"
        # the plan is built again with the replay's heaviest callers: a lab workload of 333333333333 acts as one
        screen = session.wait_for("probe acts as observed caller 333333333333", timeout=60)
        assert "calls/7d)" in screen and "newly denied:" in screen, screen
        confirm_then_cancel(session)
        session.escape()
        session.escape()
        session.escape()
        session.wait_for("Endpoints ·", timeout=20)
        session.keys("q")
        session.wait_gone()
    finally:
        session.kill()


@pytest.mark.usefixtures("tmux_available")
@pytest.mark.parametrize(
    ("config", "said"),
    [
        ("trail: {bucket: null}\n", "Observed: not replayed: no trail configured"),
        ("trail: {bucket: no-such-trail-bucket}\n", "NoSuchBucket"),
    ],
    ids=["no-trail", "replay-fails"],
)
def test_without_a_replay_the_plan_step_says_so_at_80x24(tmp_path: Path, config: str, said: str) -> None:
    """You should see, at 80×24, the plan step say plainly that nothing was replayed (no trail configured, or
    the trail bucket does not exist) at the top of the step, and the flow go on to the typed confirmation."""
    session = open_plan(tmp_path, size=(80, 24), config=config)
    try:
        session.keys("n")
        # the plan step's own line first: the main screen's notification of a failing trail can name the same error
        session.wait_for("Observed: not replayed:", timeout=240)
        screen = session.wait_for(said, timeout=30)
        assert "Observed: not replayed:" in screen and "2 ▶ plan" in screen, screen
        confirm_then_cancel(session)
    finally:
        session.kill()
