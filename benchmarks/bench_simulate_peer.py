"""`vpce simulate` against the peer evaluator iam-simulate on the same batch, whole process; prints one JSON line.

The batch: N persona requests (the demo personas x actions x through the endpoint or not) against the 4-statement
endpoint policy of bench_evaluate.py, written as JSON Lines. Ours: `python -m vpce_console simulate --policy P
--requests B --format json` (process start to exit). Peer: a node script that reads the same lines and calls
iam-simulate's `runSimulation` with the policy as the VPC endpoint policy and allow-all identity and resource
policies, one per request (process start to exit).
Decisions are compared (allowed vs denied) and the agreeing ones counted.

iam-simulate is not a dependency: install it outside the repo (`npm install @cloud-copilot/iam-simulate` in a
folder) and pass `--peer DIR` (or set IAM_SIMULATE_DIR). Without it (or without node) the line says so and no
ratio is claimed. Target: ours >= 10x the peer's throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PEER_SCRIPT = r"""
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(process.argv[2] + '/');
const { runSimulation } = require('@cloud-copilot/iam-simulate');
const policy = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const lines = readFileSync(process.argv[4], 'utf8').split('\n').filter(Boolean);
const identity = [{ name: 'all', policy: { Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }];
// the resource side allows everyone, so only the endpoint policy decides (as for `vpce simulate`)
const open = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] };
const out = [];
for (const line of lines) {
  const r = JSON.parse(line);
  const account = (r.principal.match(/::(\d{12}):/) || [null, '999900001111'])[1];
  const ctx = {};
  for (const [k, v] of Object.entries(r.context)) ctx[k] = v;
  const result = await runSimulation({
    request: { principal: r.principal, action: r.action,
      resource: { resource: r.resource, accountId: account }, contextVariables: ctx },
    identityPolicies: identity, serviceControlPolicies: [], resourceControlPolicies: [], resourcePolicy: open,
    vpcEndpointPolicies: [{ name: 'vpce', policy }],
  }, {});
  const overall = result.resultType === 'single'
    ? result.result.analysis?.result : (result.errors ? 'Error' : String(result.resultType));
  out.push(overall);
}
process.stdout.write(JSON.stringify(out));
"""


def batch(n: int) -> list[dict[str, Any]]:
    """N requests cycling over personas x actions x path, as `vpce simulate --requests` reads them."""
    from importlib.util import spec_from_file_location

    from vpce_console.policy.persona_file import load_persona_file
    from vpce_console.policy.personas import persona_request

    spec = spec_from_file_location("bench_evaluate", ROOT / "benchmarks" / "bench_evaluate.py")
    assert spec is not None and spec.loader is not None
    personas = load_persona_file((ROOT / "examples" / "personas.yaml").read_text())
    assert personas.hub is not None
    actions = ["sqs:SendMessage", "sqs:ReceiveMessage", "kms:Decrypt", "secretsmanager:GetSecretValue", "s3:GetObject"]
    resources = {
        "sqs": "arn:aws:sqs:us-east-1:999900001111:orders",
        "kms": "arn:aws:kms:us-east-1:999900001111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "secretsmanager": "arn:aws:secretsmanager:us-east-1:999900001111:secret:db-AbCdEf",
        "s3": "arn:aws:s3:::orders-999900001111/in/file.json",
    }
    base = []
    for persona in personas.personas:
        for action in actions:
            for through in (True, False):
                resource = resources[action.split(":")[0]]
                req = persona_request(persona, personas.hub, action, resource, through_endpoint=through)
                ctx = {k: v for k, v in req.context.items() if v is not None}
                base.append(
                    {"principal": req.principal, "action": req.action, "resource": req.resource, "context": ctx}
                )
    return [base[i % len(base)] for i in range(n)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--peer", default=os.environ.get("IAM_SIMULATE_DIR"), help="folder with node_modules/")
    opts = parser.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_evaluate import POLICY

    work = Path(tempfile.mkdtemp(prefix="vpce-bench-peer-"))
    policy_file = work / "policy.json"
    policy_file.write_text(json.dumps(POLICY))
    requests = batch(opts.requests)
    batch_file = work / "batch.jsonl"
    batch_file.write_text("".join(json.dumps(r) + "\n" for r in requests))
    out: dict[str, Any] = {"bench": "simulate_vs_iam_simulate", "requests": len(requests)}

    started = time.perf_counter()
    ours = subprocess.run(
        [sys.executable, "-m", "vpce_console", "simulate", "--policy", str(policy_file), "--requests", str(batch_file),
         "--format", "json"],
        capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    ours_s = time.perf_counter() - started
    if ours.returncode != 0:
        out["error"] = f"vpce simulate exited {ours.returncode}: {ours.stderr.strip()[:200]}"
        print(json.dumps(out))
        return 1
    decisions = _our_decisions(ours.stdout)
    out["vpce_seconds"] = round(ours_s, 3)
    out["vpce_requests_per_s"] = round(len(requests) / ours_s)

    node = shutil.which("node")
    peer_dir = Path(opts.peer) if opts.peer else None
    if node is None or peer_dir is None or not (peer_dir / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        out["skipped"] = (
            "iam-simulate not found: npm install @cloud-copilot/iam-simulate in a folder outside the repo and pass "
            "--peer DIR (or IAM_SIMULATE_DIR); no ratio claimed"
        )
        print(json.dumps(out))
        return 0
    script = work / "peer.mjs"
    script.write_text(PEER_SCRIPT)
    started = time.perf_counter()
    peer = subprocess.run(
        [node, str(script), str(peer_dir.resolve() / "node_modules"), str(policy_file), str(batch_file)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    peer_s = time.perf_counter() - started
    if peer.returncode != 0:
        out["error"] = f"iam-simulate exited {peer.returncode}: {peer.stderr.strip()[:300]}"
        print(json.dumps(out))
        return 1
    theirs = json.loads(peer.stdout)
    out["peer_seconds"] = round(peer_s, 3)
    out["peer_requests_per_s"] = round(len(requests) / peer_s)
    out["ratio"] = round(peer_s / ours_s, 2)
    out["target_ratio"] = 10
    agree = sum(1 for a, b in zip(decisions, theirs, strict=True) if a == (b == "Allowed"))
    out["decisions_agree"] = agree
    out["peer_outcomes"] = {k: theirs.count(k) for k in sorted(set(theirs))}
    print(json.dumps(out))
    return 0


def _our_decisions(stdout: str) -> list[bool]:
    text = stdout.strip()
    try:
        doc = json.loads(text)
        items = doc if isinstance(doc, list) else doc.get("results", [])
    except json.JSONDecodeError:
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [item.get("decision") == "allow" for item in items]


if __name__ == "__main__":
    raise SystemExit(main())
