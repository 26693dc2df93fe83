"""Evaluation throughput for a compiled 4-statement endpoint policy (target >= 25,000 requests/s).

Prints one JSON line: requests_per_s, statements, requests, p99 µs per request, and the decision mix.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from vpce_console.policy.evaluator import compile_policy
from vpce_console.policy.persona_file import load_persona_file
from vpce_console.policy.personas import persona_request

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowOrgToOrgResources",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["sqs:*", "kms:Decrypt", "kms:GenerateDataKey*", "secretsmanager:GetSecretValue"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalOrgID": "o-exampleorg1", "aws:ResourceOrgID": "${aws:PrincipalOrgID}"}
            },
        },
        {
            "Sid": "AllowAWSServices",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}},
        },
        {
            "Sid": "DenyOutsideSpokeCidrs",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "NotIpAddressIfExists": {"aws:VpcSourceIp": ["10.20.0.0/16", "10.30.0.0/16", "10.40.0.0/16"]},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        },
        {
            "Sid": "DenyProdTagsFromNonProd",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:Delete*",
            "Resource": "arn:aws:sqs:*:*:prod-*",
            "Condition": {
                "StringNotLike": {"aws:PrincipalTag/environment": ["prod*"]},
                "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-exampleorg1/*"]},
            },
        },
    ],
}

ACTIONS = ("sqs:SendMessage", "sqs:DeleteQueue", "kms:Decrypt", "logs:PutLogEvents")
RESOURCES = ("arn:aws:sqs:us-east-1:111122223333:prod-orders", "arn:aws:sqs:us-east-1:111122223333:dev-q", "*")


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    persona_file = load_persona_file((root / "examples" / "personas.yaml").read_text())
    assert persona_file.hub is not None
    requests = [
        persona_request(p, persona_file.hub, a, r, resource_org_id="o-exampleorg1")
        for p in persona_file.personas
        for a in ACTIONS
        for r in RESOURCES
    ]
    compiled = compile_policy(POLICY)
    for request in requests:  # warm regex caches
        compiled.evaluate(request)
    # Five timed batches; like timeit we report the fastest (least disturbed by other processes) and the median.
    batch_rounds = max(1, 12_000 // len(requests))
    batch_times: list[float] = []
    cpu_start = time.process_time()
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(batch_rounds):
            for request in requests:
                compiled.evaluate(request)
        batch_times.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu_start
    per_batch = batch_rounds * len(requests)
    total = 5 * per_batch
    batch_times.sort()
    mix: dict[str, int] = {}
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(20):
        for request in requests:
            t0 = clock()
            decision = compiled.evaluate(request)
            samples.append((clock() - t0) / 1000)
            mix[decision.kind] = mix.get(decision.kind, 0) + 1
    samples.sort()
    print(
        json.dumps(
            {
                "benchmark": "evaluate",
                "requests_per_s": round(per_batch / batch_times[0]),
                "requests_per_s_median": round(per_batch / batch_times[2]),
                "requests_per_cpu_s": round(total / cpu) if cpu > 0 else None,
                "statements": len(POLICY["Statement"]),
                "requests": total,
                "p50_us": round(samples[len(samples) // 2], 1),
                "p99_us": round(samples[int(len(samples) * 0.99)], 1),
                "decisions": mix,
                "target_requests_per_s": 25_000,
            }
        )
    )


if __name__ == "__main__":
    main()
