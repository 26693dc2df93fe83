"""The change journal: an append-only, fsynced JSONL file that always holds the exact bytes needed to restore.

Every rollout and rollback writes its `begin` line (before and after documents in full, with sha256) before it
touches AWS, then one line per step, then an `end` line. A change without `end` is unfinished: the process died,
and the next run offers to resume the watch or roll back. Torn last lines (a crash mid-write) are skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vpce_console.paths import private_dir, private_file, state_dir

JOURNAL_FILE = "journal.jsonl"

FINAL_OUTCOMES = (
    "converged",
    "timed_out",
    "unobserved",
    "applied",
    "rolled_back",
    "failed",
    "aborted",
    "refused",
    "superseded",
)
"""Outcomes an `end` line may carry."""


def sha256_text(text: str) -> str:
    """sha256 of the document's UTF-8 bytes, the identity of a policy version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def policy_version(text: str | None) -> str | None:
    """The short policy version shown next to denials: the first 12 hex digits of the sha256."""
    return None if text is None else sha256_text(text)[:12]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class JournalStep:
    """One recorded step of a change."""

    step: str
    """begin, dry_run, modify, verify, watch, rollback, …"""
    outcome: str
    """started, ok, failed, or a watch status."""
    at: float
    """Epoch seconds."""
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One change (rollout or rollback) folded from its journal lines."""

    journal_id: str
    kind: str
    """apply | rollback."""
    endpoint_id: str
    account_id: str | None
    region: str | None
    caller: Mapping[str, Any]
    """Caller identity at the time (account, arn, user id)."""
    before_text: str
    """The deployed document, byte for byte, when the change began."""
    before_sha256: str
    after_text: str
    """The document being written, byte for byte."""
    after_sha256: str
    started_at: float
    steps: tuple[JournalStep, ...]
    outcome: str | None
    """Final outcome, or None while unfinished."""
    finished_at: float | None
    rollback_of: str | None = None
    """journal_id of the change a rollback undid."""

    @property
    def finished(self) -> bool:
        """True once an `end` line was written."""
        return self.outcome is not None

    @property
    def last_step(self) -> JournalStep | None:
        """The most recent step, where a crash happened for an unfinished entry."""
        return self.steps[-1] if self.steps else None

    @property
    def written_at(self) -> float | None:
        """When ModifyVpcEndpoint succeeded (None if it never did, as far as the journal knows)."""
        for step in self.steps:
            if step.step == "modify" and step.outcome == "ok":
                return step.at
        return None

    def to_json(self, *, texts: bool = False) -> dict[str, Any]:
        """A stable dict for `vpce history --format json`; policy texts only on request (they can be 20 KB)."""
        data: dict[str, Any] = {
            "journal_id": self.journal_id,
            "kind": self.kind,
            "endpoint_id": self.endpoint_id,
            "account_id": self.account_id,
            "region": self.region,
            "caller": dict(self.caller),
            "started_at": _iso(self.started_at),
            "finished_at": None if self.finished_at is None else _iso(self.finished_at),
            "outcome": self.outcome,
            "unfinished": not self.finished,
            "before_sha256": self.before_sha256,
            "after_sha256": self.after_sha256,
            "before_version": self.before_sha256[:12],
            "after_version": self.after_sha256[:12],
            "before_chars": len(self.before_text),
            "after_chars": len(self.after_text),
            "written_at": None if self.written_at is None else _iso(self.written_at),
            "rollback_of": self.rollback_of,
            "steps": [{"step": s.step, "outcome": s.outcome, "at": _iso(s.at), **dict(s.detail)} for s in self.steps],
        }
        if texts:
            data["before_text"] = self.before_text
            data["after_text"] = self.after_text
        return data


class Journal:
    """Append-only JSONL journal under the state dir; every line is fsynced before the call returns."""

    def __init__(self, path: Path | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path if path is not None else state_dir() / JOURNAL_FILE
        self._clock = clock
        self.skipped: list[str] = []
        """Lines the last read could not use ("line 7: at is str, not a number"), for the caller to report."""

    # writing -------------------------------------------------------------------------------------------------

    def _append(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        new_dir = not self.path.parent.exists()
        private_dir(self.path.parent)
        if new_dir:
            _fsync_dir(self.path.parent.parent)
        fd = private_file(self.path, append=True)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(line)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if new_dir:
            _fsync_dir(self.path.parent)

    def begin(
        self,
        *,
        kind: str,
        endpoint_id: str,
        before_text: str,
        after_text: str,
        account_id: str | None = None,
        region: str | None = None,
        caller: Mapping[str, Any] | None = None,
        rollback_of: str | None = None,
    ) -> str:
        """Record a change before anything is written to AWS; returns its journal id."""
        journal_id = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(self._clock()))}-{uuid.uuid4().hex[:8]}"
        self._append(
            {
                "type": "begin",
                "journal_id": journal_id,
                "at": self._clock(),
                "kind": kind,
                "endpoint_id": endpoint_id,
                "account_id": account_id,
                "region": region,
                "caller": dict(caller or {}),
                "before": before_text,
                "before_sha256": sha256_text(before_text),
                "after": after_text,
                "after_sha256": sha256_text(after_text),
                "rollback_of": rollback_of,
            }
        )
        return journal_id

    def step(self, journal_id: str, step: str, outcome: str, **detail: Any) -> None:
        """Record one step's outcome (`started` lines mark where a crash interrupted)."""
        self._append(
            {
                "type": "step",
                "journal_id": journal_id,
                "at": self._clock(),
                "step": step,
                "outcome": outcome,
                "detail": detail,
            }
        )

    def finish(self, journal_id: str, outcome: str, **detail: Any) -> None:
        """Close a change with its final outcome."""
        if outcome not in FINAL_OUTCOMES:
            raise ValueError(f"unknown journal outcome {outcome!r}")
        self._append(
            {"type": "end", "journal_id": journal_id, "at": self._clock(), "outcome": outcome, "detail": detail}
        )

    # reading -------------------------------------------------------------------------------------------------

    def _records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        self.skipped = []
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        lines = raw.splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                if number < len(lines):  # a torn last line is a crash mid-write, not damage worth reporting
                    self.skipped.append(f"line {number}: not a JSON record")
                continue
            if isinstance(record, dict) and isinstance(record.get("journal_id"), str):
                yield number, record
            else:
                self.skipped.append(f"line {number}: no journal_id")

    def entries(self, endpoint_id: str | None = None) -> list[JournalEntry]:
        """Every change in the order it began, optionally for one endpoint.

        A line with a field of the wrong type (hand-edited, or written by another tool) is skipped and listed in
        `skipped` instead of stopping every rollout and rollback on this machine.
        """
        begins: dict[str, tuple[int, dict[str, Any]]] = {}
        steps: dict[str, list[JournalStep]] = {}
        ends: dict[str, tuple[int, dict[str, Any]]] = {}
        for number, record in self._records():
            jid = record["journal_id"]
            kind = record.get("type")
            try:
                if kind == "begin":
                    _check_begin(record)
                    begins.setdefault(jid, (number, record))
                elif kind == "step":
                    detail = record.get("detail")
                    steps.setdefault(jid, []).append(
                        JournalStep(
                            _str(record.get("step"), "step"),
                            _str(record.get("outcome"), "outcome"),
                            _number(record.get("at", 0.0), "at"),
                            detail if isinstance(detail, dict) else {},
                        )
                    )
                elif kind == "end":
                    _str(record.get("outcome"), "outcome")
                    _number(record.get("at", 0.0), "at")
                    ends.setdefault(jid, (number, record))
            except _BadField as exc:
                self.skipped.append(f"line {number}: {exc}")
        result = []
        for jid, (_, b) in begins.items():
            if endpoint_id is not None and b.get("endpoint_id") != endpoint_id:
                continue
            end = ends.get(jid, (0, None))[1]
            result.append(
                JournalEntry(
                    journal_id=jid,
                    kind=str(b.get("kind")),
                    endpoint_id=str(b.get("endpoint_id")),
                    account_id=b.get("account_id"),
                    region=b.get("region"),
                    caller=b.get("caller") or {},
                    before_text=str(b.get("before", "")),
                    before_sha256=str(b.get("before_sha256", "")),
                    after_text=str(b.get("after", "")),
                    after_sha256=str(b.get("after_sha256", "")),
                    started_at=float(b.get("at", 0.0)),
                    steps=tuple(steps.get(jid, ())),
                    outcome=None if end is None else str(end.get("outcome")),
                    finished_at=None if end is None else float(end.get("at", 0.0)),
                    rollback_of=b.get("rollback_of"),
                )
            )
        return result

    def get(self, journal_id: str) -> JournalEntry | None:
        """One change by id."""
        return next((e for e in self.entries() if e.journal_id == journal_id), None)

    def unfinished(self, endpoint_id: str | None = None) -> list[JournalEntry]:
        """Changes whose process died before writing their `end` line."""
        return [e for e in self.entries(endpoint_id) if not e.finished]

    def last_written(self, endpoint_id: str) -> JournalEntry | None:
        """The most recent change to this endpoint that reached AWS (modify ok), finished or not."""
        written = [e for e in self.entries(endpoint_id) if e.written_at is not None]
        return written[-1] if written else None

    def policy_timeline(self, endpoint_id: str | None = None) -> list[tuple[float, str, str]]:
        """(write time, endpoint id, after sha256) of every change that reached AWS, oldest first."""
        rows = [(e.written_at, e.endpoint_id, e.after_sha256) for e in self.entries(endpoint_id) if e.written_at]
        return sorted((t, ep, sha) for t, ep, sha in rows if t is not None)


