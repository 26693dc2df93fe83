"""The org trail on the local engine at org scale; prints one JSON line.

Starts an org-scale lab with 7 days of history (over 1,000,000 network activity records), then, through the real
SDK like `vpce usage --endpoint ID --by account`:
1. sync: list and download the window's objects into a fresh cache (objects, MB, seconds);
2. cold: DuckDB reads every object and answers (target <= 10 s);
3. warm: the same question again with everything cached: one listing, no download, the query (target <= 1 s);
and reports this process's peak RSS (target <= 1 GB; the lab child is measured separately); then the Athena path
(the lab's Athena): bytes scanned by the same question over 1 day and over the whole window (partition pruning).
Options: --days N (default 7), --scale demo|org (default org), --seed N, --no-athena.
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


def _child_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--scale", default="org")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-athena", action="store_true")
    opts = parser.parse_args()

    from vpce_console.aws.session import AwsGateway
    from vpce_console.config import config_from_dict
    from vpce_console.connect import resolve_target
    from vpce_console.lab.child import start_lab_child
    from vpce_console.readyfile import parse_ready_file
    from vpce_console.services.trail import LocalTrail, ask_athena, create_athena_table
    from vpce_console.services.trail_sql import Question

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
        accounts = list(config.trail.accounts)
        regions = list(config.trail.regions)
        since = datetime.now(UTC) - timedelta(days=opts.days, minutes=10)
        question = Question("account", since, (endpoint,), False, tuple(accounts), tuple(regions))
        cache = Path(tempfile.mkdtemp(prefix="vpce-bench-trail-"))

        async def run() -> dict[str, Any]:
            out: dict[str, Any] = {}
            async with AwsGateway(target, config) as gateway:
                local = LocalTrail(config.trail, cache)
                objects, report = await local.sync(gateway, since, accounts=accounts, regions=regions)
                out["sync"] = report.to_json()
                t = time.monotonic()
                local.ingest(objects)
                rows, skipped, seen, query_seconds = local.ask(question, objects)
                out["cold_seconds"] = round(time.monotonic() - t, 3)
                out["cold_query_seconds"] = round(query_seconds, 3)
                out["records_in_window"] = seen
                out["groups"] = len(rows)
                out["calls_for_endpoint"] = sum(r.calls for r in rows)
                out["skipped"] = [s.reason for s in skipped]
                local.close()
                t = time.monotonic()
                local = LocalTrail(config.trail, cache)
                objects, again = await local.sync(gateway, since, accounts=accounts, regions=regions)
                local.ingest(objects)
                rows2, _, _, warm_query = local.ask(question, objects)
                out["warm_seconds"] = round(time.monotonic() - t, 3)
                out["warm_query_seconds"] = round(warm_query, 3)
                out["warm_downloads"] = again.downloaded
                out["warm_same_answer"] = rows2 == rows
                local.close()
                if not opts.no_athena:
                    await create_athena_table(gateway, config.trail, accounts=accounts, regions=regions)
                    scanned = {}
                    for label, start in (("1d", datetime.now(UTC) - timedelta(days=1)), (f"{opts.days}d", since)):
                        t = time.monotonic()
                        q = Question("account", start, (endpoint,), False, tuple(accounts), tuple(regions))
                        answer = await ask_athena(gateway, config.trail, q)
                        scanned[label] = {
                            "scanned_mb": round((answer.scanned_bytes or 0) / 1e6, 3),
                            "seconds": round(time.monotonic() - t, 3),
                            "calls": sum(r.calls for r in answer.rows),
                        }
                    out["athena"] = scanned
            return out

        result = asyncio.run(run())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        line = {
            "bench": "trail",
            "scale": opts.scale,
            "days": opts.days,
            "lab_start_seconds": round(lab_seconds, 1),
            "history_records": history["records"],
            "history_objects": history["objects"],
            "history_seed_seconds": history["seconds"],
            **result,
            "peak_rss_mb": round(rss, 1),
            "lab_peak_rss_mb": _child_rss_mb(handle.pid),
            "targets": {"cold_seconds": 10.0, "warm_seconds": 1.0, "peak_rss_mb": 1024},
            "ok": result["cold_seconds"] <= 10.0 and result["warm_seconds"] <= 1.0 and rss <= 1024,
            "cpu_count": os.cpu_count(),
        }
        print(json.dumps(line))
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
