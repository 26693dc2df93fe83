"""The guided rollout on screen, end to end on a lab of its own: write, watch converge, denials arrive, roll back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.functional.conftest import make_app, notifications, past_the_plan, probe_config, wait_for, write_ready
from tests.functional.test_editor import deployed_policy
from textual.widgets import TextArea

from vpce_console.tui.screens.confirm import ConfirmWrite
from vpce_console.tui.screens.editor import PolicyEditorScreen
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.screens.rollout import RolloutScreen
from vpce_console.tui.widgets.history import HistoryPane
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
    config = probe_config(tmp_path, ready["hub"]["account_id"])
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
        await wait_for(pilot, lambda: rollout.replay_seen, timeout=240, what="the plan step's replay line")
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


async def back_to_main(app: Any, pilot: Any) -> None:
    """Esc until the main screen shows (a running watch and the editor's text each take one Esc more)."""
    for _ in range(8):
        if isinstance(app.screen, MainScreen):
            return
        await pilot.press("escape")
        await pilot.pause(0.1)
    assert isinstance(app.screen, MainScreen), app.screen


async def test_after_apply_every_pane_refreshes_and_the_rollback_is_watched_and_found_again(
    rollout_lab: tuple[dict[str, Any], Path, Path],
) -> None:
    """Issue 9.8, 9.4, 9.5: the editor and the endpoints pane follow the write; `b` gets its own watch to
    CONVERGED; after leaving the screen, `o` finds the change in the journal and `:history` rolls it back."""
    ready, ready_file, config = rollout_lab
    endpoint_id = ready["hub"]["endpoints"]["sqs"]
    original = deployed_policy(ready, endpoint_id)
    draft = deny_probe_policy("sqs:ListQueues")
    app = make_app(ready_file, config, read_only=False)
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.query_one(EndpointsPane).loaded, what="endpoints")
        await pilot.press("slash", *"sqs", "enter", "e")
        editor = app.screen
        assert isinstance(editor, PolicyEditorScreen)
        area = editor.query_one("#policy-text", TextArea)
        area.replace(draft, area.document.start, area.document.end)
        await wait_for(pilot, lambda: editor.draft_saved == "draft saved", what="draft saved")
        await pilot.press("ctrl+o")
        rollout = app.screen
        assert isinstance(rollout, RolloutScreen)
        await past_the_plan(pilot, rollout)
        await pilot.press("n", "a")
        await pilot.press(*endpoint_id, "enter")
        await wait_for(pilot, lambda: rollout.step == "done", timeout=90, what="apply to converge")
        assert rollout.watch_view is not None and rollout.watch_view.status == "converged"
        applied_after = rollout.converged_after
        assert applied_after is not None

        # 9.8: the editor below and the endpoints pane already show the written policy, without `r`.
        assert editor.deployed == draft
        await wait_for(pilot, lambda: editor.draft_saved == "" and not editor.workers, what="editor reload")
        assert "no changes" in str(editor.query_one("#editor-status").render())
        assert editor.query_one("#policy-text", TextArea).text.strip() != ""
        row = next(e for e in main.query_one(EndpointsPane).snapshot.endpoints if e.endpoint_id == endpoint_id)
        assert row.policy_custom and row.policy_text == draft

        # 9.4: the rollback is a rollout of its own: new watch, new timer, CONVERGED.
        await pilot.press("b")
        assert isinstance(app.screen, ConfirmWrite)
        await pilot.press(*endpoint_id, "enter")
        await wait_for(pilot, lambda: rollout.mode == "rollback" and rollout.rolled_back, timeout=30, what="rollback")
        await wait_for(pilot, lambda: rollout.step == "done", timeout=90, what="rollback to converge")
        assert rollout.watch_view is not None and rollout.watch_view.status == "converged"
        assert "rollback ✓ CONVERGED" in str(rollout.query_one("#rollout-status").render())
        assert "Applied" not in str(rollout.query_one("#rollout-body").render())
        assert deployed_policy(ready, endpoint_id) == original
        await pilot.press("b")
        assert app.screen is rollout and any("already rolled back" in n for n in notifications(app))

        # 9.5: apply again, leave the screen, find the change from the endpoint and roll it back from :history.
        await back_to_main(app, pilot)
        current = next(e for e in main.snapshot.endpoints if e.endpoint_id == endpoint_id)
        assert current.policy_text == original
        app.open_rollout(current, main.snapshot, draft=draft)
        again = app.screen
        assert isinstance(again, RolloutScreen)
        await past_the_plan(pilot, again)
        await pilot.press("n", "a")
        await pilot.press(*endpoint_id, "enter")
        await wait_for(pilot, lambda: again.applied, timeout=30, what="second apply written")
        await back_to_main(app, pilot)
        await pilot.press("o")
        found = app.screen
        assert isinstance(found, RolloutScreen)
        await wait_for(pilot, lambda: found.last_change is not None, what="last change from the journal")
        assert found.last_change is not None and found.last_change.journal_id == again.journal_id
        assert "Last change in force" in str(found.query_one("#rollout-body").render())
        await pilot.press("escape")
        await pilot.press("colon", *"history", "enter")
        history = main.query_one(HistoryPane)
        await wait_for(pilot, lambda: history.loaded and bool(history.changes), what="history pane")
        assert history.selected() is not None and history.selected().journal_id == again.journal_id  # type: ignore[union-attr]
        await pilot.press("b")
        from_history = app.screen
        assert isinstance(from_history, ConfirmWrite)
        await pilot.press(*endpoint_id, "enter")
        screen = app.screen
        assert isinstance(screen, RolloutScreen) and screen.mode == "rollback"
        await wait_for(pilot, lambda: screen.step == "done", timeout=90, what="rollback from history")
        assert screen.watch_view is not None and screen.watch_view.status == "converged"
    assert deployed_policy(ready, endpoint_id) == original


async def test_b_right_after_converged_cuts_the_settle_short_instead_of_refusing(
    lab_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """`b` while the converged watch still settles (its journal entry and lease still held): the settle ends and
    the rollback runs — before, the rollback found this very process holding the endpoint and was REFUSED."""
    handle = lab_factory(scale="demo", seed=17, propagation="1:2")
    ready = dict(handle.ready)
    # poll 3 s: the watch settles 6 s after CONVERGED, long enough to press b inside it
    config = probe_config(tmp_path, ready["hub"]["account_id"], poll=3, timeout=90)
    endpoint_id = ready["hub"]["endpoints"]["sqs"]
    original = deployed_policy(ready, endpoint_id)
    app = make_app(write_ready(ready, tmp_path), config, read_only=False)
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.query_one(EndpointsPane).loaded, what="endpoints")
        current = next(e for e in main.snapshot.endpoints if e.endpoint_id == endpoint_id)
        app.open_rollout(current, main.snapshot, draft=deny_probe_policy("sqs:ListQueues"))
        rollout = app.screen
        assert isinstance(rollout, RolloutScreen)
        await past_the_plan(pilot, rollout)
        await pilot.press("n", "a")
        await pilot.press(*endpoint_id, "enter")
        await wait_for(pilot, lambda: rollout.step == "done", timeout=90, what="apply to converge")
        assert rollout.running, "the watch should still be settling when b is pressed"
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmWrite), timeout=30, what="the confirmation")
        await pilot.press(*endpoint_id, "enter")
        await wait_for(
            pilot, lambda: rollout.mode == "rollback" and rollout.step == "done", timeout=90, what="rollback"
        )
        assert rollout.watch_view is not None and rollout.watch_view.status == "converged", rollout.watch_view
    assert deployed_policy(ready, endpoint_id) == original
