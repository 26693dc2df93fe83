"""Issue 14: after the write, the rollout compares live denials with what the replay predicted.

A lab of its own, the real services, the real tail: the draft denies sqs:ListQueues to the hub account. The week
of history holds no ListQueues call, so the replay predicts nothing; the configured probe role (hub account) is
denied as the plan says; then a hub role that never called before — absent from the history — lists queues
through the endpoint with the real SDK. Only that denial is an unpredicted one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.functional.conftest import make_app, notifications, probe_config, wait_for, write_ready
from textual.widgets import TextArea

from vpce_console.tui.screens.confirm import ConfirmWrite
from vpce_console.tui.screens.editor import PolicyEditorScreen
from vpce_console.tui.screens.main import MainScreen
from vpce_console.tui.screens.rollout import RolloutScreen
from vpce_console.tui.widgets.panes import EndpointsPane

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def no_hub_listing(hub: str) -> str:
    """Allow everything except sqs:ListQueues by principals of the hub account."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                {
                    "Sid": "NoHubListing",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:ListQueues",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": hub}},
                },
            ],
        },
        indent=2,
    )


def list_queues_as_new_role(ready: dict[str, Any], role: str) -> str:
    """Assume a hub role (the operator's bastion is in the hub VPC) and list queues through the endpoint."""
    import boto3
    from botocore.exceptions import ClientError

    hub = ready["hub"]["account_id"]
    keys = ready["operator"]
    sts = boto3.client(
        "sts",
        endpoint_url=ready["endpoint_url"],
        region_name=ready["region"],
        aws_access_key_id=keys["access_key_id"],
        aws_secret_access_key=keys["secret_access_key"],
    )
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{hub}:role/{role}", RoleSessionName="first-time")["Credentials"]
    sqs = boto3.client(
        "sqs",
        endpoint_url=ready["endpoint_url"],
        region_name=ready["region"],
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    try:
        sqs.list_queues()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "allowed"


@pytest.fixture
def surprise_lab(lab_factory: Callable[..., Any], tmp_path: Path) -> tuple[dict[str, Any], Path, Path]:
    """A lab of this test's own (it writes), its demo week of trail history, 1-2 s propagation."""
    handle = lab_factory(scale="demo", seed=13, propagation="1:2")
    ready = dict(handle.ready)
    config = probe_config(tmp_path, ready["hub"]["account_id"])
    return ready, write_ready(ready, tmp_path), config


async def test_a_denial_the_replay_did_not_predict_is_flagged(
    surprise_lab: tuple[dict[str, Any], Path, Path],
) -> None:
    """You should see the plan's replay line (0 calls), the watch converge on the probe, then one unpredicted
    denial — the new role's ListQueues — flagged as a surprise worth a rollback; the probe's denials are not."""
    ready, ready_file, config = surprise_lab
    endpoint_id = ready["hub"]["endpoints"]["sqs"]
    hub = ready["hub"]["account_id"]
    app = make_app(ready_file, config, read_only=False, tail=True)
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.query_one(EndpointsPane).loaded, timeout=60, what="endpoints")
        await pilot.press("slash", *"sqs", "enter", "e")
        editor = app.screen
        assert isinstance(editor, PolicyEditorScreen)
        area = editor.query_one("#policy-text", TextArea)
        area.replace(no_hub_listing(hub), area.document.start, area.document.end)
        await pilot.press("ctrl+o")
        rollout = app.screen
        assert isinstance(rollout, RolloutScreen)
        await pilot.press("n")
        await wait_for(pilot, lambda: rollout.replay_seen, timeout=240, what="the replay line")
        assert rollout.replay_doc is not None
        assert rollout.replay_doc["newly_denied"]["calls"] == 0, "the history holds no ListQueues call"
        await wait_for(pilot, lambda: rollout.plan is not None, timeout=60, what="plan")
        await pilot.press("n", "n", "a")
        assert isinstance(app.screen, ConfirmWrite)
        await pilot.press(*endpoint_id, "enter")
        await wait_for(pilot, lambda: rollout.step == "done", timeout=120, what="watch to finish")
        view = rollout.watch_view
        assert view is not None and view.status == "converged", (view, notifications(app))

        assert list_queues_as_new_role(ready, "quarterly-report") != "allowed"
        await wait_for(pilot, lambda: rollout.sorted_denials()[3], timeout=60, what="the unpredicted denial")
        by_replay, by_probe, by_old, surprises = rollout.sorted_denials()
        assert not by_replay and not by_old  # the draft denies these calls: not the replaced document's
        assert {d.principal.split("/")[1] for d in surprises} == {"quarterly-report"}, surprises
        assert all("vpce-console-probe" in d.principal for d in by_probe), by_probe
        body = str(rollout.query_one("#rollout-body").render())
        assert "unpredicted denial(s) — the surprises worth a rollback" in body, body
        assert "quarterly-report" in body


async def test_denials_of_the_replaced_document_while_the_change_propagates_are_no_surprise(
    lab_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """A loosening change: until it is in force the replaced document still denies the probe's ListQueues. Those
    denials are the old document's (the draft allows the calls), so they are counted as such, never as surprises."""
    import time
    import urllib.request

    from tests.aws.labkit import deployed, operator_client

    handle = lab_factory(scale="demo", seed=19, propagation="3:5")
    ready = dict(handle.ready)
    endpoint_id = ready["hub"]["endpoints"]["sqs"]
    hub = ready["hub"]["account_id"]
    original = deployed(ready, endpoint_id)
    operator_client(ready, "ec2").modify_vpc_endpoint(VpcEndpointId=endpoint_id, PolicyDocument=no_hub_listing(hub))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the tightening is fully in force before the console starts
        with urllib.request.urlopen(ready["endpoint_url"] + "/lab-api/propagation", timeout=10) as answer:
            done_at = float(json.loads(answer.read())["endpoints"][endpoint_id]["fully_propagated_at"])
        if done_at <= time.time():
            break
        time.sleep(0.5)
    config = probe_config(tmp_path, hub)
    app = make_app(write_ready(ready, tmp_path), config, read_only=False, tail=True)
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.query_one(EndpointsPane).loaded, timeout=60, what="endpoints")
        current = next(e for e in main.snapshot.endpoints if e.endpoint_id == endpoint_id)
        app.open_rollout(current, main.snapshot, draft=original)
        rollout = app.screen
        assert isinstance(rollout, RolloutScreen)
        await pilot.press("n")
        await wait_for(pilot, lambda: rollout.replay_seen, timeout=240, what="the replay line")
        await pilot.press("n", "n", "a")
        assert isinstance(app.screen, ConfirmWrite)
        await pilot.press(*endpoint_id, "enter")
        await wait_for(pilot, lambda: rollout.step == "done", timeout=120, what="watch to finish")
        await wait_for(pilot, lambda: rollout.sorted_denials()[2], timeout=60, what="the old document's denials")
        _, _, by_old, surprises = rollout.sorted_denials()
        assert not surprises, surprises
        assert {d.action for d in by_old} == {"sqs:ListQueues"} and all(d.account_id == hub for d in by_old)
        body = str(rollout.query_one("#rollout-body").render())
        assert "by the replaced document while the change propagated" in body and "0 unpredicted" in body, body
