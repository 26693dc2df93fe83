"""Snapshots of every pane at 120×36 on recorded fixed-seed lab data with a frozen clock (pytest-textual-snapshot)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.snapshots.conftest import FROZEN_NOW, settle, until_loaded
from textual.widgets import TextArea

from vpce_console.tui.messages import DenialsArrived, WatchTick
from vpce_console.tui.models import DenialRow, ProbeView, WatchView

SIZE = (120, 36)

HUB_SCOPED = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": "*",
      "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
      "Resource": "*",
      "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0123456789abcdef0"}}
    }
  ]
}"""


def test_endpoints_pane(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the header (account, region, caller, READ-ONLY and LAB badges) and one row per hub endpoint:
    service, id, ● available state, AZ count, SG, private DNS (ssm shows `on ⚠`), policy status, subscribers, and the
    trail's `7d calls` (the shared column of this width: `3345 ✗1` where some were denied, `none` for sts), with the
    line under the title summing them and naming sts as without network activity events in the window."""
    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=until_loaded)


@pytest.mark.parametrize("pane", ["subscribers", "doctor", "cost", "denials"])
def test_main_panes(snap_compare: Any, frozen_app: Any, pane: str) -> None:
    """You should see the named pane: subscribers = spokes × services with ✓/✗/⊘/? words and the legend (which
    also explains P, a service reached through a Route 53 Profile — none in this direct-association lab) and, under
    the selected cell, its use over the trail window (here: no network activity events from this VPC);
    doctor = findings grouped ERRORS / WARNINGS / INFO, each with where (account · VPC (name) · service), why, fix
    and numbered AWS CLI commands with real ids prefixed by the account that runs them; cost = per-service table with
    the verdict second (the answer first) and ★ on the cheapest of hub / per-VPC / NAT in every row, the design the
    verdict names (NAT rows say "no policy"),
    bars of the three totals, the verdict counts, a legend (★ ◆ ●) and each service's usage ● against its ◆
    break-even; denials = the fixture denials newest first with ✗ reason words, live status line, the `history ◷`
    line (12 denials in 4 groups from the trail) and rate sparkline, then the four ◷ trail rows (`✗ ×3 (trail)`)."""
    assert snap_compare(frozen_app(initial_pane=pane), terminal_size=SIZE, run_before=until_loaded)


def test_help_lists_the_panes_keys(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the help modal over the endpoints pane: keys, what they do, and the id to rebind them."""

    async def open_help(pilot: Any) -> None:
        await until_loaded(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=open_help)


def test_endpoint_details(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the details of the first endpoint: state, AZs, SGs, ENIs, DNS names, hosted zone, doctor
    findings for it, the `Trail 7d` line (1,000 calls, 0 denied, last seen) and its policy document."""

    async def open_details(pilot: Any) -> None:
        await until_loaded(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=open_details)


async def _edit_hub_scoped(pilot: Any) -> None:
    await until_loaded(pilot)
    await pilot.press("slash", *"sqs", "enter", "e")
    editor = pilot.app.screen
    area = editor.query_one("#policy-text", TextArea)
    area.replace(HUB_SCOPED, area.document.start, area.document.end)
    # Wait for the draft's own lint and impact (the deployed policy's impact, with no changed cell, comes first).
    for _ in range(1500):
        result = editor.impact_result
        if any(f.code == "hub-scoped-key" for f in editor.findings) and result is not None and result.changed_cells:
            break
        await pilot.pause(0.02)
    else:
        raise AssertionError("the draft's findings and impact never arrived")
    area.move_cursor((0, 0))
    editor.query_one("#findings-table").focus()  # a blinking cursor would make the screenshot depend on timing
    await settle(pilot)


def test_editor_flags_hub_scoped_key(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the policy editor: the JSON draft with line numbers, an error `hub-scoped-key` at line 9
    (aws:SourceVpc has one value per endpoint, this hub endpoint's VPC id, so StringEquals with a spoke VPC is
    FALSE for every request), its message and fix hint, the impact matrix with changed cells marked
    `✓→✗ NOW DENIED` in words, an `Observed (7d)` tab next to the diff and `f8 observed 7d` in the footer."""
    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=_edit_hub_scoped)


async def through_the_plan(pilot: Any) -> None:
    """`ctrl+o`, `n`, and wait on the plan step until its replay line is shown (apply needs it seen)."""
    await pilot.press("ctrl+o", "n")
    for _ in range(500):
        if getattr(pilot.app.screen, "replay_seen", False):
            return
        await pilot.pause(0.02)
    raise AssertionError("the plan step never showed its replay line")


async def _rollout_watch(pilot: Any) -> None:
    await _edit_hub_scoped(pilot)
    area = pilot.app.screen.query_one("#policy-text", TextArea)
    area.replace(
        HUB_SCOPED.replace("aws:SourceVpc", "aws:PrincipalTag/network"), area.document.start, area.document.end
    )
    await through_the_plan(pilot)
    await pilot.press("n", "n")
    rollout = pilot.app.screen
    view = WatchView(
        status="pending",
        elapsed=83.0,
        probes=(
            ProbeView("probe → sqs:SendMessage", "explicit_deny", "allow", 0, 1),
            ProbeView("probe → sqs:ReceiveMessage", "explicit_deny", "explicit_deny", 2, 0),
        ),
        evidence=("journaled as j-0001", "dry run: ok", "ModifyVpcEndpoint: ok", "verified"),
        applied=True,
    )
    rollout.applied = True
    rollout.watch_started = FROZEN_NOW - 83.0
    rollout.step = "watch"
    rollout.post_message(WatchTick(view))
    await pilot.pause(0.1)
    await settle(pilot)


def test_rollout_diff_step(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the rollout screen at step 3 (diff): steps 1-2 ticked, the unified diff with +/- lines, and a
    READ-ONLY note that apply is disabled."""

    async def diff_step(pilot: Any) -> None:
        await _edit_hub_scoped(pilot)
        area = pilot.app.screen.query_one("#policy-text", TextArea)
        area.replace(
            HUB_SCOPED.replace("aws:SourceVpc", "aws:PrincipalTag/network"), area.document.start, area.document.end
        )
        await through_the_plan(pilot)
        await pilot.press("n")
        await settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=diff_step)


def test_rollout_propagation_watch(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the propagation watch: a big 01:23 timer, ⧗ PENDING in words, two probes (one ✗ still on the
    old behaviour with a flap, one ✓ with streak 2) and the step log."""
    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=_rollout_watch)


@pytest.mark.parametrize("theme", ["vpce-light", "vpce-high-contrast"])
def test_themes(snap_compare: Any, frozen_app: Any, theme: str) -> None:
    """You should see the endpoints pane in the light / high-contrast theme; every state still has its symbol."""
    assert snap_compare(frozen_app(theme=theme), terminal_size=SIZE, run_before=until_loaded)


async def _rollout_plan(pilot: Any) -> None:
    await _edit_hub_scoped(pilot)
    area = pilot.app.screen.query_one("#policy-text", TextArea)
    area.replace(
        HUB_SCOPED.replace("aws:SourceVpc", "aws:PrincipalTag/network"), area.document.start, area.document.end
    )
    await through_the_plan(pilot)
    await settle(pilot)


def test_rollout_plan_step(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the rollout screen at step 2 (plan): the step strip with lint ticked and plan current, first
    the `Observed:` replay line the plan step ran for this draft (0 calls denied, 1560 undetermined: trail records
    carry no principal tag), then the plan in words — who is affected by the change — then `n: next (diff)`,
    offered only once that line is shown; no raw hashes or `diff=` fields."""
    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=_rollout_plan)


def _probes(converged: bool) -> tuple[ProbeView, ...]:
    last = "explicit_deny" if converged else "allow"
    return (
        ProbeView("probe → sqs:SendMessage", "explicit_deny", last, 3 if converged else 0, 0),
        ProbeView("probe → sqs:ReceiveMessage", "explicit_deny", "explicit_deny", 3, 0),
    )


async def _rollout_converged(pilot: Any) -> None:
    await _rollout_watch(pilot)
    rollout = pilot.app.screen
    steps = ("journaled as j-0001", "dry run: ok", "written (ModifyVpcEndpoint ok)", "verified")
    rollout.post_message(WatchTick(WatchView("converged", 67.0, _probes(True), steps, applied=True)))
    await pilot.pause(0.1)
    rollout.post_message(WatchTick(WatchView("converged", 79.0, _probes(True), steps, applied=True)))
    rollout.tick_timer()
    await pilot.pause(0.1)
    await settle(pilot)


async def _rollout_surprise(pilot: Any) -> None:
    await _rollout_converged(pilot)
    rollout = pilot.app.screen
    rollout.written_at = FROZEN_NOW - 79.0  # the frozen watch skipped the write itself
    sqs = rollout.endpoint
    predicted = rollout.replay_doc["predicted_denials"][0]
    hub = sqs.account_id or "111111111111"

    def row(account: str, principal: str, action: str) -> DenialRow:
        return DenialRow(FROZEN_NOW - 5, sqs.endpoint_id, "sqs", account, principal, action, "vpce-explicit-deny")

    rollout.post_message(
        DenialsArrived(
            [
                row(predicted["account"], "(redacted)", predicted["action"]),
                row(hub, f"arn:aws:sts::{hub}:assumed-role/quarterly-report/first-time", "sqs:ListQueues"),
            ]
        )
    )
    await pilot.pause(0.1)
    await settle(pilot)


def test_rollout_unpredicted_denial(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the converged rollout count this endpoint's denials since the write — 1 predicted by the
    replay, 0 covered by the plan's probes, 1 unpredicted — and flag in the error colour "⚠ 1 unpredicted
    denial(s) — the surprises worth a rollback" (no `(b)`: this app is read-only) with `1 × sqs:ListQueues
    assumed-role/quarterly-report/first-time` and its account, above the frozen timer."""
    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=_rollout_surprise)


def test_rollout_watch_converged(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the watch at CONVERGED: all six steps ticked, the big timer frozen at 01:07 (not the 01:19 of
    the later round), `✓ CONVERGED after 01:07` in words, both probes ✓ with streak 3, and `b: roll back` offered."""
    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=_rollout_converged)


async def _rollback_watch(pilot: Any) -> None:
    await _rollout_converged(pilot)
    rollout = pilot.app.screen
    rollout.restoring = rollout.endpoint_before
    rollout.start_run("rollback")
    steps = ("rolling back j-0001: restoring ee2d4d0c3e7f", "dry run: ok", "written (ModifyVpcEndpoint ok)")
    probes = (ProbeView("probe → sqs:SendMessage", "allow", "explicit_deny", 0, 0),)
    rollout.post_message(WatchTick(WatchView("pending", 12.0, probes, steps, applied=True), rollout.run))
    await pilot.pause(0.1)
    await settle(pilot)


def test_rollback_watch(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the rollback watched like a rollout on the same screen: title `Rollback`, the strip
    `rollback: 1 ✓ rolled back › 2 ▶ watch › 3 · done`, its own timer restarted at 00:12, `rollback ⧗ PENDING`
    in words, the probe now expecting `allow`, and the rollback's own step log (nothing of the apply's)."""
    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=_rollback_watch)


async def _history(pilot: Any) -> None:
    await until_loaded(pilot)
    await pilot.press("colon", *"history", "enter")
    await settle(pilot)


def test_history_pane(snap_compare: Any, frozen_app: Any) -> None:
    """You should see the History pane: three journal entries on the sqs endpoint, newest first, the newest marked
    `● in force`, the rollback row naming the change it undid, and below the table what `b` and `w` do with the
    selected entry (read-only here, so `b` is dimmed in the footer)."""
    assert snap_compare(frozen_app(), terminal_size=SIZE, run_before=_history)
