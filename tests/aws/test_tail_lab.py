"""The denial tail against a real lab: network events classified with versions, throttling survived, bounded memory."""

from __future__ import annotations

import argparse
import contextlib
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from vpce_console.cli import main

pytestmark = [pytest.mark.lab]

ROW_KEYS = {
    "event_time",
    "event_id",
    "reason",
    "endpoint_id",
    "service",
    "account_id",
    "source_ip",
    "principal",
    "event_name",
    "policy_version",
}
DENY_WEB = (
    '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},'
    ' {"Sid": "NoWeb", "Effect": "Deny", "Principal": "*", "Action": "sqs:ListQueues", "Resource": "*",'
    ' "Condition": {"StringEquals": {"aws:PrincipalTag/team": "web"}}}]}'
)


@pytest.fixture(scope="module")
def denied(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Own lab (instant propagation): apply DENY_WEB with `vpce rollout`, then the web persona is denied 6 times.

    The rollout runs without workload probes: a lab's web persona would otherwise probe the change through the
    endpoint and add its own denials, and these tests count exactly the six calls made here.
    """
    import os

    import boto3

    from vpce_console.lab.child import start_lab_child

    os.environ.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    handle = start_lab_child(scale="demo", seed=3, propagation="0:0", traffic=0)
    ready = dict(handle.ready)
    folder = tmp_path_factory.mktemp("tail-lab")
    state = folder / "state"
    (folder / "ready.json").write_text(json.dumps(ready))
    (folder / "policy.json").write_text(DENY_WEB)
    endpoint = ready["hub"]["endpoints"]["sqs"]
    saved = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(state)
    try:
        code = main(
            [
                "rollout",
                "--lab-ready",
                str(folder / "ready.json"),
                "--endpoint",
                endpoint,
                "--policy",
                str(folder / "policy.json"),
                "--confirm",
                endpoint,
                "--allow-write",
                "--timeout",
                "0.5",
                "--poll",
                "0.2",
                "--no-workload-probes",
                "--format",
                "json",
            ]
        )
    finally:
        if saved is not None:
            os.environ["XDG_STATE_HOME"] = saved
    assert code == 3  # UNOBSERVED: applied, and no probe left that can see a team=web denial
    persona = next(p for p in ready["personas"] if p["tags"].get("team") == "web")
    sqs = boto3.client(
        "sqs",
        endpoint_url=ready["endpoint_url"],
        region_name=ready["region"],
        aws_access_key_id=persona["access_key_id"],
        aws_secret_access_key=persona["secret_access_key"],
    )
    for _ in range(6):
        with contextlib.suppress(Exception):
            sqs.list_queues()
    yield {
        "ready": ready,
        "ready_path": str(folder / "ready.json"),
        "endpoint": endpoint,
        "state": str(state),
        "persona": persona,
    }
    handle.stop()


def _rows(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_tail_classifies_network_events_with_policy_version(
    denied: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vpce_console.services.journal import sha256_text

    monkeypatch.setenv("XDG_STATE_HOME", denied["state"])
    code = main(
        [
            "tail",
            "--lab-ready",
            denied["ready_path"],
            "--since",
            "10m",
            "--format",
            "jsonl",
            "--endpoint",
            denied["endpoint"],
        ]
    )
    assert code == 0
    rows = _rows(capsys)
    assert len(rows) == 6
    for row in rows:
        assert row.keys() >= ROW_KEYS
        assert row["reason"] == "vpce-network-event"
        assert row["principal"] is None  # redacted on network events
        assert row["account_id"] == denied["persona"]["account_id"]
        assert row["source_ip"] == denied["persona"]["private_ip"]
        assert row["service"] == "sqs" and row["event_name"] == "ListQueues"
        assert row["policy_version"] == sha256_text(DENY_WEB)[:12]


def test_tail_survives_throttling(denied: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    url = denied["ready"]["endpoint_url"] + "/lab-api/faults"

    def faults(spec: str) -> None:
        body = json.dumps({"spec": spec, "replace": True}).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10):
            pass

    faults("logs:FilterLogEvents=throttle@0.6")
    try:
        code = main(
            [
                "tail",
                "--lab-ready",
                denied["ready_path"],
                "--since",
                "10m",
                "--format",
                "jsonl",
                "--endpoint",
                denied["endpoint"],
                "--no-history",
                "--poll",
                "0.2",
            ]
        )
    finally:
        faults("")
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 0
    assert len({r["event_id"] for r in rows}) == len(rows) == 6


async def test_follow_keeps_memory_bounded(denied: dict[str, Any]) -> None:
    from vpce_console.aws.logs import filter_log_events
    from vpce_console.aws.session import AwsGateway
    from vpce_console.connect import connect
    from vpce_console.services.tail import DenialTail, denial_filter_pattern, follow_log_groups

    args = argparse.Namespace(lab=False, lab_ready=denied["ready_path"], config=None, region=None, profile=None)
    config, target = connect(args)
    tail = DenialTail(ring_size=2, dedupe_size=3)
    async with AwsGateway(target, config) as gateway:

        async def fetch(group: str, pattern: str, start: int, token: str | None) -> Any:
            return await filter_log_events(gateway, group, pattern, start, token)

        async for record in follow_log_groups(
            fetch, list(config.tail.log_groups), denial_filter_pattern(), start_ms=0, follow=False, clock_ms=lambda: 0
        ):
            tail.ingest(record)
    assert tail.denials == 6
    assert len(tail.rows()) == 2 and tail.seen_size == 3


def test_file_and_live_rows_agree(denied: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Export the log group's records to a CloudTrail-style file: offline analysis gives the same rows."""
    import boto3

    ready = denied["ready"]
    op = ready["operator"]
    logs = boto3.client(
        "logs",
        endpoint_url=ready["endpoint_url"],
        region_name=ready["region"],
        aws_access_key_id=op["access_key_id"],
        aws_secret_access_key=op["secret_access_key"],
    )
    events = logs.filter_log_events(logGroupName=ready["cloudtrail_log_group"], startTime=0)["events"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"Records": [json.loads(e["message"]) for e in events]}))
    assert main(["tail", "--file", str(path), "--format", "jsonl", "--endpoint", denied["endpoint"]]) == 0
    rows = _rows(capsys)
    assert len(rows) == 6 and {r["reason"] for r in rows} == {"vpce-network-event"}


