"""One writer per endpoint, honest endings after a write: real `vpce rollout` processes against a real lab.

The lease is an SSM parameter created with `Overwrite=False` through the lab (moto behind our middleware, every
moto call serialized under the lab's lock, so the conditional create is atomic as in AWS). Each racer gets its own
state dir, as two operators on two bastions would, so only the hub-account lease can stop the second writer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.aws.labkit import deployed, operator_client, own_lab, set_faults

pytestmark = [pytest.mark.lab, pytest.mark.slow]

POLL = 0.3
RACES = 20


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A lab of our own: demo scale, instant propagation, no rate limits, traffic off."""
    with own_lab(tmp_path_factory.mktemp("lease-lab"), seed=23, propagation="0:0", no_limits=True) as lab:
        yield lab


_client = operator_client
_deployed = deployed
_faults = set_faults


def _policy(action: str, sid: str) -> str:
    """Allow all but `action` for sessions tagged team=probe (the probe role), so a probe sees the change."""
    return (
        '{"Version": "2012-10-17", "Statement": [\n'
        ' {"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},\n'
        f' {{"Sid": "{sid}", "Effect": "Deny", "Principal": "*", "Action": "{action}", "Resource": "*",\n'
        '  "Condition": {"StringEquals": {"aws:PrincipalTag/team": "probe"}}}]}\n'
    )


def _cmd(lab: dict[str, Any], *args: str) -> list[str]:
    cmd = [sys.executable, "-m", "vpce_console", args[0], "--lab-ready", lab["ready_path"], "--config", lab["config"]]
    return cmd + list(args[1:])


def _rollout(endpoint: str, policy: str, *extra: str) -> list[str]:
    return [
        "rollout",
        "--endpoint",
        endpoint,
        "--policy",
        policy,
        "--confirm",
        endpoint,
        "--allow-write",
        "--poll",
        str(POLL),
        "--format",
        "json",
        # these tests are about the lease and the watch: the replay before the plan (its own tests are in
        # test_rollout_replay_lab.py) would take the injected faults and shift when the two racers reach the lease
        "--no-trail",
        *extra,
    ]


def _lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _env(state: Path) -> dict[str, str]:
    return {**os.environ, "XDG_STATE_HOME": str(state)}


