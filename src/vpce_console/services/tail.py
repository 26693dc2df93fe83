"""The denial tail: CloudTrail records in, classified denials out, deduplicated and kept in bounded memory.

Sources are files (JSONL, a JSON array, or CloudTrail's S3 objects `{"Records": […]}`, gzipped or not) and
CloudWatch Logs groups polled with FilterLogEvents and a JSON pattern through a cursor that survives throttling
and dropped connections. The AWS calls themselves are passed in as a `fetch` function (built in `aws/logs.py`),
so this module stays UI- and SDK-agnostic and is tested with a clock instead of sleeps.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from vpce_console.aws.logs import LogEvent, LogPage
from vpce_console.errors import UsageError
from vpce_console.services.classify import REASON_CODES, Denial, classify
from vpce_console.services.tail_files import (
    MAX_RECORD_CHARS,
    read_records,
)
from vpce_console.services.tail_follow import (
    RETRYABLE_KINDS,
    Fetch,
    LogCursor,
    denial_filter_pattern,
    follow_log_groups,
)
from vpce_console.services.tail_versions import (
    PolicyTimeline,
    PolicyVersions,
    _epoch,
)

__all__ = [
    "DEFAULT_RING_SIZE",
    "MAX_RECORD_CHARS",
    "RETRYABLE_KINDS",
    "Denial",
    "DenialTail",
    "Fetch",
    "LogCursor",
    "LogEvent",
    "LogPage",
    "PolicyTimeline",
    "PolicyVersions",
    "TailFilter",
    "classify",
    "denial_filter_pattern",
    "follow_log_groups",
    "parse_since",
    "read_records",
]


DEFAULT_RING_SIZE = 5000
"""Denials kept in memory unless configured otherwise (config `tail.ring_size`)."""


@dataclass(frozen=True, slots=True)
class TailFilter:
    """Which denials the user wants to see."""

    endpoint_id: str | None = None
    reason: str | None = None
    """One of REASON_CODES, or `vpce` for all endpoint-policy reasons."""
    service: str | None = None
    account_id: str | None = None

    def __post_init__(self) -> None:
        if self.reason is not None and self.reason not in (*REASON_CODES, "vpce"):
            raise UsageError(f"unknown reason {self.reason!r}: one of {', '.join(REASON_CODES)} (or vpce)")

    def matches(self, denial: Denial) -> bool:
        """True when the denial passes every set criterion."""
        if self.endpoint_id is not None and denial.endpoint_id != self.endpoint_id:
            return False
        if self.reason == "vpce":
            if not denial.reason.startswith("vpce-"):
                return False
        elif self.reason is not None and denial.reason != self.reason:
            return False
        if self.service is not None and denial.service != self.service:
            return False
        return self.account_id is None or denial.account_id == self.account_id


class DenialTail:
    """Classify records, drop duplicates and non-denials, keep the newest `ring_size` denials."""

    def __init__(
        self,
        *,
        ring_size: int = DEFAULT_RING_SIZE,
        dedupe_size: int | None = None,
        timeline: PolicyTimeline | None = None,
        filter: TailFilter | None = None,
    ) -> None:
        if ring_size < 1:
            raise UsageError("ring size must be at least 1")
        self.ring: deque[Denial] = deque(maxlen=ring_size)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_cap = dedupe_size if dedupe_size is not None else max(4 * ring_size, 10_000)
        self.timeline = timeline if timeline is not None else PolicyTimeline()
        self.filter = filter or TailFilter()
        self.records = 0
        """Records looked at."""
        self.duplicates = 0
        self.denials = 0
        """Denials kept (after dedupe and filter)."""
        self.by_reason: Counter[str] = Counter()

    @property
    def ring_size(self) -> int:
        """Capacity of the ring buffer."""
        return self.ring.maxlen or 0

    @property
    def seen_size(self) -> int:
        """Event ids remembered for dedupe (bounded)."""
        return len(self._seen)

    def ingest(self, record: Mapping[str, Any]) -> Denial | None:
        """Classify one record; returns the new denial row, or None (not a denial, filtered out, or a duplicate)."""
        self.records += 1
        if not record.get("errorCode"):
            return None  # fast path: successes are the bulk of a trail
        denial = classify(record)
        if denial is None:
            return None
        if denial.event_id in self._seen:
            self.duplicates += 1
            self._seen.move_to_end(denial.event_id)
            return None
        self._seen[denial.event_id] = None
        if len(self._seen) > self._seen_cap:
            self._seen.popitem(last=False)
        if not self.filter.matches(denial):
            return None
        if len(self.timeline):
            denial = replace(denial, policy_version=self.timeline.version_at(denial.endpoint_id, denial.event_time))
        self.ring.append(denial)
        self.denials += 1
        self.by_reason[denial.reason] += 1
        return denial

    def ingest_many(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Denial]:
        """Ingest records in order and yield each new denial."""
        for record in records:
            denial = self.ingest(record)
            if denial is not None:
                yield denial

    def rows(self) -> list[Denial]:
        """The denials currently held, oldest first."""
        return list(self.ring)

    def stats(self) -> dict[str, Any]:
        """Counters for the status line and the benchmark."""
        return {
            "records": self.records,
            "denials": self.denials,
            "duplicates": self.duplicates,
            "ring": len(self.ring),
            "ring_size": self.ring_size,
            "seen": len(self._seen),
            "by_reason": dict(sorted(self.by_reason.items())),
        }


def parse_since(text: str, *, now: float) -> float:
    """`15m`, `2h`, `90s`, `1d` or an ISO time -> epoch seconds."""
    text = text.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        return now - float(text[:-1]) * units[text[-1]]
    when = _epoch(text)
    if when is None:
        raise UsageError(f"--since: expected e.g. 15m, 2h, 1d or an ISO time, got {text!r}")
    return when
