"""Issue 9 from the CLI, on a lab with 6-12 s propagation windows and no config at all: the lab's workloads are the
probes, the plan names them per direction, every watch ends at (never before) the lab's true convergence, a change
nobody can observe ends UNOBSERVED, and rollback restores the document in force before a chosen change.

The endpoint (sqs) is shared by the tests of this module, which run in order; each one reads what is deployed.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.aws.labkit import deployed, own_lab

from vpce_console.services.journal import sha256_text

pytestmark = [pytest.mark.lab, pytest.mark.slow]

POLL = 2.0
DEV_ONLY = (
    '{\n  "Version": "2012-10-17",\n  "Statement": [\n'
    '    {"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},\n'
    '    {"Sid": "DevOnly", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*",\n'
    '     "Condition": {"StringNotEquals": {"aws:PrincipalTag/environment": "%s"}}}\n  ]\n}\n'
)
"""sqs only for workloads tagged with one environment (the issue's "dev-only" change)."""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A lab of our own: demo scale, traffic off, the issue's 6-12 s propagation windows (no config file)."""
    with own_lab(tmp_path_factory.mktemp("guided-lab"), seed=23, propagation="6:12", probe_config=False) as lab:
        yield lab


_deployed = deployed


def _truth(ready: dict[str, Any], endpoint: str) -> float:
    with urllib.request.urlopen(ready["endpoint_url"] + "/lab-api/propagation", timeout=10) as answer:
        return float(json.loads(answer.read())["endpoints"][endpoint]["fully_propagated_at"])


def _vpce(lab: dict[str, Any], *args: str, timeout: float = 180) -> tuple[int, list[dict[str, Any]], str, str]:
    """`vpce ARGS --lab-ready R` in a child process, no config file; (exit code, json lines, stdout, stderr)."""
    cmd = [sys.executable, "-m", "vpce_console", args[0], "--lab-ready", lab["ready_path"], *args[1:]]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    lines = []
    for line in done.stdout.splitlines():
        if line.startswith("{") and line.endswith("}"):
            lines.append(json.loads(line))
    return done.returncode, lines, done.stdout, done.stderr


def _rollout(lab: dict[str, Any], tmp_path: Path, text: str, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    policy = tmp_path / "policy.json"
    policy.write_bytes(text.encode())
    endpoint = lab["endpoint"]
    code, lines, _, err = _vpce(
        lab,
        "rollout",
        "--endpoint",
        endpoint,
        "--policy",
        str(policy),
        "--confirm",
        endpoint,
        "--allow-write",
        "--force-lint",  # the dev-only Deny is the example, lint rightly warns about missing tags
        "--poll",
        str(POLL),
        "--format",
        "json",
        *extra,
    )
    return code, lines, err


def _rollback(lab: dict[str, Any], *extra: str) -> tuple[int, list[dict[str, Any]], str, str]:
    endpoint = lab["endpoint"]
    return _vpce(lab, "rollback", "--endpoint", endpoint, "--poll", str(POLL), "--format", "json", *extra)


def _event(lines: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [line for line in lines if line["event"] == name]
    assert found, [line["event"] for line in lines]
    return found[0]


def _index(lines: list[dict[str, Any]], name: str) -> int:
    return next(i for i, line in enumerate(lines) if line["event"] == name)


def _assert_converged_on_truth(lab: dict[str, Any], lines: list[dict[str, Any]], code: int, err: str) -> float:
    summary = lines[-1]
    assert summary["event"] == "summary" and summary["status"] == "converged" and code == 0, (summary, err)
    truth = _truth(lab["ready"], lab["endpoint"])
    late = summary["converged_at"] - truth
    assert 0.0 <= late <= 3 * POLL, f"declared {late:+.2f}s after the lab's true convergence"
    return late


def test_tightening_then_loosening_converge_on_the_labs_truth(lab: dict[str, Any], tmp_path: Path) -> None:
    """No config: the lab's workloads are the probes; both directions are proven by active probes."""
    original = _deployed(lab["ready"], lab["endpoint"])
    code, lines, err = _rollout(lab, tmp_path, DEV_ONLY % "dev")
    plan = _event(lines, "plan")
    assert plan["probes_denied"] and not plan["probes_allowed"] and plan["observable"]
    assert plan["newly_denied"] and not plan["newly_allowed"]
    assert _index(lines, "plan") < _index(lines, "journal")  # the plan is shown before anything is written
    _assert_converged_on_truth(lab, lines, code, err)

    code, lines, err = _rollout(lab, tmp_path, original)  # loosening: back to the full-access default
    plan = _event(lines, "plan")
    assert plan["probes_allowed"] and not plan["probes_denied"]
    assert {p["direction"] for p in plan["probes_allowed"]} == {"newly_allowed"}
    _assert_converged_on_truth(lab, lines, code, err)
    assert _deployed(lab["ready"], lab["endpoint"]) == original


def test_a_change_no_probe_can_observe_ends_unobserved(lab: dict[str, Any], tmp_path: Path) -> None:
    """A Deny for a tag no workload carries: the plan says so before the write, the watch ends UNOBSERVED (exit 3)."""
    before = _deployed(lab["ready"], lab["endpoint"])
    text = (
        '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},'
        ' {"Sid": "Nobody", "Effect": "Deny", "Principal": "*", "Action": "sqs:PurgeQueue", "Resource": "*",'
        ' "Condition": {"StringEquals": {"aws:PrincipalTag/team": "nobody"}}}]}'
    )
    code, lines, err = _rollout(lab, tmp_path, text)
    plan = _event(lines, "plan")
    assert not plan["observable"] and plan["unobserved_note"].startswith("no probe can observe this change")
    assert _index(lines, "plan") < _index(lines, "journal")
    assert _event(lines, "no_probes")["window_seconds"] == 13.0  # the lab's longest window, plus a second
    summary = lines[-1]
    assert code == 3 and summary["status"] == "unobserved" and summary["mode"] == "none", (summary, err)
    assert _deployed(lab["ready"], lab["endpoint"]) == text
    code, lines, _, err = _rollback(lab, "--confirm", lab["endpoint"], "--allow-write")
    assert code == 3 and lines[-1]["status"] == "unobserved" and lines[-1]["kind"] == "rollback", err
    assert _deployed(lab["ready"], lab["endpoint"]) == before


def test_rollback_semantics(lab: dict[str, Any], tmp_path: Path) -> None:
    """Default = before the last change; never a rollback of a rollback without --to; --to restores exact bytes."""
    ready, endpoint = lab["ready"], lab["endpoint"]
    original = _deployed(ready, endpoint)
    first = DEV_ONLY % "dev"
    second = DEV_ONLY % "staging"
    code, lines, err = _rollout(lab, tmp_path, first)
    assert code == 0, err
    a1 = lines[-1]["journal_id"]
    code, lines, err = _rollout(lab, tmp_path, second)
    assert code == 0, err
    a2 = lines[-1]["journal_id"]

    # without the typed confirmation: the preview (plan, diff) is shown, nothing is written
    code, lines, _, err = _rollback(lab, "--confirm", "vpce-wrong", "--allow-write")
    assert code == 2 and "--confirm must repeat the endpoint id" in err
    plan = _event(lines, "plan")
    assert plan["kind"] == "rollback" and plan["rollback_of"] == a2 and plan["probes_allowed"] and plan["probes_denied"]
    assert "+++" in _event(lines, "diff")["diff"]
    assert not [line for line in lines if line["event"] == "journal"]
    assert _deployed(ready, endpoint) == second

    # default: the document in force before the last change, shown, then watched to convergence
    code, lines, _, err = _rollback(lab, "--confirm", endpoint, "--allow-write")
    assert _event(lines, "plan")["rollback_of"] == a2
    assert _index(lines, "plan") < _index(lines, "journal") < _index(lines, "modify") < _index(lines, "round")
    _assert_converged_on_truth(lab, lines, code, err)
    assert lines[-1]["kind"] == "rollback"
    assert _deployed(ready, endpoint) == first

    # again: the last change is a rollback, rolling it back would re-apply `second`: refused without --to
    code, lines, _, err = _rollback(lab, "--confirm", endpoint, "--allow-write")
    refused = _event(lines, "refused")["reason"]
    assert code == 1 and "itself a rollback" in refused and "--to JOURNAL_ID" in refused
    assert _deployed(ready, endpoint) == first

    # --to the first change: the exact bytes in force before it
    code, lines, _, err = _rollback(lab, "--confirm", endpoint, "--allow-write", "--to", a1)
    assert _event(lines, "plan")["rollback_of"] == a1
    _assert_converged_on_truth(lab, lines, code, err)
    assert _deployed(ready, endpoint) == original

    history = subprocess.run(
        [sys.executable, "-m", "vpce_console", "history", "--endpoint", endpoint],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    rows = [line for line in history if endpoint in line]
    # every row has its endpoint id in the same column, rollback rows ("rollback of …") included
    assert len({row.index(endpoint) for row in rows}) == 1, history


def test_simulate_and_impact_use_the_labs_personas_and_nat_rule(lab: dict[str, Any], tmp_path: Path) -> None:
    """client-fn exists on the lab; a persona whose VPC is not associated with the sqs zone is never NOW DENIED."""
    policy = tmp_path / "dev-only.json"
    policy.write_text(DEV_ONLY % "dev")
    default = tmp_path / "default.json"
    default.write_text('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}')
    code, _, out, err = _vpce(
        lab, "simulate", "--policy", str(policy), "--persona", "client-fn", "--action", "sqs:ReceiveMessage"
    )
    assert code == 0 and json.loads(out)["decision"] == "explicit_deny", err
    code, _, out, err = _vpce(lab, "impact", "--from", str(default), "--to", str(policy), "--format", "json")
    result = json.loads(out)
    nat = {c["persona"] for c in result["cells"] if not c["through_endpoint"]}
    assert nat and code == 1
    assert not [c for c in result["cells"] if c["persona"] in nat and c["changed"]]
    persona = sorted(nat - {"lambda-service"})[0]
    code, _, out, err = _vpce(
        lab, "simulate", "--policy", str(policy), "--persona", persona, "--action", "sqs:ReceiveMessage"
    )
    assert code == 0 and json.loads(out)["decision"] == "not_through_endpoint", err
    code, _, out, err = _vpce(lab, "impact", "--from", str(default), "--to", str(policy))
    assert "not through the endpoint" in out and "NOW DENIED" not in out


def test_tail_follow_labels_denials_with_the_version_written_while_it_runs(lab: dict[str, Any], tmp_path: Path) -> None:
    """`vpce tail --follow` started before a rollout: later denials carry the new version (the journal's write)."""
    import boto3

    ready, endpoint = lab["ready"], lab["endpoint"]
    cmd = [sys.executable, "-m", "vpce_console", "tail", "--lab-ready", lab["ready_path"], "--follow"]
    cmd += ["--endpoint", endpoint, "--since", "1m", "--poll", "1", "--format", "jsonl"]
    tail = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        import time

        time.sleep(4)  # the tail has read the history and is following
        code, lines, err = _rollout(lab, tmp_path, DEV_ONLY % "dev")
        assert code == 0, err
        written_at = lines[-1]["converged_at"]
        persona = next(p for p in ready["personas"] if p["name"] == "client-fn")
        sqs = boto3.client(
            "sqs",
            endpoint_url=ready["endpoint_url"],
            region_name=ready["region"],
            aws_access_key_id=persona["access_key_id"],
            aws_secret_access_key=persona["secret_access_key"],
        )
        for _ in range(3):
            with contextlib.suppress(Exception):  # the denial is the point
                sqs.list_queues()
        new = sha256_text(DEV_ONLY % "dev")[:12]
        rows: list[dict[str, Any]] = []
        deadline = time.monotonic() + 40
        assert tail.stdout is not None
        os.set_blocking(tail.stdout.fileno(), False)
        while time.monotonic() < deadline and not any(_epoch(r["event_time"]) > written_at for r in rows):
            line = tail.stdout.readline()
            if line.startswith("{"):
                rows.append(json.loads(line))
            elif not line:
                time.sleep(0.5)
        late = [r for r in rows if _epoch(r["event_time"]) > written_at]
        assert late and all(r["policy_version"] == new for r in late), [
            (r["event_time"], r["policy_version"]) for r in rows
        ]
    finally:
        tail.terminate()
        tail.wait(10)
    _rollout(lab, tmp_path, '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}')


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_cli_impact_and_the_console_count_the_same_cells(lab: dict[str, Any], tmp_path: Path) -> None:
    """The console's snapshot (its persona selection and zone associations) and `vpce impact --lab-ready` agree."""
    import argparse
    import asyncio

    from vpce_console.aws.session import AwsGateway
    from vpce_console.commands.console_backend import ServicesBackend
    from vpce_console.connect import connect_lab
    from vpce_console.services.personas import change_impact

    default = '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
    (tmp_path / "default.json").write_text(default)
    (tmp_path / "dev-only.json").write_text(DEV_ONLY % "dev")
    args = argparse.Namespace(lab=False, lab_ready=lab["ready_path"], config=None, region=None, profile=None)
    config, target, ready = connect_lab(args)

    async def console_counts() -> tuple[int, int]:
        async with AwsGateway(target, config) as gateway:
            snapshot = await ServicesBackend(gateway, config, target, read_only=True, lab=ready).load()
        row = next(e for e in snapshot.endpoints if e.endpoint_id == lab["endpoint"])
        result = change_impact(
            snapshot.persona_set, "sqs", default, DEV_ONLY % "dev", endpoint_id=row.endpoint_id, vpc_id=row.vpc_id
        )
        return len(result.changed_cells), sum(1 for c in result.cells if not c.through_endpoint)

    changed, nat = asyncio.run(console_counts())
    code, _, out, err = _vpce(
        lab,
        "impact",
        "--from",
        str(tmp_path / "default.json"),
        "--to",
        str(tmp_path / "dev-only.json"),
        "--format",
        "json",
    )
    summary = json.loads(out)["summary"]
    assert (summary["changed"], summary["not_through_endpoint"]) == (changed, nat), err
    assert changed > 0 and nat > 0 and code == 1  # someone loses access
