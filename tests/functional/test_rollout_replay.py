"""Issue 14: the rollout's plan step replays the draft against the last week of real calls, and apply waits for it.

On the shared session lab (its demo trail history) through the real services; the replay is held back by an
event only to make "before it is shown" observable — its result is the real one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.functional.conftest import make_app, notifications, wait_for
from tests.functional.test_editor import open_sqs_editor
from tests.functional.test_rollout_screen import CLEAN_DRAFT, open_rollout_with, shown

from vpce_console.tui.app import VpceApp
from vpce_console.tui.screens.rollout import RolloutScreen

pytestmark = pytest.mark.lab


def hold_replay(app: VpceApp) -> asyncio.Event:
    """Make the backend's real replay wait for the returned event (set it to let the replay run)."""
    backend = app.backend
    assert backend is not None
    real = backend.replay  # type: ignore[attr-defined]
    gate = asyncio.Event()

    async def held(endpoint_id: str, draft: str, **kwargs: Any) -> Any:
        await gate.wait()
        return await real(endpoint_id, draft, **kwargs)

    backend.replay = held  # type: ignore[attr-defined]
    return gate


async def test_apply_is_refused_until_the_plan_step_has_shown_the_replay_line(
    console_app: Callable[..., VpceApp], lab_ready: Any
) -> None:
    """The plan step runs the replay for this exact draft; n and a are refused (with the reason) until its line
    is on screen; then the flow goes on to the typed confirmation."""
    app = console_app(read_only=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, what="backend")
        gate = hold_replay(app)
        rollout = await open_rollout_with(app, pilot, lab_ready, CLEAN_DRAFT)
        await pilot.press("n")
        assert rollout.step == "impact"
        assert rollout.replay_state == "running"
        assert "n waits for the replay line" in shown(rollout, "#rollout-body")
        await pilot.press("n")
        assert rollout.step == "impact", "n is refused while the replay line is not shown"
        assert any("replay of the last 7 days is still running" in n for n in notifications(app)), notifications(app)
        rollout.step = "apply"  # even were the diff step skipped, the confirmation is not offered
        await pilot.pause()
        assert "replay" in rollout.refusal("apply")
        await pilot.press("a")
        assert app.screen is rollout, "no typed confirmation before the replay line was seen"
        rollout.step = "impact"
        gate.set()
        await wait_for(pilot, lambda: rollout.replay_state != "running", timeout=240, what="replay")
        await pilot.pause()
        body = shown(rollout, "#rollout-body")
        assert "Observed: this draft would have denied" in body, body
        assert rollout.replay_seen and rollout.replay_doc is not None
        await pilot.press("n", "n")
        assert rollout.step == "apply"
        assert rollout.refusal("apply") == ""


async def test_the_plan_step_reuses_the_editors_replay(console_app: Callable[..., VpceApp], lab_ready: Any) -> None:
    """A replay of exactly this draft (the editor's Observed tab ran it) is shown at once: no second run."""
    app = console_app(read_only=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None, what="backend")
        backend: Any = app.backend
        endpoint = lab_ready["hub"]["endpoints"]["sqs"]
        doc = await backend.replay(endpoint, CLEAN_DRAFT)
        gate = hold_replay(app)  # a second run would hang: the cached one must be used
        rollout = await open_rollout_with(app, pilot, lab_ready, CLEAN_DRAFT)
        await pilot.press("n")
        await pilot.pause()
        assert rollout.replay_state == "ready" and rollout.replay_doc is doc
        assert rollout.replay_seen
        await pilot.press("n")
        assert rollout.step == "diff"
        assert not gate.is_set()


@pytest.mark.parametrize(
    ("trail", "said"),
    [
        ("trail: {bucket: null}", "not replayed: no trail configured"),
        ("trail: {bucket: no-such-trail-bucket-14}", "not replayed: "),
    ],
    ids=["no-trail", "replay-fails"],
)
async def test_without_a_replay_the_plan_step_says_so_and_is_no_dead_end(
    console_files: tuple[Path, Path], lab_snapshot: Any, lab_ready: Any, tmp_path: Path, trail: str, said: str
) -> None:
    """No trail, or a trail the replay cannot read: the plan step says plainly there is no replay, and the flow
    goes on to the confirmation (that statement counts as seen)."""
    ready_file, base = console_files
    config = tmp_path / "config.yaml"
    config.write_text(base.read_text() + trail + "\n", encoding="utf-8")
    app = make_app(ready_file, config, read_only=False, first_snapshot=lab_snapshot)
    async with app.run_test(size=(80, 24)) as pilot:
        rollout = await open_rollout_with(app, pilot, lab_ready, CLEAN_DRAFT)
        await pilot.press("n")
        await wait_for(pilot, lambda: rollout.replay_state != "running", timeout=120, what="replay")
        await pilot.pause()
        assert rollout.replay_state == "unavailable"
        body = shown(rollout, "#rollout-body")
        assert "Observed: " + said in body, body
        await pilot.press("n", "n")
        assert rollout.step == "apply" and rollout.refusal("apply") == ""
        assert isinstance(app.screen, RolloutScreen)


async def test_the_heaviest_observed_callers_are_offered_as_personas(
    console_app: Callable[..., VpceApp], lab_ready: Any
) -> None:
    """Issue 14 point 3: after the Observed tab's replay, its heaviest callers are listed as observed personas
    (with call counts; redacted cross-account callers as account-level personas; the probe that can act as them)
    and join the impact matrix as `◆ observed` rows evaluated three-valued."""
    from textual.widgets import DataTable, Static

    app = console_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        editor = await open_sqs_editor(app, pilot, lab_ready)
        await pilot.press("f8")
        await wait_for(pilot, lambda: bool(editor.observed_callers), timeout=240, what="the observed callers")
        text = str(editor.query_one("#observed-view", Static).render())
        assert "Observed personas (heaviest" in text, text
        assert "(account-level: AWS redacted the ARN)" in text
        # which callers are heaviest depends on the traffic earlier tests sent through the shared lab: check each
        # one listed is shown as what it is (a same-account caller keeps its ARN, a redacted one is its account)
        listed = editor.observed_callers[:8]
        for caller in listed:
            if caller["redacted"]:
                assert f"account {caller['account']} (account-level" in text, (caller, text)
            else:
                assert str(caller["principal"]) in text, ("a caller AWS did not redact keeps its ARN", caller, text)
        assert any(not c["redacted"] for c in editor.observed_callers), "the hub's own callers keep their ARN"
        assert "· probe: " in text, "a lab persona with keys can act as an observed caller of its account and VPC"
        await pilot.press("f4")
        table = editor.query_one("#impact-table", DataTable)
        await wait_for(
            pilot,
            lambda: any(str(table.get_row_at(i)[0]).startswith("◆ observed") for i in range(table.row_count)),
            what="observed rows in the matrix",
        )
        labels = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        observed = [label for label in labels if label.startswith("◆ observed")]
        assert len(observed) == min(5, len(editor.observed_callers)), labels
        assert any("(account-level)" in label for label in observed)
