"""The rollout screen's wording: the step strip, each step's body parts, the plan and the rollback confirmation.

Pure functions of what the screen knows (no widget, no worker): the screen decides which step is shown, these
decide how it reads, in at most 80 columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text

from vpce_console.tui.drafts import pretty
from vpce_console.tui.models import ChangeRow, EndpointRow, Snapshot, WatchView
from vpce_console.tui.render import colour, format_elapsed
from vpce_console.tui.screens.editor_impact import impact_plan

if TYPE_CHECKING:
    from vpce_console.services.plan import RolloutPlan

STEPS = ("lint", "impact", "diff", "apply", "watch", "done")
STEP_LABELS = {
    "lint": "lint",
    "impact": "plan",
    "diff": "diff",
    "apply": "confirm",
    "watch": "watch",
    "done": "done",
}
"""Short labels: the whole strip fits an 80-column terminal."""
ROLLBACK_STEPS = ("apply", "watch", "done")
"""A rollback skips lint, plan and diff (its preview is in the confirmation)."""


def steps_line(step: str, mode: str) -> Text:
    """`1 ✓ lint › 2 ▶ plan › …`: where the flow stands, in at most 80 columns."""
    steps = ROLLBACK_STEPS if mode == "rollback" else STEPS
    current = steps.index(step) if step in steps else 0
    line = Text()
    if mode == "rollback":
        line.append("rollback: ", style="bold")
    for index, name in enumerate(steps):
        done = index < current or (name == "done" and step == "done")
        mark = "✓" if done else ("▶" if index == current else "·")
        label = "rolled back" if (mode == "rollback" and name == "apply") else STEP_LABELS[name]
        line.append(f"{index + 1} {mark} {label}", style="bold" if index == current else "")
        if index < len(steps) - 1:
            line.append(" › ")
    return line


def title_line(endpoint: EndpointRow, mode: str, read_only: bool) -> str:
    """The screen's title: what is rolled out where, and whether writes are possible."""
    badge = "READ-ONLY: writes are disabled (start with --allow-write)" if read_only else "WRITE ENABLED"
    verb = "Rollback" if mode == "rollback" else "Rollout"
    return f"{verb} — {endpoint.service} {endpoint.endpoint_id} · {badge}"


def lint_text(findings: Sequence[Any], errors: int, variables: Mapping[str, str]) -> Text:
    """The lint step: clean or the errors that block the rollout, then every finding."""
    text = Text()
    if errors:
        text.append(f"✗ {errors} lint error(s) block the rollout:\n", style=colour(variables, "finding-error"))
    else:
        text.append("✓ lint clean (no errors)\n", style=colour(variables, "state-available"))
    for finding in findings:
        text.append(f"  {finding.severity} {finding.line}:{finding.column} {finding.code} — {finding.message}\n")
    text.append("\nn: next (plan)" if not errors else "\nFix the errors in the editor (esc).")
    return text


def diff_text(deployed: str, draft: str, variables: Mapping[str, str]) -> Text:
    """The diff step: deployed → draft, additions and removals in the decision colours."""
    from vpce_console.policy.diff import policy_diff

    text = Text()
    for line in policy_diff(pretty(deployed), draft).splitlines():
        style = ""
        if line.startswith("+") and not line.startswith("+++"):
            style = colour(variables, "decision-allow")
        elif line.startswith("-") and not line.startswith("---"):
            style = colour(variables, "decision-deny")
        text.append(line + "\n", style=style)
    text.append("\nn: next (confirm and apply)")
    return text


def apply_text(endpoint_id: str, mode: str, read_only: bool) -> Text:
    """The confirm step: what `a` will write, or that a rollback is being written."""
    text = Text()
    if mode == "rollback":
        text.append("Rolling back: dry run, compare-and-swap, write, verify …\n", style="bold")
        return text
    text.append("Ready to write this policy to ", style="bold")
    text.append(f"{endpoint_id}.\n", style="bold")
    if read_only:
        text.append("READ-ONLY mode: apply is disabled. Restart with --allow-write to write.\n")
    else:
        text.append("a: apply (a dry run first, then compare-and-swap; you will type the endpoint id)\n")
    return text


def watch_text(mode: str) -> Text:
    """The watch step's explanation of why the watch waits (after the live denials)."""
    text = Text()
    what = "Rolled back" if mode == "rollback" else "Applied"
    text.append(f"{what}. AWS returns the new document at once but enforces the old one for a while;\n")
    text.append("each probe below must show the new behaviour several times in a row.\n")
    if mode == "apply":
        text.append("b: roll back once it has converged · esc twice leaves (the change stays live)\n")
    else:
        text.append("esc twice leaves (the rollback stays live)\n")
    return text


def done_heading(view: WatchView | None, mode: str) -> Text:
    """The done step's first line: how the rollout or rollback ended."""
    status = view.status if view else "?"
    what = "Rollback" if mode == "rollback" else "Rollout"
    return Text(f"{what} finished: {status.upper().replace('_', ' ')}\n", style="bold")


