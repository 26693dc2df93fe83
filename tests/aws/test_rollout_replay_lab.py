"""Issue 14 through the real CLI: `vpce rollout` replays the draft first, probes as the heaviest observed callers it
can act as, and after the watch sorts the endpoint's live denials against the prediction.

A lab of this module's own (it writes): demo scale with its week of trail history, traffic off, 2-4 s
propagation windows, no probe role configured — the probes act as the lab's workloads (their keys are in the
ready-file), the way `vpce rollout` runs on a lab with no config.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from tests.aws.labkit import PROBE_ROLE, deployed, own_lab

from vpce_console.cli import main

pytestmark = [pytest.mark.lab, pytest.mark.slow]

DEFAULT = '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
FAST = ("--poll", "0.5", "--samples", "2", "--timeout", "90")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with own_lab(tmp_path_factory.mktemp("rollout-replay-lab"), seed=7, propagation="2:4", probe_config=False) as lab:
        yield lab


@pytest.fixture
def vpce(lab: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the real CLI in this process against the module's lab; (exit code, stdout, stderr)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(lab["folder"] / "cache"))  # one trail sync for the module
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["--lab-ready", lab["ready_path"], "--config", lab["config"], *args])
        return code, out.getvalue(), err.getvalue()

    return run


def shut_out(account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                {
                    "Sid": "ShutOut",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": account}},
                },
            ],
        },
        indent=2,
    )


def events(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def restore(lab: dict[str, Any], vpce: Any, tmp_path: Path) -> None:
    """Put the default document back (the next test starts from it) and wait until it is in force."""
    endpoint = lab["endpoint"]
    if json.loads(deployed(lab["ready"], endpoint)) == json.loads(DEFAULT):
        return
    path = tmp_path / "default.json"
    path.write_text(DEFAULT)
    code, _, err = vpce(
        "rollout", "--endpoint", endpoint, "--policy", str(path), "--confirm", endpoint, "--allow-write",
        "--no-trail", *FAST,
    )  # fmt: skip
    assert code in (0, 3), err  # 3: only the hub's own calls changed, and no workload of the lab is in the hub


def test_a_draft_that_shuts_out_a_heavy_observed_caller_is_watched_by_a_probe_acting_as_that_caller(
    lab: dict[str, Any], vpce: Any, tmp_path: Path
) -> None:
    """The heaviest caller of the week that a lab workload can act as (same account and VPC; AWS redacted the
    caller to its account) is shut out by the draft: the plan lists a probe acting as that caller, making the read
    call it made, the watch rounds run it until its streak converges, and its denials are no surprise."""
    ready, endpoint = lab["ready"], lab["endpoint"]
    path = tmp_path / "default.json"
    path.write_text(DEFAULT)
    code, out, err = vpce("replay", "--endpoint", endpoint, "--policy", str(path), "--format", "json")
    assert code == 0, err
    workloads = {(p["account_id"], p["vpc_id"]) for p in ready["personas"] if p.get("vpc_id")}
    hub = ready["hub"]["account_id"]
    heavy = next(
        c
        for c in json.loads(out)["callers"]
        if c["redacted"] and c["account"] != hub and (c["account"], c["vpc"]) in workloads
    )
    at_its_address = [p["name"] for p in ready["personas"] if p.get("private_ip") == heavy["source_ip"]]
    same_place = [
        p["name"] for p in ready["personas"] if (p["account_id"], p.get("vpc_id")) == (heavy["account"], heavy["vpc"])
    ]
    draft = tmp_path / "draft.json"
    draft.write_text(shut_out(heavy["account"]))

    code, out, err = vpce(
        "rollout", "--endpoint", endpoint, "--policy", str(draft), "--confirm", endpoint, "--allow-write",
        "--format", "json", *FAST,
    )  # fmt: skip
    try:
        assert code == 0, err + out
        stream = events(out)
        replay = next(e for e in stream if e["event"] == "replay")
        assert replay["state"] == "ready" and replay["newly_denied_accounts"] == [heavy["account"]]
        plan = next(e for e in stream if e["event"] == "plan")
        observed = [p for p in plan["probes_denied"] if p["observed"]]
        mine = next(p for p in observed if p["observed"] == f"{heavy['account']} {heavy['vpc']}")
        assert mine["who"] in (at_its_address or same_place) and mine["observed_calls"] == heavy["calls"]
        probeable = {"sqs:ListQueues", "sqs:GetQueueAttributes"}
        assert mine["action"] == next(a["action"] for a in heavy["actions"] if a["action"] in probeable)
        assert (mine["before"], mine["after"]) == ("allow", "explicit_deny")
        watched = next(e for e in stream if e["event"] == "probes")
        assert mine["probe_id"] in {p["probe_id"] for p in watched["probes"]}
        rounds = [e for e in stream if e["event"] == "round"]
        last = {p["probe_id"]: p for p in rounds[-1]["probes"]}
        assert last[mine["probe_id"]]["streak"] >= 3 and last[mine["probe_id"]]["new"] > 0
        summary = stream[-1]
        assert summary["event"] == "summary" and summary["status"] == "converged"
        live = next(e for e in stream if e["event"] == "live_denials")
        assert live["compared"] and live["unpredicted"] == 0 and live["probes"] + live["predicted"] > 0, live
        assert summary["unpredicted_denials"] == 0
    finally:
        restore(lab, vpce, tmp_path)


def test_the_text_plan_says_which_observed_caller_a_probe_acts_as(
    lab: dict[str, Any], vpce: Any, tmp_path: Path
) -> None:
    """You should see the replay line first, then in the plan "probe acts as observed caller … (N calls/7d)"."""
    endpoint = lab["endpoint"]
    incident = lab["ready"]["trail"]["history"]["incident"]["account_id"]
    draft = tmp_path / "draft.json"
    draft.write_text(shut_out(incident))
    code, out, err = vpce(
        "rollout", "--endpoint", endpoint, "--policy", str(draft), "--confirm", endpoint, "--allow-write", *FAST
    )
    try:
        assert code == 0, err + out
        lines = out.splitlines()
        observed = next(i for i, line in enumerate(lines) if line.startswith("Observed: "))
        assert "this draft would have denied" in lines[observed] and "account(s) in the last 7 days" in lines[observed]
        probes = [i for i, line in enumerate(lines) if "probe acts as observed caller" in line]
        assert probes and all(i > observed for i in probes), out
        assert " calls/7d)" in lines[probes[0]] and lines[probes[0] + 1].startswith("    as ")
        assert any(line.startswith("denials   since the write: ") and "0 unpredicted" in line for line in lines), out
    finally:
        restore(lab, vpce, tmp_path)


def test_without_a_trail_it_says_so_and_require_replay_refuses(lab: dict[str, Any], vpce: Any, tmp_path: Path) -> None:
    endpoint = lab["endpoint"]
    before = deployed(lab["ready"], endpoint)
    draft = tmp_path / "draft.json"
    draft.write_text(shut_out("999999999999"))
    args = ("rollout", "--endpoint", endpoint, "--policy", str(draft), "--confirm", endpoint, "--allow-write")
    code, out, err = vpce(*args, "--no-trail", "--require-replay")
    assert code == 1, err
    assert "Observed: not replayed: --no-trail (nothing checked against real calls)" in out
    assert "REFUSED   --require-replay: not replayed: --no-trail" in out
    assert deployed(lab["ready"], endpoint) == before, "nothing written"


def test_an_unpredicted_denial_during_the_watch_is_a_surprise_and_exit_1(
    lab: dict[str, Any], vpce: Any, tmp_path: Path
) -> None:
    """The draft denies sqs:ListQueues to the hub account; the week holds no ListQueues, so the replay predicts
    none. While the watch settles, a hub role absent from the history lists queues: that denial — and only it —
    is unpredicted, printed as a surprise worth a rollback, and the rollout exits 1 although it converged."""
    from tests.functional.test_rollout_surprises import list_queues_as_new_role, no_hub_listing

    ready, endpoint = lab["ready"], lab["endpoint"]
    hub = ready["hub"]["account_id"]
    draft = tmp_path / "draft.json"
    draft.write_text(no_hub_listing(hub))
    config = tmp_path / "config.yaml"  # the hub's probe role: the only identity that can see a hub-only change
    config.write_text(f"probes:\n  - name: probe\n    role_arn: {PROBE_ROLE.format(hub=hub)}\n")
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(lab["folder"] / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    cmd = [
        sys.executable, "-m", "vpce_console", "--lab-ready", lab["ready_path"], "--config", str(config),
        "rollout", "--endpoint", endpoint, "--policy", str(draft), "--confirm", endpoint, "--allow-write",
        "--format", "json", "--settle", "8", *FAST,
    ]  # fmt: skip
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    answered: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if '"status": "converged"' in line and '"event": "status"' in line and not answered:
                answered.append(list_queues_as_new_role(ready, "quarterly-report"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        code = process.wait(timeout=240)
        reader.join(timeout=30)
        assert process.stderr is not None
        err = process.stderr.read()
        assert answered and answered[0] != "allowed", (answered, err)
        stream = events("".join(lines))
        assert stream[-1]["status"] == "converged", err
        live = next(e for e in stream if e["event"] == "live_denials")
        assert live["unpredicted"] == 1, live
        (surprise,) = live["surprises"]
        assert surprise["action"] == "sqs:ListQueues" and "quarterly-report" in surprise["principal"]
        assert stream[-1]["unpredicted_denials"] == 1
        assert code == 1, "unpredicted denials are problems found, even after a converged rollout"
    finally:
        if process.poll() is None:
            process.kill()
        restore(lab, vpce, tmp_path)


def test_a_replay_that_fails_is_said_and_does_not_block_unless_required(
    lab: dict[str, Any], vpce: Any, tmp_path: Path
) -> None:
    """A trail bucket that does not exist: the replay line says why nothing was replayed and the rollout goes on
    (its watch converges, nothing is compared after it); with --require-replay nothing is written."""
    endpoint = lab["endpoint"]
    incident = lab["ready"]["trail"]["history"]["incident"]["account_id"]
    config = tmp_path / "broken-trail.yaml"
    config.write_text("trail: {bucket: no-such-trail-bucket}\n")
    draft = tmp_path / "draft.json"
    draft.write_text(shut_out(incident))
    args = ("--config", str(config), "rollout", "--endpoint", endpoint, "--policy", str(draft), "--confirm", endpoint)
    before = deployed(lab["ready"], endpoint)
    code, out, err = vpce(*args, "--allow-write", "--require-replay")
    assert code == 1, err
    assert "Observed: not replayed: " in out and "NoSuchBucket" in out, out
    assert "REFUSED   --require-replay: not replayed:" in out
    assert deployed(lab["ready"], endpoint) == before, "nothing written"
    code, out, err = vpce(*args, "--allow-write", "--format", "json", *FAST)
    try:
        stream = events(out)
        replay = next(e for e in stream if e["event"] == "replay")
        assert replay["state"] == "failed" and "NoSuchBucket" in replay["line"], replay
        assert code == 0 and stream[-1]["status"] == "converged", err + out
        live = next(e for e in stream if e["event"] == "live_denials")
        assert live == {**live, "compared": False, "reason": "no replay ran: nothing to compare live denials with"}
        assert stream[-1]["unpredicted_denials"] is None
    finally:
        restore(lab, vpce, tmp_path)
