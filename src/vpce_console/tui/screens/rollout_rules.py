"""When the rollout screen's actions may run, and why not: every refusal is a sentence on screen, never a beep.

Pure functions of the flow's state (`RolloutState`, which the screen satisfies), so the rules read in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from vpce_console.tui.models import ChangeRow
from vpce_console.tui.screens.rollout_replay import REPLAY_PENDING
from vpce_console.tui.screens.rollout_text import STEP_LABELS, refused_by

if TYPE_CHECKING:
    from vpce_console.services.plan import RolloutPlan


class RolloutState(Protocol):
    """What the gating reads of the rollout screen."""

    @property
    def step(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def unchanged(self) -> bool: ...
    @property
    def errors(self) -> int: ...
    @property
    def running(self) -> bool: ...
    @property
    def plan(self) -> RolloutPlan | None: ...
    @property
    def replay_seen(self) -> bool: ...
    @property
    def applied(self) -> bool: ...
    @property
    def rolled_back(self) -> bool: ...
    @property
    def journal_id(self) -> str: ...
    @property
    def chosen(self) -> ChangeRow | None: ...
    @property
    def last_change(self) -> ChangeRow | None: ...
    @property
    def stale_lease(self) -> str: ...


def refusal(state: RolloutState, action: str) -> str:
    """Why `action` cannot run now ('' when it can)."""
    if action == "next_step":
        if state.step not in ("lint", "impact", "diff"):
            return "nothing to review: the change is past the plan"
        if state.step == "lint":
            if state.unchanged:
                return "the draft equals the deployed policy: nothing to roll out (e edits it)"
            if state.errors:
                return f"{state.errors} lint error(s) block the rollout: fix them in the editor (esc)"
        if state.step == "impact" and refused_by(state.plan):
            return f"the plan refuses this change: {refused_by(state.plan)}"
        if state.step == "impact" and not state.replay_seen:
            return REPLAY_PENDING
        return ""
    if action == "apply":
        if state.applied:
            return "already applied: b rolls it back"
        if state.step != "apply":
            return f"review the {STEP_LABELS[state.step]} step first: n moves on"
        if not state.replay_seen:
            return "the plan step has not shown the replay of the last 7 days yet: " + REPLAY_PENDING
        return ""
    if action == "rollback":
        if state.running and state.step != "done":
            return "a write is still being watched: wait for it to finish, then b"
        if state.rolled_back:
            return (
                "already rolled back: the document in force before the change is live; rolling back the "
                "rollback is an explicit choice (:history, select the rollback, b)"
            )
        if not rollback_target(state):
            change = state.last_change
            if change is not None and change.kind == "rollback" and not state.applied:
                return (
                    f"the last change ({change.journal_id}) is a rollback: undoing it re-applies what it removed, "
                    "so it is only done by choosing it in :history (select it, b)"
                )
            return "the journal has no change to this endpoint that is in force: nothing to roll back"
        return ""
    if action == "break_lease":
        if not state.stale_lease:
            return "no stale lease refused a write on this screen: nothing to break"
        if state.running:
            return "a write or watch is running"
        return ""
    if action == "watch_change":
        change = state.last_change
        if change is None or change.outcome != "unfinished":
            return "no unfinished change is live on this endpoint: nothing to resume watching"
        if state.running:
            return "a watch is already running"
        return ""
    return ""


def rollback_target(state: RolloutState) -> str:
    """The journal id `b` rolls back: a chosen change, this screen's change, else the last change in force."""
    if state.chosen is not None and not state.rolled_back:
        return state.chosen.journal_id
    if state.journal_id and state.mode == "apply" and state.applied:
        return state.journal_id
    if state.last_change is not None and not state.applied and state.last_change.kind != "rollback":
        return state.last_change.journal_id  # a rollback is never rolled back by default (only from :history)
    return ""