async def test_follow_picks_up_new_denials_through_dropped_connections(denied: dict[str, Any]) -> None:
    """--follow semantics: new denials arrive while polling, with 30% of FilterLogEvents calls dropped."""
    import asyncio

    import boto3

    from vpce_console.aws.logs import filter_log_events
    from vpce_console.aws.session import AwsGateway
    from vpce_console.connect import connect
    from vpce_console.services.tail import DenialTail, LogCursor, denial_filter_pattern, follow_log_groups

    ready, persona = denied["ready"], denied["persona"]
    url = ready["endpoint_url"] + "/lab-api/faults"

    def faults(spec: str) -> None:
        body = json.dumps({"spec": spec, "replace": True}).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10):
            pass

    def more_denials() -> None:
        sqs = boto3.client(
            "sqs",
            endpoint_url=ready["endpoint_url"],
            region_name=ready["region"],
            aws_access_key_id=persona["access_key_id"],
            aws_secret_access_key=persona["secret_access_key"],
        )
        for _ in range(4):
            with contextlib.suppress(Exception):
                sqs.list_queues()

    args = argparse.Namespace(lab=False, lab_ready=denied["ready_path"], config=None, region=None, profile=None)
    config, target = connect(args)
    tail = DenialTail(ring_size=100)
    cursors: dict[str, LogCursor] = {}
    errors: list[str] = []
    async with AwsGateway(target, config, total_max_attempts=1) as gateway:

        async def fetch(group: str, pattern: str, start: int, token: str | None) -> Any:
            return await filter_log_events(gateway, group, pattern, start, token)

        async def consume() -> None:
            async for record in follow_log_groups(
                fetch,
                list(config.tail.log_groups),
                denial_filter_pattern(denied["endpoint"]),
                start_ms=0,
                follow=True,
                poll_seconds=0.2,
                overlap_ms=60_000,
                clock_ms=lambda: 0,
                cursors=cursors,
                on_error=lambda g, e, w: errors.append(e.kind),
                max_backoff=0.5,
            ):
                tail.ingest(record)
                if tail.denials >= 10:
                    return

        task = asyncio.create_task(consume())
        for _ in range(100):
            if tail.denials >= 6:
                break
            await asyncio.sleep(0.1)
        assert tail.denials == 6
        faults("logs:FilterLogEvents=drop@0.3")
        try:
            await asyncio.to_thread(more_denials)
            await asyncio.wait_for(task, timeout=30)
        finally:
            faults("")
    assert tail.denials == 10 and len({d.event_id for d in tail.rows()}) == 10
    assert tail.duplicates > 0  # the overlap window re-reads old events; dedupe drops them


def test_follow_live_backfills_then_streams(denied: dict[str, Any]) -> None:
    """`--follow --live`: the --since backfill first, then StartLiveTail delivers denials as they happen."""
    import os
    import subprocess
    import sys
    import threading
    import time
    from datetime import datetime

    import boto3

    ready, persona = denied["ready"], denied["persona"]
    cmd = [
        sys.executable,
        "-m",
        "vpce_console",
        "tail",
        "--lab-ready",
        denied["ready_path"],
        "--since",
        "10m",
        "--follow",
        "--live",
        "--format",
        "jsonl",
        "--endpoint",
        denied["endpoint"],
        "--no-history",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()

    def seen() -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(lines) if line.startswith("{")]

    def live_rows(since: float) -> int:
        """Rows for calls made after `since` (the backfill holds only earlier ones)."""
        return sum(
            1 for r in seen() if datetime.fromisoformat(r["event_time"].replace("Z", "+00:00")).timestamp() >= since
        )

    try:
        deadline = time.monotonic() + 60
        while len(seen()) < 6 and time.monotonic() < deadline:  # the backfill first (this module's earlier denials)
            time.sleep(0.1)
        assert len(seen()) >= 6, proc.stderr
        sqs = boto3.client(
            "sqs",
            endpoint_url=ready["endpoint_url"],
            region_name=ready["region"],
            aws_access_key_id=persona["access_key_id"],
            aws_secret_access_key=persona["secret_access_key"],
        )
        # denied calls until two of them arrive live (the live session opens after the backfill; no fixed sleep)
        started = time.time() - 1.0  # CloudTrail times are whole seconds
        while live_rows(started) < 2 and time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                sqs.list_queues()
            time.sleep(0.5)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        reader.join(timeout=5)
    out = "".join(lines)
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len({r["event_id"] for r in rows}) == len(rows) >= 8, err  # 6 from the backfill + 2 live (maybe more)
    assert live_rows(started) >= 2, err  # and two of them arrived live, after the backfill
    assert "polling instead" not in err
