"""Rollback retry after a crashed or failed rollback restores the document in force before the rolled-back change,
never the document the crashed rollback was removing (real processes, `kill -9` at every step, a real lab)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.aws.labkit import deployed, own_lab, set_faults

pytestmark = [pytest.mark.lab, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A lab of our own: demo scale, instant propagation, no rate limits, traffic off."""
    with own_lab(tmp_path_factory.mktemp("retry-lab"), seed=29, propagation="0:0", no_limits=True) as lab:
        yield lab


_deployed = deployed
_faults = set_faults


def _vpce(lab: dict[str, Any], *args: str, env: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
    cmd = [sys.executable, "-m", "vpce_console", args[0], "--lab-ready", lab["ready_path"], "--config", lab["config"]]
    done = subprocess.run(cmd + list(args[1:]), capture_output=True, text=True, env=env, timeout=120, check=False)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _policy(sid: str) -> str:
    return (
        '{"Version": "2012-10-17", "Statement": [\n'
        ' {"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},\n'
        f' {{"Sid": "{sid}", "Effect": "Deny", "Principal": "*", "Action": "sqs:ListQueues", "Resource": "*",\n'
        '  "Condition": {"StringEquals": {"aws:PrincipalTag/team": "probe"}}}]}\n'
    )


def _rollback(lab: dict[str, Any], endpoint: str, env: dict[str, str], *extra: str) -> tuple[int, list[dict[str, Any]]]:
    args = ["rollback", "--endpoint", endpoint, "--confirm", endpoint, "--allow-write", "--format", "json", *extra]
    code, lines = _vpce(lab, *args, env=env)
    if code == 1 and lines and "stale lease" in lines[-1]["reason"]:  # the killed rollback's lease, typed out
        code, lines = _vpce(lab, *args, "--break-stale-lease", lines[-2]["holder"]["lease_id"], env=env)
    return code, lines


@pytest.mark.parametrize("step", ["journal", "dry_run", "modify", "verify", "unverified"])
def test_rollback_retry_after_a_crash_restores_the_document_before_the_change(
    lab: dict[str, Any], tmp_path: Path, step: str
) -> None:
    ready = lab["ready"]
    endpoint = ready["hub"]["endpoints"]["sqs"]
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    before = _deployed(ready, endpoint)
    policy = tmp_path / "p.json"
    policy.write_text(_policy(f"Change{step.replace('_', '')}"))
    code, lines = _vpce(
        lab,
        "rollout",
        "--endpoint",
        endpoint,
        "--policy",
        str(policy),
        "--confirm",
        endpoint,
        "--allow-write",
        "--poll",
        "0.3",
        "--format",
        "json",
        env=env,
    )
    assert code == 0, lines[-3:]
    assert _deployed(ready, endpoint) == policy.read_text()
    if step == "unverified":  # a failed rollback: written, then the read-back fails
        _faults(ready, "ec2:DescribeVpcEndpoints=5xx#1")
        try:
            code, lines = _rollback(lab, endpoint, env)
        finally:
            _faults(ready, "")
        assert code == 5, lines[-3:]
    else:
        code, lines = _rollback(lab, endpoint, {**env, "VPCE_CRASH_AFTER": step})
        assert code == -9, lines[-3:]
    code, lines = _rollback(lab, endpoint, env)
    assert code == 0, lines[-3:]
    # a retry that still had to write is watched like any rollback (converged); one that found the document already
    # written by the interrupted rollback only closes it (rolled_back, "already restored")
    assert lines[-1]["status"] in ("rolled_back", "converged"), lines[-3:]
    assert _deployed(ready, endpoint) == before, "the retry must restore the document in force before the change"
    history = subprocess.run(
        [sys.executable, "-m", "vpce_console", "history", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert not [c for c in json.loads(history.stdout)["changes"] if c["unfinished"]]
