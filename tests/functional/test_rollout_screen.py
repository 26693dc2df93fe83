"""The rollout screen as a person sees it (issue 9): every step drawn, every refusal said, the timer frozen.

These run on the shared session lab and write nothing: the watch is fed the views the backend would post.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.functional.conftest import notifications, wait_for
from tests.functional.test_editor import SOURCE_VPC_POLICY, open_sqs_editor
from textual.widgets import TextArea

from vpce_console.tui.app import VpceApp
from vpce_console.tui.messages import WatchTick
from vpce_console.tui.models import ProbeView, WatchView
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.screens.rollout import RolloutScreen
from vpce_console.tui.widgets.panes import EndpointsPane

pytestmark = pytest.mark.lab

CLEAN_DRAFT = SOURCE_VPC_POLICY.replace("aws:SourceVpc", "aws:PrincipalTag/vpc")
"""A draft the linter passes without errors, different from the deployed default."""


def shown(screen: RolloutScreen, selector: str) -> str:
    """The text a widget of the rollout screen renders now."""
    return str(screen.query_one(selector).render())


async def open_rollout_with(app: VpceApp, pilot: Any, lab_ready: Any, draft: str) -> RolloutScreen:
    """`e` on sqs, paste `draft`, `ctrl+o`."""
    editor = await open_sqs_editor(app, pilot, lab_ready)
    area = editor.query_one("#policy-text", TextArea)
    area.replace(draft, area.document.start, area.document.end)
    await pilot.press("ctrl+o")
    rollout = app.screen
    assert isinstance(rollout, RolloutScreen)
    await pilot.pause()
    return rollout


async def test_the_first_step_is_drawn_with_the_lint_result(
    console_app: Callable[..., VpceApp], lab_ready: Any
) -> None:
    """Issue 9.1: `ctrl+o` shows the step strip and the lint result at once (it showed only the title)."""
    app = console_app(read_only=False)
    async with app.run_test(size=(120, 36)) as pilot:
        rollout = await open_rollout_with(app, pilot, lab_ready, CLEAN_DRAFT)
        steps = shown(rollout, "#rollout-steps")
        assert "lint" in steps and "watch" in steps, steps
        assert "lint clean" in shown(rollout, "#rollout-body")
        assert not rollout.query_one("#rollout-watch").display, "no probe table before anything was written"


async def test_next_with_lint_errors_is_refused_and_says_why(
    console_app: Callable[..., VpceApp], lab_ready: Any
) -> None:
    """Issue 9.1: with lint errors `n` stays on lint and the screen and a notification say why."""
    app = console_app(read_only=False)
    async with app.run_test(size=(120, 36)) as pilot:
        rollout = await open_rollout_with(app, pilot, lab_ready, SOURCE_VPC_POLICY)
        assert rollout.errors > 0
        assert "hub-scoped-key" in shown(rollout, "#rollout-body")
        await pilot.press("n")
        assert rollout.step == "lint"
        assert any("lint error" in note for note in notifications(app)), notifications(app)


async def test_o_without_a_draft_says_so(console_app: Callable[..., VpceApp], lab_ready: Any) -> None:
    """Issue 9.1: `o` on an endpoint with no draft explains there is nothing to roll out, and `n` says why."""
    app = console_app(read_only=False)
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.query_one(EndpointsPane).loaded, what="endpoints")
        await pilot.press("slash", *"sqs", "enter", "o")
        rollout = app.screen
        assert isinstance(rollout, RolloutScreen)
        await pilot.pause()
        assert "lint" in shown(rollout, "#rollout-steps")
        assert "nothing to roll out" in shown(rollout, "#rollout-body")
        await pilot.press("n")
        assert rollout.step == "lint"
        assert any("nothing to roll out" in note for note in notifications(app)), notifications(app)


def view(status: str, elapsed: float, *, done: bool = False) -> WatchView:
    """One watch tick as the backend posts it."""
    probe = ProbeView("probe → sqs:ListQueues", "deny", "deny" if status == "converged" else "allow", 2, 0)
    return WatchView(status, elapsed, (probe,), ("verified",), applied=True, done=done)


async def test_convergence_freezes_the_timer_and_moves_to_the_last_step(
    console_app: Callable[..., VpceApp], lab_ready: Any
) -> None:
    """Issue 9.2: at CONVERGED the time is recorded and frozen, and the strip moves to the final step."""
    clock = {"now": 1000.0}
    app = console_app(read_only=False, monotonic=lambda: clock["now"])
    async with app.run_test(size=(80, 24)) as pilot:
        rollout = await open_rollout_with(app, pilot, lab_ready, CLEAN_DRAFT)
        assert len(shown(rollout, "#rollout-steps").rstrip()) <= 78, "the step strip fits 80 columns"
        rollout.post_message(WatchTick(view("pending", 5.0)))
        await pilot.pause()
        assert rollout.step == "watch"
        rollout.post_message(WatchTick(view("converged", 67.0)))
        await pilot.pause()
        assert rollout.step == "done"
        assert "CONVERGED after 01:07" in shown(rollout, "#rollout-status")
        clock["now"] += 30
        rollout.post_message(WatchTick(view("converged", 76.0)))
        rollout.tick_timer()
        await pilot.pause()
        assert "CONVERGED after 01:07" in shown(rollout, "#rollout-status"), "the time does not keep counting"
        assert "01:16" not in shown(rollout, "#rollout-timer")
        rollout.post_message(WatchTick(view("converged", 86.0, done=True)))
        await pilot.pause()
        assert "CONVERGED after 01:07" in shown(rollout, "#rollout-status")
        assert rollout.step == "done"


async def test_a_rollback_in_force_is_never_rolled_back_by_default(
    console_app: Callable[..., VpceApp], lab_ready: Any
) -> None:
    """Issue 9.5/9.6: when the endpoint's last change is a rollback, `b` refuses and says how to undo it on purpose."""
    import hashlib

    from vpce_console.tui.messages import HistoryLoaded
    from vpce_console.tui.models import ChangeRow

    app = console_app(read_only=False)
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.query_one(EndpointsPane).loaded, what="endpoints")
        await pilot.press("slash", *"sqs", "enter", "o")
        rollout = app.screen
        assert isinstance(rollout, RolloutScreen)
        sha = hashlib.sha256(rollout.deployed.encode()).hexdigest()
        undone = ChangeRow("j-apply", "apply", rollout.endpoint.endpoint_id, 1.0, "rolled_back", "a" * 12, "b" * 12,
                           "b" * 64, True, before_text="{}")  # fmt: skip
        rollback = ChangeRow("j-rollback", "rollback", rollout.endpoint.endpoint_id, 2.0, "converged", "b" * 12,
                             sha[:12], sha, True, rollback_of="j-apply", before_text="{}")  # fmt: skip
        rollout.post_message(HistoryLoaded((undone, rollback), rollout.endpoint.endpoint_id))
        await wait_for(pilot, lambda: rollout.last_change is not None, what="history")
        assert "choose it in :history" in shown(rollout, "#rollout-body")
        await pilot.press("b")
        assert app.screen is rollout, "no confirmation opens"
        assert any("is a rollback" in note for note in notifications(app)), notifications(app)
