"""Which endpoint policy version was in force when: the journal, LookupEvents and the deployed document as floor."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from vpce_console.errors import AwsError
from vpce_console.services.classify import Denial


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
