"""How close `vpce rollout` declares convergence to the lab's truth: declared minus true, over N runs per direction.

A lab with the issue's 6-12 s propagation windows, no config (the lab's workloads are the probes), poll 2 s. Each
run writes a tightening change (sqs only for environment=dev) then a loosening one (back to the default) and
compares the summary's `converged_at` with `/lab-api/propagation`'s `fully_propagated_at`. Prints one JSON line;
the target is 0 <= declared - true <= 3 poll intervals on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

POLL = 2.0
DEV_ONLY = (
    '{"Version": "2012-10-17", "Statement": ['
    '{"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},'
    '{"Sid": "DevOnly", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*",'
    ' "Condition": {"StringNotEquals": {"aws:PrincipalTag/environment": "dev"}}}]}'
)


def rollout(ready_path: str, endpoint: str, policy: Path, state: str) -> dict[str, Any]:
    """One `vpce rollout` in a child process; its summary line."""
    cmd = [sys.executable, "-m", "vpce_console", "rollout", "--lab-ready", ready_path, "--endpoint", endpoint]
    cmd += ["--policy", str(policy), "--confirm", endpoint, "--allow-write", "--force-lint", "--poll", str(POLL)]
    cmd += ["--format", "json"]
    done = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "XDG_STATE_HOME": state}, timeout=300, check=False
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def truth(ready: dict[str, Any], endpoint: str) -> float:
    """The lab's true full-propagation time of the endpoint's last change."""
    with urllib.request.urlopen(ready["endpoint_url"] + "/lab-api/propagation", timeout=10) as answer:
        return float(json.loads(answer.read())["endpoints"][endpoint]["fully_propagated_at"])


def stats(values: list[float]) -> dict[str, Any]:
    """min / median / max / all of declared-minus-true, in seconds."""
    if not values:
        return {"runs": 0}
    return {
        "runs": len(values),
        "min": round(min(values), 2),
        "median": round(statistics.median(values), 2),
        "max": round(max(values), 2),
        "within_3_polls": sum(1 for v in values if 0.0 <= v <= 3 * POLL),
        "before_truth": sum(1 for v in values if v < 0.0),
        "values": [round(v, 2) for v in values],
    }


def main() -> None:
    """Run the benchmark and print one JSON line."""
    from vpce_console.lab.child import start_lab_child

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    handle = start_lab_child(scale="demo", seed=31, propagation="6:12", traffic=0)
    try:
        ready = dict(handle.ready)
        with tempfile.TemporaryDirectory(prefix="bench-convergence-") as folder:
            ready_path = Path(folder) / "ready.json"
            ready_path.write_text(json.dumps(ready))
            endpoint = ready["hub"]["endpoints"]["sqs"]
            tight, loose = Path(folder) / "tight.json", Path(folder) / "loose.json"
            tight.write_text(DEV_ONLY)
            loose.write_text('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}')
            late: dict[str, list[float]] = {"tightening": [], "loosening": []}
            statuses: list[str] = []
            started = time.monotonic()
            for _ in range(args.runs):
                for name, policy in (("tightening", tight), ("loosening", loose)):
                    summary = rollout(str(ready_path), endpoint, policy, str(Path(folder) / "state"))
                    statuses.append(summary["status"])
                    if summary["status"] == "converged":
                        late[name].append(summary["converged_at"] - truth(ready, endpoint))
    finally:
        handle.stop()
    print(
        json.dumps(
            {
                "benchmark": "convergence",
                "propagation": "6:12",
                "poll_seconds": POLL,
                "declared_minus_true_seconds": {k: stats(v) for k, v in late.items()},
                "not_converged": sum(1 for s in statuses if s != "converged"),
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
