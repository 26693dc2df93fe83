"""Resuming the watch of a change whose process died after the write (`o`, then `w`), and a rollback its stale
lease refuses until `x` breaks it, on a lab of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.functional.conftest import make_app, notifications, probe_config, wait_for, write_ready
from tests.functional.test_editor import deployed_policy
from tests.functional.test_rollout import deny_probe_policy

from vpce_console.tui.screens.confirm import ConfirmWrite
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.screens.rollout import RolloutScreen
from vpce_console.tui.widgets.panes import EndpointsPane

pytestmark = [pytest.mark.lab, pytest.mark.slow]


async def test_w_resumes_the_watch_of_a_change_whose_process_died(
    lab_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """A `vpce rollout` killed right after its verified write leaves an unfinished change; on the endpoint `o`
    offers `w`, and the screen then says it watches (step 5, the applied wording, a timer counted from the write)
    until CONVERGED — never the lint step's "nothing to roll out" above a running watch."""
    handle = lab_factory(scale="demo", seed=19, propagation="1:2")
    ready = dict(handle.ready)
    config = probe_config(tmp_path, ready["hub"]["account_id"])
    ready_file = write_ready(ready, tmp_path)
    endpoint_id = ready["hub"]["endpoints"]["sqs"]
    original = deployed_policy(ready, endpoint_id)
    policy = tmp_path / "draft.json"
    policy.write_text(deny_probe_policy("sqs:ListQueues"), encoding="utf-8")
    crashed = subprocess.run(
        [
            *(sys.executable, "-m", "vpce_console", "rollout", "--lab-ready", str(ready_file), "--config", str(config)),
            *("--endpoint", endpoint_id, "--policy", str(policy), "--confirm", endpoint_id, "--allow-write"),
            *("--no-trail", "--format", "json"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "VPCE_CRASH_AFTER": "verify"},
        check=False,
    )
    assert crashed.returncode == -9, crashed.stderr
    app = make_app(ready_file, config, read_only=False)
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.query_one(EndpointsPane).loaded, what="endpoints")
        await pilot.press("slash", *"sqs", "enter", "o")
        rollout = app.screen
        assert isinstance(rollout, RolloutScreen)
        await wait_for(pilot, lambda: rollout.last_change is not None, what="the unfinished change from the journal")
        assert "w: watch it" in str(rollout.query_one("#rollout-body").render())
        await pilot.press("w")
        assert rollout.step in ("watch", "done")  # the lab's 1-2 s propagation may already be over
        body = str(rollout.query_one("#rollout-body").render())
        assert "nothing to roll out" not in body and ("Applied." in body or "CONVERGED" in body), body
        await wait_for(pilot, lambda: rollout.step == "done", timeout=90, what="the resumed watch to converge")
        assert rollout.watch_view is not None and rollout.watch_view.status == "converged"
        assert rollout.watch_started is not None and rollout.written_at is not None
        assert "Rollout finished: CONVERGED" in str(rollout.query_one("#rollout-body").render())

        # the killed process still holds the endpoint's lease (stale: its pid is gone): `b` is refused, and the
        # screen keeps the converged watch with the reason, instead of a blank REFUSED
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmWrite), timeout=30, what="the confirmation")
        await pilot.press(*endpoint_id, "enter")
        await wait_for(pilot, lambda: bool(rollout.rollback_refused), timeout=30, what="the refused rollback")
        body = str(rollout.query_one("#rollout-body").render())
        assert rollout.step == "done" and rollout.mode == "apply" and not rollout.rolled_back
        assert rollout.watch_view is not None and rollout.watch_view.status == "converged"
        assert "Rollout finished: CONVERGED" in body and "Rollback refused, nothing written" in body, body
        assert "--break-stale-lease" in body
        assert any("Not written" in n for n in notifications(app))

        # `x` breaks that stale lease — its id typed out, a wrong one refused — and rolls back again
        lease_id = rollout.stale_lease
        assert lease_id and f"x: break the stale lease {lease_id}" in body, body
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmWrite) and app.screen.noun == "lease id"
        await pilot.press(*endpoint_id, "enter")
        assert isinstance(app.screen, ConfirmWrite), "the endpoint id is not the lease id"
        await pilot.press(*["backspace"] * len(endpoint_id), *lease_id, "enter")
        await wait_for(pilot, lambda: rollout.mode == "rollback" and rollout.rolled_back, timeout=30, what="rollback")
        await wait_for(pilot, lambda: rollout.step == "done", timeout=90, what="the rollback to converge")
        assert rollout.watch_view is not None and rollout.watch_view.status == "converged"
        assert not rollout.stale_lease and not rollout.rollback_refused
    assert deployed_policy(ready, endpoint_id) == original
