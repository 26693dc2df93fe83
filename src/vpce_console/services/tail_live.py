"""The denial stream of `vpce tail` and the console's Denials pane: backfill, then StartLiveTail, then polling.

One sequence for both, so a denial the CLI shows is one the console shows: FilterLogEvents from `since` (a cursor
per log group), and when following either keep polling or, with `live`, stream StartLiveTail from now on and poll
again from the backfill's cursor when the session ends (the tail's event-id dedupe drops what was seen twice).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpce_console.errors import AwsError

if TYPE_CHECKING:
    from vpce_console.aws.logs import LogPage
    from vpce_console.aws.session import AwsGateway
    from vpce_console.services.tail_follow import LogCursor
    from vpce_console.services.tail_versions import PolicyVersions

ONE_SHOT_ATTEMPTS = 3
"""Failed FilterLogEvents calls in a row after which a read without `follow` gives up (re-raises)."""


@dataclass(frozen=True, slots=True)
class TailSource:
    """Which log groups to read, from when, and how to keep up."""

    log_groups: tuple[str, ...]
    pattern: str
    """The CloudWatch Logs filter pattern (`denial_filter_pattern`)."""
    since: float
    """Epoch seconds of the backfill's start."""
    follow: bool = True
    """Keep reading after the backfill (False: one pass, then the stream ends)."""
    live: bool = False
    """With `follow`: StartLiveTail after the backfill, polling only when the session ends or is unavailable."""
    poll_seconds: float = 5.0
    overlap_ms: int = 300_000
    """Each poll re-reads this much before the newest event (CloudTrail delivers late and out of order)."""


async def denial_records(
    gateway: AwsGateway,
    source: TailSource,
    *,
    versions: PolicyVersions | None = None,
    clock: Callable[[], float] = time.time,
    on_retry: Callable[[str, AwsError, float], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """CloudTrail records from the log groups, in arrival order; `versions` is refreshed before each followed record.

    `on_retry(group, error, wait)` hears each retried failure while following; `on_notice` hears the switch from
    the live session back to polling. A one-shot read re-raises after `ONE_SHOT_ATTEMPTS` failures in a row.
    """
    import json

    from vpce_console.aws.logs import filter_log_events, live_tail, log_group_arn
    from vpce_console.services.tail_follow import follow_log_groups

    notice = on_notice or (lambda message: None)
    cursors: dict[str, LogCursor] = {}

    async def fetch(group: str, pattern: str, start_ms: int, token: str | None) -> LogPage:
        return await filter_log_events(gateway, group, pattern, start_ms, token)

    async def poll(follow: bool) -> AsyncIterator[dict[str, Any]]:
        records = follow_log_groups(
            fetch,
            source.log_groups,
            source.pattern,
            start_ms=int(source.since * 1000),
            follow=follow,
            poll_seconds=source.poll_seconds,
            overlap_ms=source.overlap_ms,
            clock_ms=lambda: int(clock() * 1000),
            on_error=on_retry if follow else None,
            cursors=cursors,
            # a one-shot read gives up after a few tries (one line, exit 2); following keeps retrying, aloud
            give_up_after=None if follow else ONE_SHOT_ATTEMPTS,
            max_backoff=60.0 if follow else 4.0,
        )
        async for record in records:
            if follow and versions is not None:
                await versions.refresh()
            yield record

    if not (source.live and source.follow):
        async for record in poll(source.follow):
            yield record
        return
    async for record in poll(False):  # backfill `since`; the live session only streams what arrives from now on
        yield record
    try:
        arns = [await log_group_arn(gateway, g) for g in source.log_groups]
        async for event in live_tail(gateway, arns, source.pattern):
            try:
                record = json.loads(event.message)
            except ValueError:
                continue
            if isinstance(record, dict):
                if versions is not None:
                    await versions.refresh()
                yield record
        notice("live tail session ended; polling instead")
    except AwsError as exc:
        notice(f"live tail unavailable ({exc}); polling instead")
    async for record in poll(True):  # from the backfill's cursor; event-id dedupe drops what the live one showed
        yield record
