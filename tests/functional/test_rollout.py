"""The guided rollout on screen, end to end on a lab of its own: write, watch converge, denials arrive, roll back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.functional.conftest import make_app, notifications, wait_for, write_ready
from tests.functional.test_editor import deployed_policy
from textual.widgets import TextArea

from vpce_console.tui.screens.confirm import ConfirmWrite
from vpce_console.tui.screens.editor import PolicyEditorScreen
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.screens.rollout import RolloutScreen
from vpce_console.tui.widgets.panes import DenialsPane, EndpointsPane

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def deny_probe_policy(action: str) -> str:
    """Allow everything except `action` for sessions tagged team=probe (the configured probe role's tag)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                {
                    "Sid": "NoProbe",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": action,
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalTag/team": "probe"}},
                },
            ],
        },
        indent=2,
    )


@pytest.fixture
def rollout_lab(lab_factory: Callable[..., Any], tmp_path: Path) -> tuple[dict[str, Any], Path, Path]:
    """A lab of this test's own (the write must not disturb the shared one): 1-2 s propagation windows."""
    handle = lab_factory(scale="demo", seed=13, propagation="1:2")
    ready = dict(handle.ready)
    config = tmp_path / "config.yaml"
    config.write_text(
        "aws: {total_max_attempts: 3}\n"
        "watch: {poll_seconds: 0.5, timeout_seconds: 60, required_streak: 2}\n"
        "probes:\n"
        f"  - name: probe\n    role_arn: arn:aws:iam::{ready['hub']['account_id']}:role/vpce-console-probe\n"
        "    session_tags: {team: probe}\n",
        encoding="utf-8",
    )
    return ready, write_ready(ready, tmp_path), config


async def test_rollout_flow_converges_denials_arrive_and_rollback_restores(
    rollout_lab: tuple[dict[str, Any], Path, Path],
) -> None:
    """lint clean → impact → diff → typed confirmation → apply → watch converges → denials → roll back."""
    ready, ready_file, config = rollout_lab
    endpoint_id = ready["hub"]["endpoints"]["sqs"]
    original = deployed_policy(ready, endpoint_id)
    draft = deny_probe_policy("sqs:ListQueues")
    app = make_app(ready_file, config, read_only=False, tail=True)
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.query_one(EndpointsPane).loaded, what="endpoints")
        assert str(main.query_one("#hdr-mode").render()).strip().startswith("⚠ WRITE")
        await pilot.press("slash", *"sqs", "enter", "e")
        editor = app.screen
        assert isinstance(editor, PolicyEditorScreen)
        area = editor.query_one("#policy-text", TextArea)
        area.replace(draft, area.document.start, area.document.end)
        await pilot.press("ctrl+o")
        rollout = app.screen
        assert isinstance(rollout, RolloutScreen)
        assert rollout.step == "lint" and rollout.errors == 0
        await pilot.press("n")
        assert rollout.step == "impact"
        await pilot.press("n")
        assert rollout.step == "diff"
        await pilot.press("n")
        assert rollout.step == "apply" and rollout.check_action("apply", ()) is True

        await pilot.press("a")
        assert isinstance(app.screen, ConfirmWrite)
        await pilot.press(*"vpce-wrong", "enter")
        assert isinstance(app.screen, ConfirmWrite), "a wrong id does not confirm"
        app.screen.query_one("#confirm-input").value = ""  # type: ignore[attr-defined]
        await pilot.press(*endpoint_id, "enter")
        assert app.screen is rollout
        await pilot.press("escape")
        assert app.screen is rollout, "a single Esc does not abandon a running watch"

        await wait_for(pilot, lambda: rollout.step == "done", timeout=90, what="watch to finish")
        view = rollout.watch_view
        assert view is not None and view.status == "converged", (view, notifications(app))
        assert view.probes and all(p.streak >= 2 for p in view.probes)
        assert deployed_policy(ready, endpoint_id) == draft

        # The probes' own denied calls reach CloudTrail; the denials pane (tail on) receives them.
        denials = main.query_one(DenialsPane)
        await wait_for(pilot, lambda: len(denials.rows) > 0, timeout=45, what="denial rows")
        row = denials.rows[0]
        assert row.endpoint_id in (endpoint_id, "-") and row.service == "sqs"
        assert row.reason.startswith("vpce-")

        await pilot.press("b")
        assert isinstance(app.screen, ConfirmWrite)
        await pilot.press(*endpoint_id, "enter")
        await wait_for(pilot, lambda: rollout.rolled_back, timeout=30, what="rollback")
    assert deployed_policy(ready, endpoint_id) == original