def test_twenty_races_one_writer_each(lab: dict[str, Any], tmp_path: Path) -> None:
    """Two `vpce rollout --base same.json` started together, 20 times: exactly one writes, the other is refused
    naming the holder, and the deployed document is the writer's (no change silently lost)."""
    ready = lab["ready"]
    endpoint = ready["hub"]["endpoints"]["sqs"]
    operator = ready["operator"]
    refusals = 0
    for race in range(RACES):
        base = tmp_path / f"base{race}.json"
        base.write_bytes(_deployed(ready, endpoint).encode())
        paths = []
        for side in ("a", "b"):
            # every race flips what the probe role sees (so the winner's watch can converge); the two sides differ
            # only in a statement for a tag nobody has
            action = "sqs:ListQueues" if race % 2 == 0 else "sqs:PurgeQueue"
            text = _policy(action, f"Race{race}").replace(
                "]}\n",
                f',\n {{"Sid": "Side{side}", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", '
                f'"Resource": "*", "Condition": {{"StringEquals": {{"aws:PrincipalTag/team": "nobody-{side}"}}}}'
                "}]}\n",
            )
            path = tmp_path / f"{side}{race}.json"
            path.write_text(text)
            paths.append(path)
        procs = [
            subprocess.Popen(
                _cmd(
                    lab,
                    *_rollout(
                        endpoint, str(p), "--base", str(base), "--settle", "1.5", "--timeout", "30", "--samples", "2"
                    ),
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(tmp_path / f"state-{race}-{i}"),
            )
            for i, p in enumerate(paths)
        ]
        results = [(proc.communicate(timeout=120), proc.returncode) for proc in procs]
        outputs = [(_lines(out), code, err) for (out, err), code in results]
        writers = [i for i, (lines, _, _) in enumerate(outputs) if any(e["event"] == "modify" for e in lines)]
        assert len(writers) == 1, (race, [o[0][-1:] for o in outputs], [o[2][-500:] for o in outputs])
        winner, loser = writers[0], 1 - writers[0]
        w_lines, w_code, _ = outputs[winner]
        l_lines, l_code, l_err = outputs[loser]
        assert (w_code, w_lines[-1]["status"]) == (0, "converged"), (
            race,
            [e for e in w_lines if e["event"] in ("probes", "round", "plan")][:4],
        )
        assert l_code == 1 and l_lines[-1]["status"] == "refused", (l_lines[-3:], l_err[-500:])
        if "is being changed by" in l_lines[-1]["reason"]:
            refusals += 1
            assert operator["access_key_id"] not in l_lines[-1]["reason"]
            assert ":user/" in l_lines[-1]["reason"] or ":role/" in l_lines[-1]["reason"]
        assert _deployed(ready, endpoint) == paths[winner].read_text()
    # a loser that starts after the winner released is refused by --base instead; the lease must do most of the work
    assert refusals >= RACES // 2, refusals


def test_same_bastion_second_process_is_stopped_by_the_local_lock(lab: dict[str, Any], tmp_path: Path) -> None:
    """Two processes sharing one state dir: the second is refused by the local lock, naming the first's pid."""
    from vpce_console.services.lease import _LocalLock

    endpoint = lab["ready"]["hub"]["endpoints"]["kms"]
    state = tmp_path / "state"
    lock = _LocalLock(endpoint, state / "vpce-console")
    lock.acquire()
    try:
        policy = tmp_path / "p.json"
        policy.write_text(_policy("kms:ListKeys", "Local"))
        done = subprocess.run(
            _cmd(lab, *_rollout(endpoint, str(policy))), capture_output=True, text=True, env=_env(state), timeout=120
        )
    finally:
        lock.release()
    lines = _lines(done.stdout)
    assert done.returncode == 1 and lines[-1]["status"] == "refused"
    assert f"(pid {os.getpid()})" in lines[-1]["reason"]
    assert not any(e["event"] in ("journal", "modify") for e in lines)


def test_stale_lease_is_broken_only_with_its_id_typed(lab: dict[str, Any], tmp_path: Path) -> None:
    """An expired lease of a dead holder: refused naming its id; a wrong id is refused; the right one breaks it."""
    from vpce_console.services.lease import LeaseInfo

    ready = lab["ready"]
    endpoint = ready["hub"]["endpoints"]["logs"]
    stale = LeaseInfo("dead0lease01", endpoint, "arn:aws:iam::1:user/gone", "other-host", 4242, 1.0, 2.0, "j-1")
    _client(ready, "ssm").put_parameter(
        Name=f"/vpce-console/lease/{endpoint}", Value=stale.to_value(), Type="String", Overwrite=False
    )
    policy = tmp_path / "p.json"
    policy.write_text(_policy("logs:DescribeLogGroups", "Stale"))
    env = _env(tmp_path / "s")
    first = subprocess.run(_cmd(lab, *_rollout(endpoint, str(policy))), capture_output=True, text=True, env=env)
    assert first.returncode == 1
    assert "stale lease" in _lines(first.stdout)[-1]["reason"] and "dead0lease01" in _lines(first.stdout)[-1]["reason"]
    wrong = subprocess.run(
        _cmd(lab, *_rollout(endpoint, str(policy), "--break-stale-lease", "nope")),
        capture_output=True,
        text=True,
        env=env,
    )
    assert wrong.returncode == 1 and "stale lease" in _lines(wrong.stdout)[-1]["reason"]
    broken = subprocess.run(
        _cmd(lab, *_rollout(endpoint, str(policy), "--break-stale-lease", "dead0lease01")),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    lines = _lines(broken.stdout)
    assert broken.returncode == 0, (lines[-3:], broken.stderr[-500:])
    assert any(e["event"] == "lease" and e["action"] == "broken" for e in lines)
    with pytest.raises(Exception, match="ParameterNotFound"):  # released at the end
        _client(ready, "ssm").get_parameter(Name=f"/vpce-console/lease/{endpoint}")


def test_a_live_lease_is_never_broken(lab: dict[str, Any], tmp_path: Path) -> None:
    from vpce_console.services.lease import LeaseInfo

    ready = lab["ready"]
    endpoint = ready["hub"]["endpoints"]["ssm"]
    now = time.time()
    live = LeaseInfo("live0lease01", endpoint, "arn:aws:iam::1:user/busy", "h", 1, now, now + 600)
    ssm = _client(ready, "ssm")
    ssm.put_parameter(Name=f"/vpce-console/lease/{endpoint}", Value=live.to_value(), Type="String", Overwrite=False)
    try:
        policy = tmp_path / "p.json"
        policy.write_text(_policy("ssm:DescribeParameters", "Live"))
        done = subprocess.run(
            _cmd(lab, *_rollout(endpoint, str(policy), "--break-stale-lease", "live0lease01")),
            capture_output=True,
            text=True,
            env=_env(tmp_path / "s"),
        )
        assert done.returncode == 1
        assert "is being changed by arn:aws:iam::1:user/busy" in _lines(done.stdout)[-1]["reason"]
    finally:
        ssm.delete_parameter(Name=f"/vpce-console/lease/{endpoint}")


def test_superseded_watch_ends_superseded_naming_the_writer(lab: dict[str, Any], tmp_path: Path) -> None:
    """Another writer changes the endpoint while the watch runs: SUPERSEDED (exit 4), with the diff and the writer."""
    ready = lab["ready"]
    endpoint = ready["hub"]["endpoints"]["sts"]
    policy = tmp_path / "p.json"
    policy.write_text(_policy("sts:GetCallerIdentity", "Mine"))
    proc = subprocess.Popen(
        _cmd(lab, *_rollout(endpoint, str(policy), "--settle", "60", "--timeout", "90")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path / "s"),
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if '"event": "round"' in line:
            break
    other = _policy("sts:GetSessionToken", "Theirs")
    _client(ready, "ec2").modify_vpc_endpoint(VpcEndpointId=endpoint, PolicyDocument=other)
    out, err = proc.communicate(timeout=120)
    lines = _lines("".join(seen) + out)
    assert proc.returncode == 4, (lines[-3:], err[-500:])
    assert lines[-1]["status"] == "superseded"
    event = next(e for e in lines if e["event"] == "superseded")
    assert "Theirs" in event["diff"] and "vpce-operator" in event["writer"]
    assert not any(e["event"] == "status" and e["status"] == "converged" for e in lines[-3:])


def test_written_but_unverified_then_resume_verifies_and_watches(lab: dict[str, Any], tmp_path: Path) -> None:
    """The read after ModifyVpcEndpoint fails (5xx on every retry): exit 5, journal `verify unverified`; `--resume`
    then verifies and watches it to CONVERGED."""
    ready = lab["ready"]
    endpoint = ready["hub"]["endpoints"]["secretsmanager"]
    policy = tmp_path / "p.json"
    policy.write_text(_policy("secretsmanager:ListSecrets", "Unverified"))
    env = _env(tmp_path / "s")
    _faults(ready, "ec2:DescribeVpcEndpoints=5xx#1")  # the plan's read passes, the read-back fails
    try:
        done = subprocess.run(
            _cmd(lab, *_rollout(endpoint, str(policy))), capture_output=True, text=True, env=env, timeout=120
        )
    finally:
        _faults(ready, "")
    lines = _lines(done.stdout)
    assert done.returncode == 5, (lines[-3:], done.stderr[-500:])
    assert lines[-1]["status"] == "written_unverified" and "WRITTEN" in lines[-1]["reason"]
    assert any(e["event"] == "modify" for e in lines)
    assert _deployed(ready, endpoint) == policy.read_text()
    history = subprocess.run(_cmd(lab, "history", "--format", "json"), capture_output=True, text=True, env=env)
    entry = json.loads(history.stdout)["changes"][-1]
    assert entry["unfinished"] and [s["outcome"] for s in entry["steps"] if s["step"] == "verify"] == ["unverified"]
    # --resume only watches: it takes no lease, so another operator's live lease does not stop it
    from vpce_console.services.lease import LeaseInfo

    now = time.time()
    other = LeaseInfo("other0lease1", endpoint, "arn:aws:iam::1:user/carol", "h", 1, now, now + 600)
    _client(ready, "ssm").put_parameter(
        Name=f"/vpce-console/lease/{endpoint}", Value=other.to_value(), Type="String", Overwrite=False
    )
    resumed = subprocess.run(
        _cmd(lab, "rollout", "--endpoint", endpoint, "--resume", "--poll", str(POLL), "--format", "json"),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert resumed.returncode == 0, (_lines(resumed.stdout)[-3:], resumed.stderr[-500:])
    assert _lines(resumed.stdout)[-1]["status"] == "converged"
    assert not any(e["event"] == "lease" for e in _lines(resumed.stdout))
    stored = _client(ready, "ssm").get_parameter(Name=f"/vpce-console/lease/{endpoint}")["Parameter"]["Value"]
    assert json.loads(stored)["lease_id"] == "other0lease1", "a read-only watch never touches another's lease"
    _client(ready, "ssm").delete_parameter(Name=f"/vpce-console/lease/{endpoint}")


def test_endpoint_unreachable_during_the_watch_is_said(lab: dict[str, Any], tmp_path: Path) -> None:
    """Every read fails once the write is verified: the rollout ends UNREACHABLE (exit 5), not a plain time-out."""
    ready = lab["ready"]
    endpoint = ready["hub"]["endpoints"]["ecr.api"]
    policy = tmp_path / "p.json"
    policy.write_text(_policy("ecr:DescribeRepositories", "Gone"))
    _faults(ready, "ec2:DescribeVpcEndpoints=5xx#2,sts=5xx#2,ecr=5xx")
    try:
        done = subprocess.run(
            _cmd(lab, *_rollout(endpoint, str(policy), "--timeout", "3")),
            capture_output=True,
            text=True,
            env=_env(tmp_path / "s"),
            timeout=120,
        )
    finally:
        _faults(ready, "")
    lines = _lines(done.stdout)
    assert done.returncode == 5, (lines[-3:], done.stderr[-500:])
    assert lines[-1]["status"] == "unreachable" and "unreachable" in lines[-1]["reason"]
    assert any(e["event"] == "unreachable" for e in lines)
