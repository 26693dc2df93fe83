"""End to end in tmux at 80×24: a rollout whose process was killed after its write, found and finished from the
console (`o`, `w`), then a rollback that the dead process's lease refuses, said on screen without losing the watch,
until `x` breaks that lease.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_console_tmux import Tmux, console_command
from tests.functional.conftest import probe_config, write_ready
from tests.functional.test_rollout import deny_probe_policy

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.usefixtures("tmux_available")
def test_a_killed_rollout_is_watched_to_the_end_and_its_stale_lease_refuses_b(
    lab_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """You should see, at 80×24, the endpoint's last change "(apply, unfinished)" with `w: watch it`; after `w` the
    watch step (`5 ▶ watch`) with its timer counted from the killed write, then `Rollout finished: CONVERGED`; after
    `b` and the typed id, "Rollback refused, nothing written" naming `--break-stale-lease`, the converged watch
    still on screen; after `x` and the lease id typed out, `Rollback finished: CONVERGED`."""
    ready = dict(lab_factory(scale="demo", seed=23, propagation="1:2").ready)
    home = tmp_path / "home"
    config = probe_config(tmp_path, ready["hub"]["account_id"])
    ready_file = write_ready(ready, tmp_path)
    endpoint_id = ready["hub"]["endpoints"]["sqs"]
    policy = tmp_path / "draft.json"
    policy.write_text(deny_probe_policy("sqs:ListQueues"), encoding="utf-8")
    console = console_command(home)  # makes home/tmp; the console and the killed CLI share home/state (the journal)
    killed = subprocess.run(
        [
            *(sys.executable, "-m", "vpce_console", "rollout", "--lab-ready", str(ready_file), "--config", str(config)),
            *("--endpoint", endpoint_id, "--policy", str(policy), "--confirm", endpoint_id, "--allow-write"),
            "--no-trail",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(home / "state"), "VPCE_CRASH_AFTER": "verify"},
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    command = console.removesuffix(" --lab") + (
        f" --lab-ready {shlex.quote(str(ready_file))} --config {shlex.quote(str(config))} --allow-write --no-trail"
    )
    session = Tmux(command)
    try:
        session.resize(80, 24)
        session.wait_for("WRITE", timeout=60)
        session.wait_for("● available", timeout=120)
        session.keys("/", "sqs", literal=True)
        session.keys("Enter")
        session.wait_for("filter: /sqs")
        session.keys("o")
        screen = session.wait_for("(apply, unfinished)", timeout=30)
        assert "w: watch it" in screen, screen
        session.keys("w")
        screen = session.wait_for("Rollout finished: CONVERGED", timeout=90)
        assert "nothing to roll out" not in screen and "6 ✓ done" in screen, screen
        session.keys("b")
        session.wait_for("Type the endpoint id to confirm", timeout=30)
        session.keys(endpoint_id, literal=True)
        session.keys("Enter")
        screen = session.wait_for("Rollback refused, nothing written", timeout=30)
        assert "Rollout finished: CONVERGED" in screen, screen
        session.wait_for("--break-stale-lease", timeout=5)
        # x: break that stale lease (its id typed out) and roll back again
        screen = session.wait_for("x: break the stale lease", timeout=5)
        lease_id = re.search(r"x: break the stale lease (\w+)", screen)
        assert lease_id is not None, screen
        session.keys("x")
        session.wait_for("Type the lease id to confirm", timeout=10)
        session.keys(lease_id.group(1), literal=True)
        session.keys("Enter")
        screen = session.wait_for("Rollback finished: CONVERGED", timeout=90)
        assert "Rollback refused" not in screen, screen
        session.escape()
        session.escape()
        session.wait_for("Endpoints ·", timeout=20)
        session.keys("q")
        session.wait_gone()
    finally:
        session.kill()
