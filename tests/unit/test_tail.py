"""The denial tail: file formats, dedupe, bounded memory, policy versions, and a cursor that survives throttling."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from vpce_console.errors import AwsError, UsageError
from vpce_console.services.journal import sha256_text
from vpce_console.services.tail import (
    DenialTail,
    LogCursor,
    LogEvent,
    LogPage,
    PolicyTimeline,
    TailFilter,
    denial_filter_pattern,
    follow_log_groups,
    parse_since,
    read_records,
)

RECORDS = Path(__file__).resolve().parents[1] / "data" / "cloudtrail"


def _all_records() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(RECORDS.glob("*.json"))]


def _denial(i: int, endpoint: str = "vpce-1", when: str = "2026-11-28T10:00:00Z") -> dict[str, Any]:
    return {
        "eventID": f"id-{i}",
        "eventTime": when,
        "eventSource": "sqs.amazonaws.com",
        "eventName": "SendMessage",
        "errorCode": "VpceAccessDenied",
        "errorMessage": "The request was denied due to a VPC endpoint policy",
        "userIdentity": {"type": "AWSAccount", "accountId": "444455556666", "principalId": "X"},
        "vpcEndpointId": endpoint,
        "eventCategory": "NetworkActivity",
    }


@pytest.mark.parametrize("fmt", ["jsonl", "array", "records", "records-gz", "jsonl-gz", "pretty-array"])
def test_file_formats(tmp_path: Path, fmt: str) -> None:
    records = _all_records()
    path = tmp_path / f"trail.{fmt}"
    if fmt.startswith("jsonl"):
        body = "\n".join(json.dumps(r) for r in records) + "\n\n"
    elif fmt == "array":
        body = json.dumps(records)
    elif fmt == "pretty-array":
        body = json.dumps(records, indent=2)
    else:
        body = json.dumps({"Records": records})
    data = body.encode()
    path.write_bytes(gzip.compress(data) if fmt.endswith("gz") else data)
    assert list(read_records(path)) == records


def test_bad_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        list(read_records(tmp_path / "missing.json"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"eventID": "a"}\n{not json\n')
    with pytest.raises(UsageError, match=":2"):
        list(read_records(bad))
    scalar = tmp_path / "scalar.json"
    scalar.write_text("42")
    with pytest.raises(UsageError):
        list(read_records(scalar))
    empty = tmp_path / "empty.json"
    empty.write_text("\n")
    assert list(read_records(empty)) == []


def test_tail_classifies_and_skips_non_denials() -> None:
    tail = DenialTail()
    rows = list(tail.ingest_many(_all_records()))
    reasons = {row.reason for row in rows}
    assert len(reasons) == 16
    assert all(r.event_name != "" for r in rows)
    assert tail.records == len(_all_records())
    assert tail.stats()["denials"] == len(rows)


def test_dedupe_by_event_id() -> None:
    tail = DenialTail()
    assert tail.ingest(_denial(1)) is not None
    assert tail.ingest(_denial(1)) is None
    assert tail.duplicates == 1 and len(tail.rows()) == 1


def test_memory_is_bounded() -> None:
    tail = DenialTail(ring_size=50, dedupe_size=200)
    for i in range(10_000):
        tail.ingest(_denial(i))
    assert len(tail.rows()) == 50
    assert tail.seen_size == 200
    assert tail.rows()[-1].event_id == "id-9999"
    assert tail.denials == 10_000


def test_filter_by_endpoint_and_reason() -> None:
    tail = DenialTail(filter=TailFilter(endpoint_id="vpce-2", reason="vpce"))
    tail.ingest(_denial(1, "vpce-1"))
    tail.ingest(_denial(2, "vpce-2"))
    assert [r.event_id for r in tail.rows()] == ["id-2"]
    with pytest.raises(UsageError):
        TailFilter(reason="nope")


def test_policy_version_from_timeline() -> None:
    timeline = PolicyTimeline()
    v1, v2 = sha256_text("one"), sha256_text("two")
    timeline.add("vpce-1", "2026-11-28T09:00:00Z", v1)
    timeline.add("vpce-1", "2026-11-28T10:30:00Z", v2)
    tail = DenialTail(timeline=timeline)
    early = tail.ingest(_denial(1, when="2026-11-28T08:00:00Z"))
    mid = tail.ingest(_denial(2, when="2026-11-28T10:00:00Z"))
    late = tail.ingest(_denial(3, when="2026-11-28T10:30:00Z"))
    other = tail.ingest(_denial(4, endpoint="vpce-9"))
    assert early is not None and early.policy_version is None
    assert mid is not None and mid.policy_version == v1[:12]
    assert late is not None and late.policy_version == v2[:12]
    assert other is not None and other.policy_version is None
    same_second = PolicyTimeline()
    same_second.add("vpce-1", 1_795_860_012.3, v2)  # journal time of the write, sub-second
    assert same_second.version_at("vpce-1", "2026-11-28T08:40:12Z") is None  # a different second entirely
    from vpce_console.services.tail_versions import _epoch

    stamp = _epoch("2026-11-28T10:00:12Z")
    assert stamp is not None
    same_second.add("vpce-2", stamp + 0.3, v2)
    assert same_second.version_at("vpce-2", "2026-11-28T10:00:12Z") == v2[:12]
    assert same_second.version_at("vpce-2", "2026-11-28T10:00:11Z") is None


def test_filter_pattern_names_the_endpoint() -> None:
    assert denial_filter_pattern("vpce-1").count('$.vpcEndpointId = "vpce-1"') == 1
    assert denial_filter_pattern(network_only=True) == '{ ($.errorCode = "VpceAccessDenied") }'


@pytest.mark.parametrize(
    ("text", "expected"), [("15m", 1000 - 900), ("2h", 1000 - 7200), ("90s", 910), ("1970-01-01T00:00:10Z", 10)]
)
def test_parse_since(text: str, expected: float) -> None:
    assert parse_since(text, now=1000) == expected


def test_parse_since_rejects_garbage() -> None:
    with pytest.raises(UsageError):
        parse_since("yesterday", now=0)


async def test_follow_survives_throttling_and_dropped_connections_without_losing_its_place() -> None:
    pages = {
        (0, None): LogPage((LogEvent("e1", 100, json.dumps(_denial(1))),), "t2"),
        (0, "t2"): LogPage((LogEvent("e2", 200, json.dumps(_denial(2))), LogEvent("x", 201, "not json")), None),
    }
    failures = iter(
        [
            AwsError("throttled", "logs:FilterLogEvents", "Rate exceeded", retryable=True),
            None,
            AwsError("connection", "logs:FilterLogEvents", "reset", retryable=True),
            None,
        ]
    )
    calls: list[tuple[int, str | None]] = []

    async def fetch(group: str, pattern: str, start: int, token: str | None) -> LogPage:
        calls.append((start, token))
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return pages[(start, token)]

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    cursors: dict[str, LogCursor] = {}
    errors: list[str] = []
    got = [
        r["eventID"]
        async for r in follow_log_groups(
            fetch,
            ["g"],
            "{}",
            start_ms=0,
            follow=False,
            clock_ms=lambda: 0,
            sleep=sleep,
            cursors=cursors,
            on_error=lambda g, e, w: errors.append(e.kind),
            overlap_ms=50,
        )
    ]
    assert got == ["id-1", "id-2"]
    assert calls == [(0, None), (0, None), (0, "t2"), (0, "t2")]  # the failed page is retried, not skipped
    assert errors == ["throttled", "connection"] and len(slept) == 2
    assert cursors["g"].start_ms == 151 and cursors["g"].high_ms == 201 and cursors["g"].errors == 2


async def test_follow_raises_non_retryable_errors() -> None:
    async def fetch(group: str, pattern: str, start: int, token: str | None) -> LogPage:
        raise AwsError("access-denied", "logs:FilterLogEvents", "no")

    with pytest.raises(AwsError):
        async for _ in follow_log_groups(fetch, ["g"], "{}", start_ms=0, follow=False, clock_ms=lambda: 0):
            pass


async def test_quiet_group_window_moves_to_now_minus_overlap() -> None:
    starts: list[int] = []

    async def fetch(group: str, pattern: str, start: int, token: str | None) -> LogPage:
        starts.append(start)
        return LogPage((), None)

    class Stop(Exception):
        pass

    rounds = 0

    async def sleep(seconds: float) -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 2:
            raise Stop

    with pytest.raises(Stop):
        async for _ in follow_log_groups(
            fetch, ["g"], "{}", start_ms=1_000, follow=True, clock_ms=lambda: 500_000, overlap_ms=100_000, sleep=sleep
        ):
            pass
    assert starts == [1_000, 400_000]
