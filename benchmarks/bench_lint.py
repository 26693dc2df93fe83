"""Lint latency for a realistic ~20,000-character endpoint policy (target p99 <= 16 ms); prints one JSON line.

The editor lints on every pause in typing, so the whole lint (parse + every rule) must stay well inside a frame
budget even for a policy near the 20,480-character limit.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from typing import Any

TARGET_CHARS = 20_000
ITERATIONS = 1000
WARMUP = 50
TARGET_P99_MS = 16.0

_ACTIONS = [
    ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
    ["sqs:ChangeMessageVisibility", "sqs:SendMessage*", "sqs:ListQueues"],
    ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
]


def _statement(rng: random.Random, i: int) -> dict[str, Any]:
    """One statement in one of the idioms a real hub policy mixes."""
    kind = i % 6
    account = f"{rng.randrange(10**11, 10**12):012d}"
    cidrs = [f"10.{rng.randrange(0, 255)}.0.0/16" for _ in range(rng.randint(2, 6))]
    vpcs = [f"vpc-{rng.randrange(16**16):016x}" for _ in range(rng.randint(1, 4))]
    base: dict[str, Any] = {"Sid": f"Statement{i}", "Principal": "*", "Resource": "*"}
    if kind == 0:
        base |= {
            "Effect": "Allow",
            "Action": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5", "aws:ResourceOrgID": "o-a1b2c3d4e5"}},
        }
    elif kind == 1:
        base |= {
            "Effect": "Allow",
            "Action": rng.choice(_ACTIONS),
            "Condition": {
                "Null": {"ec2:SourceInstanceARN": "false"},
                "StringEquals": {"aws:Ec2InstanceSourceVpc": vpcs},
                "IpAddress": {"aws:Ec2InstanceSourcePrivateIPv4": cidrs},
            },
        }
    elif kind == 2:
        base |= {
            "Effect": "Allow",
            "Action": rng.choice(_ACTIONS),
            "Resource": [f"arn:aws:sqs:us-east-1:{account}:queue-{i}-{n}" for n in range(3)],
            "Condition": {"StringEquals": {"aws:PrincipalTag/vpc-id": vpcs, "aws:PrincipalAccount": [account]}},
        }
    elif kind == 3:
        base |= {
            "Effect": "Allow",
            "Action": rng.choice(_ACTIONS),
            "Condition": {
                "IpAddress": {"aws:VpcSourceIp": cidrs},
                "StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"},
            },
        }
    elif kind == 4:
        base |= {
            "Effect": "Allow",
            "Action": rng.choice(_ACTIONS),
            "Condition": {
                "ForAnyValue:StringLike": {
                    "aws:PrincipalOrgPaths": [f"o-a1b2c3d4e5/r-ab12/ou-ab12-{rng.randrange(10**8):08d}/*"]
                },
                "ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{account}:role/workload-{i}-*"]},
            },
        }
    else:
        base |= {
            "Effect": "Deny",
            "Action": "sqs:*",
            "Condition": {
                "StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
                "Bool": {"aws:PrincipalIsAWSService": "false"},
            },
        }
    return base


def realistic_policy(target_chars: int = TARGET_CHARS, seed: int = 7) -> str:
    """A pretty-printed endpoint policy of just under `target_chars` characters."""
    rng = random.Random(seed)
    statements: list[dict[str, Any]] = []
    text = ""
    while True:
        doc = {"Version": "2012-10-17", "Statement": [*statements, _statement(rng, len(statements))]}
        candidate = json.dumps(doc, indent=2)
        if len(candidate) > target_chars:
            return text
        statements.append(json.loads(candidate)["Statement"][-1])
        text = candidate


def _p99(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.99) - 1]


def main() -> int:
    from vpce_console.policy.linter import lint

    text = realistic_policy()
    for _ in range(WARMUP):
        lint(text)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(ITERATIONS):
        cpu_start = time.thread_time()
        start = time.perf_counter()
        findings = lint(text)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - cpu_start) * 1000)
    p99 = _p99(wall)
    result = {
        "benchmark": "lint",
        "chars": len(text),
        "findings": len(findings),
        "iterations": ITERATIONS,
        "p50_ms": round(statistics.median(wall), 3),
        "p99_ms": round(p99, 3),
        "max_ms": round(max(wall), 3),
        "cpu_p50_ms": round(statistics.median(cpu), 3),
        "cpu_p99_ms": round(_p99(cpu), 3),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "target_p99_ms": TARGET_P99_MS,
        "ok": p99 <= TARGET_P99_MS,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
