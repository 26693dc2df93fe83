"""`vpce replay` at org scale: a week of the org trail (over 1,000,000 records) replayed after the sync; one JSON line.

Starts an org-scale lab with 7 days of history (the same lab and history as bench_trail.py), syncs the window
into a fresh cache (reported, not part of the target), then times what replay does after the sync:
1. DuckDB reads every object (cold table build), 2. the one shape query (aggregation in the engine),
3. three-valued evaluation of every distinct shape against the draft and the version in force.
`after_sync_seconds` (1+2+3, target <= 10 s) and `warm_seconds` (2+3 with the table built) are reported.
Options: --days N (default 7), --scale demo|org (default org), --seed N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def draft_for(account: str) -> str:
    """The draft: everything allowed except one spoke account (a realistic 'shut one out' change)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": account}},
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:DeleteMessage",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "platform"}},
                },
            ],
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--scale", default="org")
    parser.add_argument("--seed", type=int, default=11)
    opts = parser.parse_args()

    from vpce_console.aws.logs import lookup_policy_changes
    from vpce_console.aws.session import AwsGateway
    from vpce_console.config import config_from_dict
    from vpce_console.connect import resolve_target
    from vpce_console.lab.child import start_lab_child
    from vpce_console.policy.partial import compile_partial
    from vpce_console.readyfile import parse_ready_file
    from vpce_console.services.replay import replay_shapes
    from vpce_console.services.replay_model import Shape, versions_in_window
    from vpce_console.services.trail import LocalTrail
    from vpce_console.services.trail_sql import ShapeQuestion, render_shapes

    started = time.monotonic()
    handle = start_lab_child(
        scale=opts.scale,
        seed=opts.seed,
        traffic=0,
        no_limits=True,
        extra_args=["--history", f"{opts.days}d"],
        timeout=900,
    )
    try:
        lab_seconds = time.monotonic() - started
        ready: dict[str, Any] = dict(handle.ready)
        history = ready["trail"]["history"]
        lab = parse_ready_file(ready, str(handle.ready_file))
        config = config_from_dict({}, defaults=lab.config_defaults)
        target = resolve_target(argparse.Namespace(), config, lab)
        endpoint = ready["hub"]["endpoints"]["sqs"]
        hub_vpc = ready["hub"]["vpc_id"]
        accounts = list(config.trail.accounts)
        regions = list(config.trail.regions)
        now = datetime.now(UTC)
        since = now - timedelta(days=opts.days, minutes=10)
        spoke = next(s["account_id"] for s in ready["spokes"] if s["account_id"] != ready["hub"]["account_id"])
        draft = compile_partial(draft_for(spoke))
        cache = Path(tempfile.mkdtemp(prefix="vpce-bench-replay-"))

        async def run() -> dict[str, Any]:
            out: dict[str, Any] = {}
            async with AwsGateway(target, config) as gateway:
                events = await lookup_policy_changes(
                    gateway, start=now - timedelta(days=90), end=now, endpoint_id=endpoint
                )
                changes = [(e.event_time, None, e.policy_text, "cloudtrail") for e in events if e.error_code is None]
                versions = versions_in_window(None, since, changes)
                local = LocalTrail(config.trail, cache)
                objects, report = await local.sync(gateway, since, accounts=accounts, regions=regions)
                out["sync"] = report.to_json()
                boundaries = tuple(v.start for v in versions[1:] if v.start is not None)
                question = ShapeQuestion(endpoint, since, boundaries, tuple(accounts), tuple(regions))
                sql = render_shapes(question, "duckdb")

                t0 = time.monotonic()
                local.ingest(objects)
                t1 = time.monotonic()
                rows = local.db.execute(sql).fetchall()
                t2 = time.monotonic()
                shapes = [Shape.from_row(r) for r in rows]
                result = replay_shapes(
                    shapes, versions, draft, endpoint_id=endpoint, endpoint_vpc=hub_vpc,
                    facts=config.replay.context_map(), since=since,
                )  # fmt: skip
                t3 = time.monotonic()
                out.update(
                    ingest_seconds=round(t1 - t0, 3),
                    query_seconds=round(t2 - t1, 3),
                    evaluate_seconds=round(t3 - t2, 3),
                    # each shape is evaluated twice: the draft and the version in force (the sanity figure)
                    evaluations_per_s=round(2 * len(shapes) / max(t3 - t2, 1e-9)),
                    after_sync_seconds=round(t3 - t0, 3),
                    records_replayed=result.records,
                    shapes=result.shapes,
                    newly_denied_calls=result.newly_denied.calls,
                    undetermined_calls=sum(g.calls for g in result.undetermined.values()),
                    agreement=result.agreement,
                    versions=len(versions),
                )
                t4 = time.monotonic()
                rows = local.db.execute(sql).fetchall()
                again = replay_shapes(
                    [Shape.from_row(r) for r in rows], versions, draft, endpoint_id=endpoint, endpoint_vpc=hub_vpc,
                    facts=config.replay.context_map(), since=since,
                )  # fmt: skip
                out["warm_seconds"] = round(time.monotonic() - t4, 3)
                out["warm_same"] = again.newly_denied.calls == result.newly_denied.calls
                records = local.db.execute("SELECT count(*) FROM cloudtrail").fetchone()
                out["records_in_table"] = int(records[0]) if records else 0
                local.close()
            return out

        result = asyncio.run(run())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        line = {
            "bench": "replay",
            "scale": opts.scale,
            "days": opts.days,
            "lab_start_seconds": round(lab_seconds, 1),
            "history_records": history["records"],
            **result,
            "peak_rss_mb": round(rss, 1),
            "targets": {"after_sync_seconds": 10.0},
            "ok": result["after_sync_seconds"] <= 10.0,
            "cpu_count": os.cpu_count(),
        }
        print(json.dumps(line))
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
