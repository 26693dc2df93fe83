"""The denial tail: CloudTrail records in, classified denials out, deduplicated and kept in bounded memory.

Sources are files (JSONL, a JSON array, or CloudTrail's S3 objects `{"Records": […]}`, gzipped or not) and
CloudWatch Logs groups polled with FilterLogEvents and a JSON pattern through a cursor that survives throttling
and dropped connections. The AWS calls themselves are passed in as a `fetch` function (built in `aws/logs.py`),
so this module stays UI- and SDK-agnostic and is tested with a clock instead of sleeps.
"""

from __future__ import annotations

import asyncio
import bisect
import gzip
import io
import json
import random
import zlib
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from vpce_console.aws.logs import LogEvent, LogPage
from vpce_console.errors import AwsError, UsageError
from vpce_console.services.classify import REASON_CODES, Denial, classify

__all__ = [
    "Denial",
    "DenialTail",
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


# --- files -----------------------------------------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    raw = path.open("rb")
    magic = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8")
    return io.TextIOWrapper(raw, encoding="utf-8")


def _records_of(document: Any, where: str) -> Iterator[dict[str, Any]]:
    if isinstance(document, Mapping) and isinstance(document.get("Records"), list):
        document = document["Records"]
    if isinstance(document, Mapping):
        yield dict(document)
        return
    if not isinstance(document, list):
        raise UsageError(f'{where}: expected CloudTrail records (JSONL, a JSON array or {{"Records": [...]}})')
    for item in document:
        if isinstance(item, Mapping):
            yield dict(item)


MAX_RECORD_CHARS = 16 * 1024 * 1024
"""One JSONL line or one whole JSON document (a CloudTrail S3 object is a few MB): beyond this it is not CloudTrail."""


def _line(fh: IO[str], path: Path, lineno: int) -> str:
    line = fh.readline(MAX_RECORD_CHARS + 1)
    if len(line) > MAX_RECORD_CHARS:
        raise UsageError(f"{path}:{lineno}: a line longer than {MAX_RECORD_CHARS // (1024 * 1024)} MB: not CloudTrail")
    return line


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise UsageError(f"{where}: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}") from None
    except ValueError as exc:  # a number over 4,300 digits
        raise UsageError(f"{where}: unreadable JSON value ({str(exc).split(':')[0]})") from None


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield CloudTrail records from a file, streaming JSONL line by line (large files never load at once)."""
    path = Path(path)
    try:
        fh = _open_text(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        try:
            first, lineno = "", 0
            while True:
                first = _line(fh, path, lineno + 1)
                lineno += 1
                if not first or first.strip():
                    break
            stripped = first.strip()
            if not stripped:
                return
            try:
                head = json.loads(stripped)
            except (ValueError, RecursionError):
                head = None
            if isinstance(head, Mapping) and not isinstance(head.get("Records"), list):
                yield dict(head)  # JSONL: one record per line
                while True:
                    lineno += 1
                    line = _line(fh, path, lineno)
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        item = json.loads(line)
                    except (ValueError, RecursionError):
                        raise UsageError(f"{path}:{lineno}: not a JSON record") from None
                    if isinstance(item, Mapping):
                        yield dict(item)
            if head is None:
                rest = fh.read(MAX_RECORD_CHARS + 1 - len(first))
                if len(first) + len(rest) > MAX_RECORD_CHARS:
                    raise UsageError(f"{path}: a JSON document over {MAX_RECORD_CHARS // (1024 * 1024)} MB")
                document = _json(first + rest, str(path))
            else:
                document = head
        except (UnicodeDecodeError, EOFError, OSError, gzip.BadGzipFile, zlib.error) as exc:
            raise UsageError(
                f"cannot read {path}: {str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}"
            ) from None
        yield from _records_of(document, str(path))


# --- policy versions over time ---------------------------------------------------------------------------------


def _epoch(value: str | float | datetime | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


@dataclass(slots=True)
class PolicyTimeline:
    """When each endpoint's policy changed and to which version, from the journal and CloudTrail history."""

    _changes: dict[str, list[tuple[float, str]]] = field(default_factory=dict)

    def add(self, endpoint_id: str, at: str | float | datetime, sha256: str) -> None:
        """Record that `endpoint_id` got the document with this sha256 at `at`."""
        when = _epoch(at)
        if when is None or not sha256:
            return
        rows = self._changes.setdefault(endpoint_id, [])
        item = (when, sha256)
        if item not in rows:
            bisect.insort(rows, item)

    def version_at(self, endpoint_id: str | None, at: str | float | None) -> str | None:
        """The 12-digit sha256 prefix of the latest version written at or before `at` (None if unknown).

        A whole-second time string counts as the end of its second, so a denial logged in the same second as the
        write is attributed to the new version (the one that can have caused it).
        """
        if endpoint_id is None:
            return None
        rows = self._changes.get(endpoint_id)
        when = _epoch(at)
        if not rows or when is None:
            return None
        if isinstance(at, str) and "." not in at:
            when += 0.999  # CloudTrail's eventTime has whole seconds: the event may be late in that second
        index = bisect.bisect_right(rows, (when, "\uffff"))
        return rows[index - 1][1][:12] if index else None

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._changes.values())

    def has(self, endpoint_id: str) -> bool:
        """True when at least one version of this endpoint is known."""
        return bool(self._changes.get(endpoint_id))


