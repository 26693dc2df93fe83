"""The rollout screen's pure parts (issue 12 point 5): its refusal rules, the live denials' grouping and the step
strip, checked directly on plain values — no Textual, no lab."""

from __future__ import annotations

from dataclasses import dataclass

from vpce_console.services.plan import RolloutPlan
from vpce_console.tui.models import ChangeRow, DenialRow
from vpce_console.tui.screens import rollout_denials as denials
from vpce_console.tui.screens import rollout_rules as rules
from vpce_console.tui.screens.rollout_replay import REPLAY_PENDING
from vpce_console.tui.screens.rollout_text import steps_line


@dataclass
class State:
    """A rollout screen's state as the rules read it (`rollout_rules.RolloutState`)."""

    step: str = "lint"
    mode: str = "apply"
    unchanged: bool = False
    errors: int = 0
    running: bool = False
    plan: RolloutPlan | None = None
    replay_seen: bool = False
    applied: bool = False
    rolled_back: bool = False
    journal_id: str = ""
    chosen: ChangeRow | None = None
    last_change: ChangeRow | None = None
    stale_lease: str = ""


def change(journal_id: str, kind: str = "apply", outcome: str = "converged") -> ChangeRow:
    return ChangeRow(journal_id, kind, "vpce-1", 0.0, outcome, "aaa", "bbb", "c" * 64, True)


def plan(refused: str = "") -> RolloutPlan:
    return RolloutPlan("apply", "vpce-1", "sqs", "me", "aaa", "bbb", (), "", refused=refused)


def test_next_step_refuses_with_the_reason() -> None:
    assert "nothing to roll out" in rules.refusal(State(unchanged=True), "next_step")
    assert rules.refusal(State(errors=2), "next_step").startswith("2 lint error(s) block")
    assert rules.refusal(State(), "next_step") == ""
    assert "plan refuses" in rules.refusal(State(step="impact", plan=plan("lease held")), "next_step")
    assert rules.refusal(State(step="impact"), "next_step") == REPLAY_PENDING
    assert rules.refusal(State(step="impact", replay_seen=True), "next_step") == ""
    assert rules.refusal(State(step="impact", replay_seen=True, plan=plan()), "next_step") == ""
    assert "past the plan" in rules.refusal(State(step="watch"), "next_step")


def test_apply_needs_the_confirm_step_and_the_replay_line_seen() -> None:
    assert rules.refusal(State(step="diff", replay_seen=True), "apply") == "review the diff step first: n moves on"
    assert "replay" in rules.refusal(State(step="apply"), "apply")
    assert rules.refusal(State(step="apply", replay_seen=True), "apply") == ""
    assert "already applied" in rules.refusal(State(step="apply", replay_seen=True, applied=True), "apply")


def test_rollback_target_prefers_the_chosen_change_and_never_undoes_a_rollback_by_default() -> None:
    assert rules.rollback_target(State(chosen=change("j-chosen"), last_change=change("j-last"))) == "j-chosen"
    assert rules.rollback_target(State(journal_id="j-mine", applied=True)) == "j-mine"
    assert rules.rollback_target(State(last_change=change("j-last"))) == "j-last"
    undo = State(last_change=change("j-rb", kind="rollback"))
    assert rules.rollback_target(undo) == ""
    assert "is a rollback" in rules.refusal(undo, "rollback")
    assert "nothing to roll back" in rules.refusal(State(), "rollback")
    assert "still being watched" in rules.refusal(State(step="watch", running=True), "rollback")


def test_watch_change_only_for_an_unfinished_change() -> None:
    assert "nothing to resume" in rules.refusal(State(last_change=change("j")), "watch_change")
    assert rules.refusal(State(last_change=change("j", outcome="unfinished")), "watch_change") == ""
    busy = State(last_change=change("j", outcome="unfinished"), running=True)
    assert rules.refusal(busy, "watch_change") == "a watch is already running"


def row(account: str, action: str, at: float = 100.0, endpoint: str = "vpce-1") -> DenialRow:
    principal = f"arn:aws:iam::{account}:role/app"
    return DenialRow(at, endpoint, "sqs", account, principal, action, "vpce-explicit-deny")


def test_live_denials_are_explained_by_replay_then_probes_then_the_replaced_document() -> None:
    rows = [row("111111111111", "sqs:SendMessage"), row("222222222222", "sqs:ListQueues")]
    rows += [row("333333333333", "sqs:GetQueueUrl"), row("444444444444", "sqs:DeleteQueue")]
    replay = {"predicted_denials": [{"account": "111111111111", "principal": None, "action": "sqs:SendMessage"}]}
    probes = [{"account": None, "principal": None, "action": "sqs:ListQueues"}]
    old = [False, False, True, False]
    by_replay, by_probe, by_old, surprises = denials.group_denials(rows, replay, probes, old)
    assert [r.account_id for r in by_replay] == ["111111111111"]
    assert [r.account_id for r in by_probe] == ["222222222222"]
    assert [r.account_id for r in by_old] == ["333333333333"]
    assert [r.account_id for r in surprises] == ["444444444444"]
    text = denials.live_text(rows, (by_replay, by_probe, by_old, surprises), read_only=False, variables={})
    assert "1 unpredicted" in text.plain and "sqs:DeleteQueue" in text.plain and "(b)" in text.plain
    assert "nothing to compare" in denials.live_text(rows, None, read_only=True, variables={}).plain


def test_only_this_endpoints_denials_since_the_write_count() -> None:
    rows = [row("1", "a", at=98.0), row("1", "b", at=97.0), row("1", "c", at=101.0, endpoint="vpce-2")]
    kept = denials.denials_since(rows, "vpce-1", written_at=100.0)
    assert [r.action for r in kept] == ["a"]  # 2 s of slack for whole-second event times


def test_the_step_strip_fits_80_columns_and_marks_where_the_flow_stands() -> None:
    line = steps_line("diff", "apply").plain
    assert line == "1 ✓ lint › 2 ✓ plan › 3 ▶ diff › 4 · confirm › 5 · watch › 6 · done"
    assert len(line) <= 80
    assert steps_line("done", "rollback").plain == "rollback: 1 ✓ rolled back › 2 ✓ watch › 3 ✓ done"


def test_break_lease_needs_a_stale_lease_and_no_running_write() -> None:
    """`x` only after a refusal by a stale lease on this screen, and never while a write or watch runs."""
    assert "nothing to break" in rules.refusal(State(step="done"), "break_lease")
    assert rules.refusal(State(step="done", stale_lease="99db047da8c4"), "break_lease") == ""
    assert "running" in rules.refusal(State(step="done", stale_lease="99db047da8c4", running=True), "break_lease")
