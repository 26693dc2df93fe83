"""Issue 9.7 on screen: the Denials pane ties each denial to the policy version in force, following a write made
while the console runs (the same PolicyVersions service as `vpce tail --follow`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.functional.conftest import make_app, past_the_plan, wait_for, write_ready
from tests.functional.test_rollout import deny_probe_policy
from textual.widgets import TextArea

from vpce_console.services.journal import sha256_text
from vpce_console.tui.screens.editor import PolicyEditorScreen
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.screens.rollout import RolloutScreen
from vpce_console.tui.widgets.panes import DenialsPane, EndpointsPane

pytestmark = [pytest.mark.lab, pytest.mark.slow]


async def test_denials_after_an_apply_carry_the_new_version(lab_factory: Callable[..., Any], tmp_path: Path) -> None:
    """Apply in the console; the probes' denied calls arrive in the Denials pane labelled with the new version."""
    handle = lab_factory(scale="demo", seed=17, propagation="1:2")
    ready = dict(handle.ready)
    config = tmp_path / "config.yaml"
    config.write_text(
        "watch: {poll_seconds: 0.5, timeout_seconds: 60, required_streak: 2}\n"
        "probes:\n"
        f"  - name: probe\n    role_arn: arn:aws:iam::{ready['hub']['account_id']}:role/vpce-console-probe\n"
        "    session_tags: {team: probe}\n",
        encoding="utf-8",
    )
    endpoint_id = ready["hub"]["endpoints"]["sqs"]
    draft = deny_probe_policy("sqs:ListQueues")
    app = make_app(write_ready(ready, tmp_path), config, read_only=False, tail=True)
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.query_one(EndpointsPane).loaded, what="endpoints")
        await pilot.press("slash", *"sqs", "enter", "e")
        editor = app.screen
        assert isinstance(editor, PolicyEditorScreen)
        area = editor.query_one("#policy-text", TextArea)
        area.replace(draft, area.document.start, area.document.end)
        await pilot.press("ctrl+o")
        rollout = app.screen
        assert isinstance(rollout, RolloutScreen)
        await past_the_plan(pilot, rollout)
        await pilot.press("n", "a")
        await pilot.press(*endpoint_id, "enter")
        await wait_for(pilot, lambda: rollout.step == "done", timeout=90, what="watch to finish")
        new = sha256_text(draft)[:12]
        denials = main.query_one(DenialsPane)
        await wait_for(
            pilot,
            lambda: any(r.policy_version == new for r in denials.rows),
            timeout=45,
            what="a denial labelled with the new version",
        )
        assert not [r for r in denials.rows if r.endpoint_id == endpoint_id and not r.policy_version]
