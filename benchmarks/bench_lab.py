"""Lab benchmark: demo and org time-to-ready, per-call latency through the middleware, RSS at org. One JSON line."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

os.environ.setdefault("AWS_CONFIG_FILE", "/dev/null")
os.environ.setdefault("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _latency(ready: dict[str, Any], n: int = 200) -> dict[str, float]:
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"total_max_attempts": 1})
    web = next(p for p in ready["personas"] if p["name"] == "web-dev")
    sqs = boto3.client(
        "sqs",
        endpoint_url=ready["endpoint_url"],
        region_name=ready["region"],
        aws_access_key_id=web["access_key_id"],
        aws_secret_access_key=web["secret_access_key"],
        config=cfg,
    )
    op = ready["operator"]
    ec2 = boto3.client(
        "ec2",
        endpoint_url=ready["endpoint_url"],
        region_name=ready["region"],
        aws_access_key_id=op["access_key_id"],
        aws_secret_access_key=op["secret_access_key"],
        config=cfg,
    )
    queue = f"{ready['endpoint_url']}/{web['account_id']}/orders-dev"
    sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    ec2.describe_vpc_endpoints()
    enforced, describe = [], []
    for _ in range(n):
        t = time.perf_counter()
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        enforced.append((time.perf_counter() - t) * 1000)
    for _ in range(n // 4):
        t = time.perf_counter()
        ec2.describe_vpc_endpoints(MaxResults=5)
        describe.append((time.perf_counter() - t) * 1000)
    return {
        "enforced_call_p50_ms": round(statistics.median(enforced), 2),
        "enforced_call_p99_ms": round(_percentile(enforced, 0.99), 2),
        "describe_endpoints_paged_p50_ms": round(statistics.median(describe), 2),
        "describe_endpoints_paged_p99_ms": round(_percentile(describe, 0.99), 2),
    }


def main() -> int:
    from vpce_console.lab.child import start_lab_child

    out: dict[str, Any] = {"bench": "lab"}
    started = time.monotonic()
    with start_lab_child(scale="demo", seed=1, traffic=0, no_limits=True) as demo:
        out["demo_ready_s"] = round(time.monotonic() - started, 2)
        out["demo_ready_inside_child_s"] = demo.ready.get("seconds_to_ready")
        out.update(_latency(demo.ready))
        out["demo_rss_mb"] = _rss_mb(demo.pid)
    started = time.monotonic()
    with start_lab_child(scale="org", seed=1, traffic=0, no_limits=True, timeout=90) as org:
        out["org_ready_s"] = round(time.monotonic() - started, 2)
        out["org_ready_inside_child_s"] = org.ready.get("seconds_to_ready")
        out["org_rss_mb"] = _rss_mb(org.pid)
        out["org_spokes"] = len(org.ready["spokes"])
        out["org_accounts"] = len(org.ready["accounts"])
        out["org_endpoints"] = len(org.ready["hub"]["endpoints"])
    out["ok"] = out["org_ready_s"] <= 30 and out["org_spokes"] == 1000 and out["org_accounts"] >= 21
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
