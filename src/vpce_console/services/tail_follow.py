"""Following CloudWatch Logs groups with FilterLogEvents: the denial pattern, a cursor per group, retries."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vpce_console.aws.logs import LogPage
from vpce_console.errors import AwsError


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