# --- policy versions that follow writes while a tail runs -------------------------------------------------------


class PolicyVersions:
    """Which policy version each endpoint had when, kept current while a tail runs (CLI and console alike).

    Three sources feed one `PolicyTimeline`: the change journal (our own writes, re-read as soon as the file
    grows, so a rollout made while the tail runs labels the next denial at once), CloudTrail `LookupEvents`
    (everyone else's `ModifyVpcEndpoint`, polled every `lookup_seconds` at the API's 2 req/s), and the deployed
    document as the floor for an endpoint with no known change.
    """

    def __init__(
        self,
        gateway: Any,
        *,
        journal: Any = None,
        endpoint_id: str | None = None,
        account_id: str | None = None,
        lookup_seconds: float = 30.0,
        journal_seconds: float = 0.5,
        clock: Callable[[], float] | None = None,
        history: bool = True,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        import time

        from vpce_console.services.journal import Journal

        self.gateway = gateway
        self.journal = journal if journal is not None else Journal()
        self.endpoint_id = endpoint_id
        self.account_id = account_id
        self.lookup_seconds = lookup_seconds
        self.journal_seconds = journal_seconds
        self.clock = clock or time.time
        self.history = history
        self.on_error = on_error or (lambda message: None)
        self.timeline = PolicyTimeline()
        self._journal_stamp: tuple[int, int] | None = None
        self._journal_checked = float("-inf")
        self._looked_up_to: float | None = None
        self._lookup_checked = float("-inf")
        self._baselines: dict[str, str] = {}

    def adopt(self, timeline: PolicyTimeline, looked_up_to: float) -> None:
        """Continue from a timeline already loaded (journal and LookupEvents up to `looked_up_to`)."""
        self.timeline = timeline
        self.refresh_journal()
        self._journal_checked = self._lookup_checked = self._looked_up_to = looked_up_to

    def version_at(self, endpoint_id: str | None, at: str | float | None) -> str | None:
        """The 12-digit version in force at `at` (None when unknown)."""
        return self.timeline.version_at(endpoint_id, at)

    def add_baseline(self, endpoint_id: str, policy_text: str | None) -> None:
        """The deployed document of an endpoint, used for times before any known change of it."""
        from vpce_console.services.journal import sha256_text

        if policy_text is None:
            return
        self._baselines[endpoint_id] = sha256_text(policy_text)
        self._apply_baselines()

    def _apply_baselines(self) -> None:
        for endpoint_id, sha in self._baselines.items():
            if not self.timeline.has(endpoint_id):
                self.timeline.add(endpoint_id, 0.0, sha)

    def refresh_journal(self) -> bool:
        """Re-read the journal when it changed since the last look; True when it did."""
        import os

        try:
            stat = os.stat(self.journal.path)
        except OSError:
            return False
        stamp = (stat.st_size, stat.st_mtime_ns)
        if stamp == self._journal_stamp:
            return False
        self._journal_stamp = stamp
        try:
            rows = self.journal.policy_timeline(self.endpoint_id)
        except (OSError, ValueError):
            return False
        for at, endpoint_id, sha in rows:
            self.timeline.add(endpoint_id, at, sha)
        return True

    async def lookup(self, since: float, until: float) -> None:
        """ModifyVpcEndpoint events between `since` and `until` from LookupEvents (AwsError is reported, not raised)."""
        from datetime import UTC, datetime

        from vpce_console.aws.logs import lookup_policy_changes

        try:
            changes = await lookup_policy_changes(
                self.gateway,
                start=datetime.fromtimestamp(since, UTC),
                end=datetime.fromtimestamp(until, UTC),
                endpoint_id=self.endpoint_id,
                account_id=self.account_id,
            )
        except AwsError as exc:
            self.on_error(f"policy history unavailable ({exc})")
            return
        for change in changes:
            if change.policy_sha256 and not change.error_code:
                self.timeline.add(change.endpoint_id, change.event_time, change.policy_sha256)
        self._looked_up_to = until

    async def start(self, since: float) -> None:
        """Journal and a day of LookupEvents before `since`, up to now (then `refresh` keeps it current)."""
        now = self.clock()
        self.refresh_journal()
        self._journal_checked = now
        if self.history:
            await self.lookup(since - 86400.0, now + 300.0)
            self._lookup_checked = now
        self._apply_baselines()

    async def refresh(self) -> None:
        """Cheap when nothing changed: the journal is stat'ed, LookupEvents asked at most every lookup_seconds."""
        now = self.clock()
        if now - self._journal_checked >= self.journal_seconds:
            self._journal_checked = now
            self.refresh_journal()
        if self.history and now - self._lookup_checked >= self.lookup_seconds:
            self._lookup_checked = now
            start = (self._looked_up_to or now) - 600.0  # LookupEvents delivers late: overlap ten minutes
            await self.lookup(start, now + 300.0)

    def label(self, denial: Denial) -> Denial:
        """The denial with the version in force when it happened."""
        return replace(denial, policy_version=self.timeline.version_at(denial.endpoint_id, denial.event_time))


# --- the tail --------------------------------------------------------------------------------------------------


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


# --- CloudWatch Logs follow ------------------------------------------------------------------------------------


def denial_filter_pattern(endpoint_id: str | None = None, *, network_only: bool = False) -> str:
    """A CloudWatch Logs JSON filter pattern that keeps denial records (optionally one endpoint's)."""
    if network_only:
        codes = '($.errorCode = "VpceAccessDenied")'
    else:
        codes = (
            '($.errorCode = "VpceAccessDenied" || $.errorCode = "AccessDenied" || $.errorCode = "AccessDeniedException"'
            ' || $.errorCode = "*UnauthorizedOperation")'
        )
    if endpoint_id:
        return f'{{ {codes} && $.vpcEndpointId = "{endpoint_id}" }}'
    return f"{{ {codes} }}"


@dataclass(slots=True)
class LogCursor:
    """Where a log-group poll stands; only advanced after a page has been fully handed out, so it is never lost."""

    start_ms: int
    """Lower bound (inclusive) of the next query window."""
    next_token: str | None = None
    """Token of the page to fetch next within the current window (kept across throttling and reconnects)."""
    high_ms: int = 0
    """Newest event timestamp seen so far."""
    pages: int = 0
    errors: int = 0
    """Throttling / connection failures survived."""


Fetch = Callable[[str, str, int, str | None], Awaitable[LogPage]]
"""(log_group, pattern, start_ms, next_token) -> page; raises AwsError on failure."""


RETRYABLE_KINDS = frozenset({"throttled", "connection", "unavailable"})


async def follow_log_groups(
    fetch: Fetch,
    log_groups: Sequence[str],
    pattern: str,
    *,
    start_ms: int,
    follow: bool,
    poll_seconds: float = 5.0,
    overlap_ms: int = 300_000,
    clock_ms: Callable[[], int],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    max_backoff: float = 60.0,
    on_error: Callable[[str, AwsError, float], None] | None = None,
    cursors: dict[str, LogCursor] | None = None,
    give_up_after: int | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Yield CloudTrail records from log groups, polling with a cursor per group.

    Each round queries from `high - overlap` (CloudTrail delivers late and out of order) and relies on the tail's
    event-id dedupe for the overlap. Throttling, 5xx and dropped connections back off with jitter and retry the same
    page; the cursor only moves after a page was handed out. Without `follow`, one pass over each group ends it.
    With `give_up_after`, that many failures in a row re-raise the last error (a one-shot command must end).
    """
    cursors = cursors if cursors is not None else {}
    for group in log_groups:
        cursors.setdefault(group, LogCursor(start_ms=start_ms))
    backoff, failures = 0.0, 0
    while True:
        for group in log_groups:
            cursor = cursors[group]
            while True:
                try:
                    page = await fetch(group, pattern, cursor.start_ms, cursor.next_token)
                except AwsError as exc:
                    if exc.kind not in RETRYABLE_KINDS:
                        raise
                    cursor.errors += 1
                    failures += 1
                    if give_up_after is not None and failures >= give_up_after:
                        raise
                    backoff = min(max_backoff, max(0.5, backoff * 2 or poll_seconds / 2))
                    wait = backoff * (0.5 + random.random() / 2)
                    if on_error is not None:
                        on_error(group, exc, wait)
                    await sleep(wait)
                    continue
                backoff, failures = 0.0, 0
                cursor.pages += 1
                for event in page.events:
                    cursor.high_ms = max(cursor.high_ms, event.timestamp_ms)
                    try:
                        record = json.loads(event.message)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(record, dict):
                        yield record
                cursor.next_token = page.next_token
                if not page.next_token:
                    break
            # the next window starts an overlap before the newest event (or before now, for a quiet group), so
            # late deliveries are still seen and a long --since is scanned once, not on every poll
            anchor = cursor.high_ms if cursor.high_ms else clock_ms()
            cursor.start_ms = max(cursor.start_ms, anchor - overlap_ms)
        if not follow:
            return
        await sleep(poll_seconds * (0.8 + random.random() * 0.4))


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