def done_details(
    view: WatchView | None,
    *,
    converged_after: float | None,
    journal_id: str,
    rolled_back: bool,
    applied: bool,
    read_only: bool,
) -> Text:
    """The done step after the live denials: why it ended, when it took effect, the journal, what `b` does."""
    text = Text()
    if view is not None and view.reason:
        text.append(f"{view.reason}\n")
    if converged_after is not None:
        text.append(f"In force {format_elapsed(converged_after)} after the write.\n")
    if journal_id:
        text.append(f"Journal: {journal_id}\n")
    if rolled_back:
        text.append("The document in force before the change is back.\n")
    elif applied and not read_only:
        text.append("b: roll back (restores the previous document; asks for the endpoint id)\n")
    return text


def last_change_text(change: ChangeRow | None, *, applied: bool, read_only: bool) -> Text:
    """The endpoint's last change from the journal, and what can be done with it."""
    text = Text()
    if change is None or applied:
        return text
    kind = f"rollback of {change.rollback_of}" if change.kind == "rollback" else change.kind
    text.append(f"\nLast change in force: {change.journal_id} ({kind}, {change.outcome})\n", style="bold")
    text.append(f"  {change.before_version} → {change.after_version}\n")
    if change.kind == "rollback":
        text.append("  undoing a rollback re-applies what it removed: choose it in :history to do that\n")
    elif not read_only:
        text.append("  b: roll it back (restores the document in force before it; you type the endpoint id)\n")
    if change.outcome == "unfinished":
        text.append("  w: watch it (its process stopped before the watch finished)\n")
    return text


def plan_text(plan: RolloutPlan | None, note: str, impact: Text, variables: Mapping[str, str]) -> Text:
    """The plan as a person reads it: what changes, who is affected, which probes will prove it."""
    if plan is None:
        text = Text()
        if note:
            text.append(note + "\n", style="italic")
        text.append_text(impact)
        return text
    return plan_lines_text(plan, variables)


def impact_summary(endpoint: EndpointRow, snapshot: Snapshot, deployed: str, draft: str) -> Text:
    """Changed persona × action decisions, in words (what the plan step shows when there is no plan)."""
    from vpce_console.policy.impact_matrix import impact

    text = Text()
    plan = impact_plan(endpoint, snapshot, deployed, draft)
    if plan is None:
        text.append("No personas known: impact cannot be shown.\n")
        return text
    try:
        result = impact(deployed, draft, *plan)
    except ValueError as exc:
        text.append(f"Impact could not be evaluated: {exc}\n")
        return text
    changed = [cell for cell in result.cells if cell.changed]
    text.append(f"{len(changed)} of {len(result.cells)} persona × action decisions change:\n", style="bold")
    for cell in changed:
        before = "✓ allow" if cell.before.allowed else "✗ deny"
        after = "✓ allow" if cell.after.allowed else "✗ deny"
        text.append(f"  {cell.persona.name:<24} {cell.action:<32} {before} → {after}\n")
    return text


def plan_lines_text(plan: RolloutPlan, variables: Mapping[str, str]) -> Text:
    """`RolloutPlan.lines()` with the section headings in bold and the refusal in the error colour."""
    text = Text()
    for line in plan.lines():
        if line.startswith("Refused"):
            text.append(line + "\n", style=f"bold {colour(variables, 'finding-error')}")
        elif line.startswith("  no probe can observe"):
            text.append(line + "\n", style=colour(variables, "finding-warning"))
        elif not line.startswith(" "):
            text.append(line + "\n", style="bold")
        else:
            text.append(line + "\n")
    return text


def refused_by(plan: RolloutPlan | None) -> str:
    """Why the plan says nothing may be written ('' when it may, or when there is no plan)."""
    return plan.refused if plan is not None else ""


def rollback_preview(deployed: str, restored: str | None) -> str:
    """The diff a rollback writes (deployed → restored); '' when the restored document is not known here."""
    from vpce_console.policy.diff import policy_diff

    if restored is None:
        return ""
    return policy_diff(pretty(deployed), pretty(restored), labels=("deployed", "restored"))


def rollback_confirmation(
    endpoint_id: str, target: str, plan: RolloutPlan | None, preview: str, *, undoes_rollback: bool
) -> tuple[str, str]:
    """What the typed confirmation of a rollback says, and the preview under it (plan lines, then the diff)."""
    if plan is not None:
        lines = [line for line in plan.lines() if not line.startswith("Refused")]
        preview = "\n".join(lines) + ("\n\n" + preview if preview else "")
    what = f"Roll {endpoint_id} back: restore the document in force before change {target}"
    if undoes_rollback:
        what = f"UNDO ROLLBACK {target}: this re-applies the document that rollback removed from " + endpoint_id
    return what, preview
