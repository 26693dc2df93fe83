"""Denial-tail throughput and memory; prints one JSON line.

1. Ingest + classify a generated 200,000-record CloudTrail JSONL file (read, parse, classify, dedupe, ring) and
   compare with `jq -c 'select(.errorCode != null)'` on the same file (jq only filters; we also classify).
2. Feed 1,000,000 records through one DenialTail and report RSS and the ring/dedupe sizes: memory must stay
   bounded by the ring, not grow with the stream.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from vpce_console.services.tail import DenialTail, read_records

FILE_RECORDS = 200_000
STREAM_RECORDS = 1_000_000
RING = 5000

_MESSAGES = [
    ("AccessDenied", "with an explicit deny in a VPC endpoint policy"),
    ("AccessDeniedException", "because no VPC endpoint policy allows the kms:Decrypt action"),
    ("AccessDenied", "with an explicit deny in a service control policy: arn:aws:organizations::1:policy/o-a/p-b"),
    ("AccessDenied", "because no identity-based policy allows the sqs:SendMessage action"),
    ("AccessDenied", "with an explicit deny in a sessions policy"),
    ("Client.UnauthorizedOperation", "You are not authorized to perform this operation. Encoded message: x"),
]


def _record(rng: random.Random, i: int) -> dict[str, Any]:
    """A record with CloudTrail's real shape: ~70% successes, ~20% denials, ~10% other errors."""
    account = f"{rng.randrange(10**11, 10**12):012d}"
    record: dict[str, Any] = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE{i % 977}:i-0abc{i % 9973:05d}",
            "arn": f"arn:aws:sts::{account}:assumed-role/app-{i % 97}/i-0abc{i % 9973:05d}",
            "accountId": account,
            "accessKeyId": "ASIAEXAMPLE",
        },
        "eventTime": f"2026-11-28T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
        "eventSource": rng.choice(["sqs.amazonaws.com", "kms.amazonaws.com", "secretsmanager.amazonaws.com"]),
        "eventName": rng.choice(["SendMessage", "GetQueueAttributes", "Decrypt", "GetSecretValue"]),
        "awsRegion": "us-east-1",
        "sourceIPAddress": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
        "userAgent": "Boto3/1.43.117 md/Botocore#1.43.117 ua/2.1 os/linux#6.1 md/arch#x86_64 lang/python#3.11",
        "requestParameters": {"queueUrl": f"https://sqs.us-east-1.amazonaws.com/{account}/orders-{i % 13}"},
        "responseElements": None,
        "requestID": f"{rng.getrandbits(128):032x}",
        "eventID": f"{rng.getrandbits(128):032x}",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": account,
        "eventCategory": "Data",
        "vpcEndpointId": f"vpce-0{i % 40:016x}",
    }
    roll = rng.random()
    if roll < 0.05:
        record.update(
            errorCode="VpceAccessDenied",
            errorMessage="The request was denied due to a VPC endpoint policy",
            eventCategory="NetworkActivity",
            eventType="AwsVpceEvent",
            userIdentity={"type": "AWSAccount", "principalId": "AROAEXAMPLE", "accountId": account},
        )
    elif roll < 0.20:
        code, tail = rng.choice(_MESSAGES)
        record.update(errorCode=code, errorMessage=f"User: {record['userIdentity']['arn']} is not authorized {tail}")
    elif roll < 0.30:
        record.update(
            errorCode=rng.choice(["ThrottlingException", "AWS.SimpleQueueService.NonExistentQueue"]),
            errorMessage="Rate exceeded",
        )
    return record


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trail.jsonl"
        templates = []
        for i in range(4000):
            record = _record(rng, i)
            record["eventID"] = "@ID@"
            templates.append(json.dumps(record))
        with path.open("w") as fh:
            for i in range(FILE_RECORDS):
                fh.write(templates[i % len(templates)].replace("@ID@", f"{i:032x}", 1) + "\n")
        size_mb = path.stat().st_size / 1e6

        tail = DenialTail(ring_size=RING)
        start = time.perf_counter()
        for record in read_records(path):
            tail.ingest(record)
        ours = time.perf_counter() - start
        ours_rps = FILE_RECORDS / ours

        jq_rps: float | None = None
        ratio: float | None = None
        jq_note = ""
        jq = shutil.which("jq")
        if jq is None:
            jq_note = "jq not installed"
        else:
            start = time.perf_counter()
            with path.open("rb") as src:
                done = subprocess.run(
                    [jq, "-c", "select(.errorCode != null)"], stdin=src, stdout=subprocess.DEVNULL, check=False
                )
            jq_s = time.perf_counter() - start
            if done.returncode == 0:
                jq_rps = FILE_RECORDS / jq_s
                ratio = ours_rps / jq_rps
            else:
                jq_note = f"jq exited {done.returncode}"
        file_denials = tail.denials
        del tail

    rss_before = _rss_mb()
    stream = DenialTail(ring_size=RING)
    rng = random.Random(7)
    pool = [_record(rng, i) for i in range(2000)]
    start = time.perf_counter()
    for i in range(STREAM_RECORDS):
        record = dict(pool[i % len(pool)])  # parsed already: this part measures classify + dedupe + ring
        record["eventID"] = f"e{i}"  # every record distinct, so dedupe memory is exercised too
        stream.ingest(record)
    stream_s = time.perf_counter() - start
    rss_after = _rss_mb()
    print(
        json.dumps(
            {
                "benchmark": "tail",
                "file_records": FILE_RECORDS,
                "file_mb": round(size_mb, 1),
                "file_denials": file_denials,
                "ingest_classify_records_per_s": round(ours_rps),
                "jq_select_records_per_s": None if jq_rps is None else round(jq_rps),
                "ratio_vs_jq": None if ratio is None else round(ratio, 2),
                "jq_note": jq_note or None,
                "stream_records": STREAM_RECORDS,
                "stream_records_per_s": round(STREAM_RECORDS / stream_s),
                "stream_denials": stream.denials,
                "ring_size": stream.ring_size,
                "ring_len": len(stream.ring),
                "dedupe_ids_held": stream.seen_size,
                "rss_mb_before_stream": round(rss_before, 1),
                "rss_mb_after_1m": round(rss_after, 1),
                "rss_growth_mb": round(rss_after - rss_before, 1),
                "python": sys.version.split()[0],
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