class _BadField(ValueError):
    """A journal line whose field has the wrong type."""


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _BadField(f"{name} is {type(value).__name__}, not a string")
    return value


def _optional_str(value: Any, name: str) -> None:
    if value is not None and not isinstance(value, str):
        raise _BadField(f"{name} is {type(value).__name__}, not a string")


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadField(f"{name} is {type(value).__name__}, not a number")
    return float(value)


def _check_begin(record: Mapping[str, Any]) -> None:
    """Every field a JournalEntry is built from has the type the writer gives it."""
    for name in ("kind", "endpoint_id", "before", "before_sha256", "after", "after_sha256"):
        _str(record.get(name), name)
    for name in ("account_id", "region", "rollback_of"):
        _optional_str(record.get(name), name)
    _number(record.get("at", 0.0), "at")
    caller = record.get("caller")
    if caller is not None and not isinstance(caller, dict):
        raise _BadField(f"caller is {type(caller).__name__}, not an object")


def _fsync_dir(path: Path) -> None:
    """Persist a directory entry so a fresh journal file survives a power cut, not just a process kill."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class RollbackRefused(ValueError):
    """Why no rollback target can be chosen (one line for the user)."""


@dataclass(frozen=True, slots=True)
class RollbackTarget:
    """What a rollback restores: the document in force before one chosen change."""

    entry: JournalEntry
    """The change being undone."""
    text: str
    """The document to write back, byte for byte (the entry's `before`)."""
    interrupted: JournalEntry | None = None
    """A crashed or failed rollback this one retries (it undid `entry` too)."""
    already: bool = False
    """True when the interrupted rollback already wrote `text`: nothing left to write, only to close."""

    @property
    def sha256(self) -> str:
        """sha256 of the document to restore."""
        return sha256_text(self.text)


def rollback_target(
    entries: list[JournalEntry], endpoint_id: str, deployed_text: str, *, to: str | None = None
) -> RollbackTarget:
    """The one rule for "which document does a rollback restore".

    The document in force before the chosen change: `to` (a journal id), by default the endpoint's last change
    that reached AWS. Rolling back a rollback is never the default (it re-applies what was just removed): when
    the last change is itself a rollback, `to` is required. The deployed document must still be the one the
    journal's last change wrote, so a change made outside this journal is never overwritten.
    """
    mine = [e for e in entries if e.endpoint_id == endpoint_id]
    written = [e for e in mine if e.written_at is not None]
    if to is not None:
        entry = next((e for e in entries if e.journal_id == to), None)
        if entry is None:
            raise RollbackRefused(f"no journal entry {to} (see `vpce history --endpoint {endpoint_id}`)")
        if entry.endpoint_id != endpoint_id:
            raise RollbackRefused(f"journal entry {to} changed {entry.endpoint_id}, not {endpoint_id}")
        if entry.written_at is None:
            raise RollbackRefused(f"change {to} never reached AWS ({entry.outcome or 'unfinished'}): nothing to undo")
    elif not written:
        raise RollbackRefused(f"the journal has no change to {endpoint_id} to roll back")
    else:
        entry = written[-1]
        by_id = {e.journal_id: e for e in mine}
        original = by_id.get(entry.rollback_of or "")
        if entry.kind == "rollback" and original is not None and (not entry.finished or entry.outcome == "failed"):
            # retrying a crashed or failed rollback is not a rollback of a rollback: it undoes what that rollback
            # was undoing, and restores the document in force before it, never the one the rollback removed
            already = original.before_sha256 == sha256_text(deployed_text)
            if not already and entry.after_sha256 != sha256_text(deployed_text):
                raise RollbackRefused(
                    f"the deployed policy is not the one change {entry.journal_id} wrote (changed outside this "
                    "journal): refusing to overwrite it"
                )
            return RollbackTarget(original, original.before_text, interrupted=entry, already=already)
        if entry.kind == "rollback":
            raise RollbackRefused(
                f"the last change to {endpoint_id} ({entry.journal_id}) is itself a rollback of {entry.rollback_of}: "
                "rolling it back would re-apply the document it removed. Choose the change to undo with "
                f"--to JOURNAL_ID (see `vpce history --endpoint {endpoint_id}`)"
            )
    latest = written[-1] if written else None
    if latest is not None and latest.after_sha256 != sha256_text(deployed_text):
        raise RollbackRefused(
            f"the deployed policy is not the one change {latest.journal_id} wrote (changed outside this journal): "
            "refusing to overwrite it"
        )
    return RollbackTarget(entry, entry.before_text)
