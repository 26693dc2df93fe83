"""Impact matrix cost: the demo personas × 10 actions × 3 resources, deployed vs draft (the policy editor's pane).

Prints one JSON line: cells, milliseconds per full matrix (best of 5 and median), cells per second.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from vpce_console.policy.evaluator import compile_policy
from vpce_console.policy.impact_matrix import impact
from vpce_console.policy.persona_file import load_persona_file

ACTIONS = (
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "secretsmanager:GetSecretValue",
    "logs:PutLogEvents",
    "s3:GetObject",
    "sts:GetCallerIdentity",
)
RESOURCES = ("*", "arn:aws:sqs:us-east-1:999900001111:orders", "arn:aws:s3:::shared-artifacts/build.zip")


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    persona_file = load_persona_file((root / "examples" / "personas.yaml").read_text())
    assert persona_file.hub is not None
    deployed = compile_policy((root / "examples" / "policy-deployed.json").read_text())
    draft = compile_policy((root / "examples" / "policy-draft.json").read_text())
    args = (deployed, draft, persona_file.personas, ACTIONS, RESOURCES, persona_file.hub)
    result = impact(*args)  # warm caches
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        impact(*args)
        timings.append(time.perf_counter() - start)
    timings.sort()
    cells = len(result.cells)
    print(
        json.dumps(
            {
                "benchmark": "impact",
                "cells": cells,
                "changed": len(result.changed_cells),
                "ms_per_matrix": round(timings[0] * 1000, 2),
                "ms_per_matrix_median": round(timings[2] * 1000, 2),
                "cells_per_s": round(cells / timings[0]),
            }
        )
    )


if __name__ == "__main__":
    main()
