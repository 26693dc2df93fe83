"""The console's trail views as pure functions: counts onto rows, the Endpoints trail line, short counts."""

from __future__ import annotations

from vpce_console.tui.models import (
    NO_TRAIL,
    EndpointRow,
    FindingCounts,
    Snapshot,
    SubscriberCell,
    TrailUsage,
    Usage,
    with_usage,
)
from vpce_console.tui.widgets.panes import count_text, trail_summary


def endpoint(endpoint_id: str, service: str) -> EndpointRow:
    return EndpointRow(
        endpoint_id, service, f"com.amazonaws.us-east-1.{service}", "available", "vpc-hub", (), (), True, None, False,
        FindingCounts(), 0, details=(("ENI", "eni-1"),),
    )  # fmt: skip


SNAPSHOT = Snapshot(
    endpoints=(endpoint("vpce-1", "sqs"), endpoint("vpce-2", "kms")),
    cells=(SubscriberCell("vpc-a", "sqs", "associated"), SubscriberCell("vpc-b", "sqs", "associated")),
)
USAGE = TrailUsage(
    "ok",
    "7d",
    endpoints={"vpce-1": Usage(12_345, 3, "2026-11-30T20:00:00Z")},
    cells={("vpc-a", "sqs"): Usage(40, 1, "2026-11-30T19:00:00Z")},
    skipped=("skipped 2 objects: truncated or corrupt gzip",),
    note="12,348 records since 2026-11-23 22:33 UTC (local, synced 3 of 2016 objects in 0.6 s)",
)


def test_with_usage_puts_counts_on_rows_and_zero_where_the_trail_has_nothing() -> None:
    shown = with_usage(SNAPSHOT, USAGE)
    sqs, kms = shown.endpoints
    assert (sqs.calls, sqs.denials) == (12_345, 3) and (kms.calls, kms.denials) == (0, 0)
    assert ("Trail 7d", "no network activity events for this endpoint in the window") in kms.details
    assert sqs.details[0] == ("ENI", "eni-1") and sqs.details[-1][0] == "Trail 7d"
    again = with_usage(shown, USAGE)  # a second answer replaces the line, never stacks it
    assert sum(1 for d in again.endpoints[0].details if d[0].startswith("Trail")) == 1
    a, b = shown.cells
    assert (a.calls, a.denials, a.last_seen) == (40, 1, "2026-11-30T19:00:00Z") and (b.calls, b.last_seen) == (0, "")


def test_without_an_answer_the_counts_stay_unknown() -> None:
    for usage in (None, TrailUsage("off", note=NO_TRAIL), TrailUsage("failed", note="trail: access denied")):
        assert with_usage(SNAPSHOT, usage) == SNAPSHOT


def test_trail_line_names_quiet_services_and_skips_or_why_not() -> None:
    line = trail_summary(USAGE, SNAPSHOT.endpoints)
    assert line.startswith("trail 7d: 12,345 calls, 3 denied")
    assert "no network activity events in the window for kms" in line
    assert "skipped 2 objects: truncated or corrupt gzip" in line
    assert line.endswith("(local, synced 3 of 2016 objects in 0.6 s)")
    assert trail_summary(TrailUsage("off", note=NO_TRAIL), SNAPSHOT.endpoints) == NO_TRAIL
    assert trail_summary(None, SNAPSHOT.endpoints) == ""


def test_counts_stay_short() -> None:
    assert [count_text(n) for n in (0, 9_999, 12_345, 2_500_000)] == ["0", "9999", "12.3k", "2.5M"]
