"""The policy editor and the read-only gate, against the lab through the real services."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from tests.functional.conftest import past_the_plan, wait_for
from textual.widgets import DataTable, TextArea

from vpce_console.tui.app import VpceApp
from vpce_console.tui.drafts import DraftStore
from vpce_console.tui.screens.editor import PolicyEditorScreen
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.screens.rollout import RolloutScreen
from vpce_console.tui.widgets.panes import EndpointsPane

pytestmark = pytest.mark.lab

SOURCE_VPC_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": "*",
      "Action": "sqs:*",
      "Resource": "*",
      "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0123456789abcdef0"}}
    }
  ]
}"""
"""aws:SourceVpc names the hub VPC behind a shared endpoint, never the caller's: the linter says `hub-scoped-key`."""


def deployed_policy(lab_ready: Any, endpoint_id: str) -> str | None:
    """The endpoint's document as DescribeVpcEndpoints returns it (the real SDK over the lab)."""
    operator = lab_ready["operator"]
    ec2 = boto3.client(
        "ec2",
        endpoint_url=lab_ready["endpoint_url"],
        region_name=lab_ready["region"],
        aws_access_key_id=operator["access_key_id"],
        aws_secret_access_key=operator["secret_access_key"],
    )
    answer = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])
    return answer["VpcEndpoints"][0].get("PolicyDocument")  # type: ignore[no-any-return]


async def open_sqs_editor(app: VpceApp, pilot: Any, lab_ready: Any) -> PolicyEditorScreen:
    """Filter to the sqs endpoint and press `e`, as a person would."""
    main = app.screen
    assert isinstance(main, MainScreen)
    await wait_for(pilot, lambda: main.query_one(EndpointsPane).loaded, what="endpoints")
    await pilot.press("slash", *"sqs", "enter", "e")
    assert isinstance(app.screen, PolicyEditorScreen)
    assert app.screen.endpoint.endpoint_id == lab_ready["hub"]["endpoints"]["sqs"]
    return app.screen


async def test_typing_produces_findings_and_selecting_one_moves_the_cursor(
    console_app: Callable[..., VpceApp], lab_ready: Any
) -> None:
    """Live lint as you type; Enter on a finding puts the cursor on its line and column; the draft is on disk."""
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        editor = await open_sqs_editor(app, pilot, lab_ready)
        area = editor.query_one("#policy-text", TextArea)
        await wait_for(pilot, lambda: editor.findings is not None and not editor.workers, what="first lint")
        area.replace(SOURCE_VPC_POLICY[:-1], area.document.start, area.document.end)
        area.move_cursor(area.document.end)
        await pilot.press("}")  # the last keystroke is typed for real: the debounced lint follows it
        await wait_for(pilot, lambda: "hub-scoped-key" in {f.code for f in editor.findings}, what="hub-scoped-key")
        finding = next(f for f in editor.findings if f.code == "hub-scoped-key")
        assert SOURCE_VPC_POLICY.splitlines()[finding.line - 1].count("aws:SourceVpc")

        table = editor.query_one("#findings-table", DataTable)
        await pilot.press("f2")
        assert table.has_focus
        row = next(i for i, f in enumerate(editor.sorted_findings()) if f.code == "hub-scoped-key")
        table.move_cursor(row=row)
        await pilot.press("enter")
        assert area.has_focus
        assert area.cursor_location == (finding.line - 1, finding.column - 1)

        draft = DraftStore().load(lab_ready["hub"]["endpoints"]["sqs"])
        assert draft is not None and "aws:SourceVpc" in draft.text

        await pilot.press("f5")
        diff = str(editor.query_one("#diff-view").render())
        assert "aws:SourceVpc" in diff
        await wait_for(pilot, lambda: editor.impact_result is not None, what="impact matrix")
        impact = editor.query_one("#impact-table", DataTable)
        assert impact.row_count == len(editor.impact_result.personas)
        assert any(cell.changed for cell in editor.impact_result.cells)
        await pilot.press("escape", "escape")  # the first Esc leaves the text (Textual's code-editor habit)
        assert isinstance(app.screen, MainScreen)


async def test_read_only_gate_disables_apply_and_writes_nothing(
    console_app: Callable[..., VpceApp], lab_ready: Any
) -> None:
    """Drafts are editable in read-only mode, but apply is disabled and no write reaches the lab."""
    endpoint_id = lab_ready["hub"]["endpoints"]["sqs"]
    before = deployed_policy(lab_ready, endpoint_id)
    app = console_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        editor = await open_sqs_editor(app, pilot, lab_ready)
        area = editor.query_one("#policy-text", TextArea)
        area.replace(
            SOURCE_VPC_POLICY.replace("aws:SourceVpc", "aws:PrincipalTag/vpc"), area.document.start, area.document.end
        )
        await pilot.press("ctrl+o")
        rollout = app.screen
        assert isinstance(rollout, RolloutScreen)
        assert rollout.check_action("apply", ()) is None
        assert rollout.check_action("rollback", ()) is None
        await past_the_plan(pilot, rollout)
        await pilot.press("n")
        assert rollout.step == "apply"
        assert rollout.check_action("apply", ()) is None, "apply stays disabled in read-only mode"
        await pilot.press("a")
        assert isinstance(app.screen, RolloutScreen), "no confirmation modal opens"
        rollout.apply_draft()  # even a direct call must not write
        await pilot.pause(0.2)
        assert not rollout.applied
        assert app.backend is not None
        with pytest.raises(Exception, match="read-only"):
            async for _ in app.backend.rollout(endpoint_id, before, SOURCE_VPC_POLICY):
                pass
    assert deployed_policy(lab_ready, endpoint_id) == before
    assert json.loads(before or "{}") != json.loads(SOURCE_VPC_POLICY)
