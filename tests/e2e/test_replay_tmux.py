"""End to end in tmux: the editor's Observed (7d) tab and the rollout plan's replay line on the lab.

The lab's demo history is a week of real-looking calls through the hub endpoints; a draft that shuts one spoke
account out must show, in the Observed tab and on the plan step, that it would have denied that account's calls.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.test_console_tmux import Tmux, console_command

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


@pytest.fixture
def tmux_available() -> None:
    import shutil

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (.ci/run installs it)")
