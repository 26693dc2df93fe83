"""The rollout's progress events: one frozen type per kind, so emitters and consumers agree on fields, not strings.

Each event's `to_json()` is one line of `vpce rollout --format json` (`event` and `time` first, then its fields in
the documented order); the console folds the same objects into its rollout view.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from vpce_console.services.lease import LeaseInfo
    from vpce_console.services.plan import RolloutPlan
    from vpce_console.services.probes import Probe
    from vpce_console.services.watch import WatchReport, WatchStatus

Json = str | int | float | bool | None | list["Json"] | dict[str, "Json"]
"""A JSON value, as `json.dumps` writes it."""


def _json(value: object) -> Json:
    """Tuples and nested dataclasses as JSON lists and objects (the line format predates the types)."""
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, str):
        return str(value)  # an enum member as its plain value
    if isinstance(value, int | float | bool) or value is None:
        return value
    return str(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Event:
    """Fields every event has; `at` is stamped by the emitting service's clock."""

    KIND: ClassVar[str] = ""
    """The `event` value of the JSON line."""
    at: float = 0.0
    """Clock time (epoch seconds)."""

    def payload(self) -> dict[str, Json]:
        """The event's own fields, in JSON-line order (default: declaration order)."""
        return {f.name: _json(getattr(self, f.name)) for f in fields(self) if f.name != "at"}

    def to_json(self) -> dict[str, Json]:
        """A flat JSON object with `event` and `time` first."""
        return {"event": self.KIND, "time": round(self.at, 3), **self.payload()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned(_Event):
    """The plan is built (also when refused: `plan.refused` says why)."""

    KIND: ClassVar[str] = "plan"
    plan: RolloutPlan
    deployed_sha256: str
    draft_sha256: str

    def payload(self) -> dict[str, Json]:
        return {
            **_json(self.plan.to_json()),  # type: ignore[dict-item]
            "deployed_sha256": self.deployed_sha256,
            "draft_sha256": self.draft_sha256,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused(_Event):
    """Nothing (more) is written: the reason, and what the refusal carries (failed step, lint codes, diff, holder)."""

    KIND: ClassVar[str] = "refused"
    reason: str
    step: str | None = None
    codes: tuple[str, ...] | None = None
    diff: str | None = None
    journal_id: str | None = None
    """The unfinished change that is live (resume or roll it back first)."""
    holder: LeaseInfo | None = None
    by_lease: bool = False
    """A lease refusal: the line names the holder (null when the lease kept changing hands)."""
    stale: bool = False
    """The lease's holder is gone or past its expiry: typing its `lease_id` breaks it (`--break-stale-lease`)."""

    def payload(self) -> dict[str, Json]:
        out: dict[str, Json] = {"reason": self.reason}
        for name in ("step", "codes", "diff", "journal_id"):
            if getattr(self, name) is not None:
                out[name] = _json(getattr(self, name))
        if self.by_lease:
            out["holder"] = None if self.holder is None else _json(asdict(self.holder))
        if self.stale:
            out["stale"] = True
        return out


@dataclass(frozen=True, slots=True)
class LintLine:
    """One lint finding as the event carries it."""

    code: str
    severity: str
    line: int
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LintChecked(_Event):
    """The draft was linted."""

    KIND: ClassVar[str] = "lint"
    errors: int
    warnings: int
    findings: tuple[LintLine, ...]

    def payload(self) -> dict[str, Json]:
        return {
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [_json(asdict(f)) for f in self.findings],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Diffed(_Event):
    """The unified diff deployed → draft."""

    KIND: ClassVar[str] = "diff"
    diff: str


@dataclass(frozen=True, slots=True)
class ChangedDecision:
    """One persona × action × resource whose endpoint decision the change flips."""

    persona: str
    action: str
    resource: str
    before: str
    after: str
    direction: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImpactAssessed(_Event):
    """The personas' decisions before and after; `note` instead of `cells` when the impact could not be evaluated."""

    KIND: ClassVar[str] = "impact"
    personas: int
    changed: tuple[ChangedDecision, ...] = ()
    note: str | None = None
    cells: int | None = None
    not_through_endpoint: tuple[str, ...] = ()

    def payload(self) -> dict[str, Json]:
        changed = [_json(asdict(c)) for c in self.changed]
        if self.cells is None:
            return {"personas": self.personas, "changed": changed, "note": self.note}
        return {
            "personas": self.personas,
            "cells": self.cells,
            "not_through_endpoint": list(self.not_through_endpoint),
            "changed": changed,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalSkipped(_Event):
    """Damaged journal lines were skipped (reported, never blocking)."""

    KIND: ClassVar[str] = "journal_skipped"
    path: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Recovered(_Event):
    """An unfinished journal entry found at start, and what became of it."""

    KIND: ClassVar[str] = "recovery"
    journal_id: str
    state: str
    """applied | rolled-back | not-applied | superseded."""
    crashed_at: str
    options: tuple[str, ...] = ()
    """What the user may do (only for a change that is live)."""

    def payload(self) -> dict[str, Json]:
        out: dict[str, Json] = {"journal_id": self.journal_id, "state": self.state, "crashed_at": self.crashed_at}
        if self.options:
            out["options"] = list(self.options)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Journaled(_Event):
    """The change is journaled before anything is written."""

    KIND: ClassVar[str] = "journal"
    journal_id: str
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RollingBack(_Event):
    """A rollback restores the document in force before `rollback_of` (`already`: an interrupted one had)."""

    KIND: ClassVar[str] = "rollback"
    journal_id: str
    rollback_of: str | None
    restore_sha256: str | None = None
    already: bool = False

    def payload(self) -> dict[str, Json]:
        out: dict[str, Json] = {"journal_id": self.journal_id, "rollback_of": self.rollback_of}
        if self.restore_sha256 is not None:
            out["restore_sha256"] = self.restore_sha256
        if self.already:
            out["already"] = True
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRun(_Event):
    """ModifyVpcEndpoint with DryRun: `ok`, or `ignored` (the API did not honour DryRun)."""

    KIND: ClassVar[str] = "dry_run"
    outcome: str
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Modified(_Event):
    """ModifyVpcEndpoint succeeded."""

    KIND: ClassVar[str] = "modify"
    outcome: str = "ok"
    endpoint_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Verified(_Event):
    """The read-back holds the document just written (`exact`: byte for byte)."""

    KIND: ClassVar[str] = "verify"
    outcome: str = "ok"
    exact: bool
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Unverified(_Event):
    """Written, but reading it back failed."""

    KIND: ClassVar[str] = "verify"
    outcome: str = "unverified"
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbesChosen(_Event):
    """The probes the watch will call."""

    KIND: ClassVar[str] = "probes"
    count: int
    evaluated: int
    probes: tuple[Probe, ...]

    def payload(self) -> dict[str, Json]:
        return {
            "count": self.count,
            "evaluated": self.evaluated,
            "probes": [_json({**p.to_json(), "label": p.label}) for p in self.probes],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class NoProbes(_Event):
    """No probe can observe the change: the watch waits `window_seconds` (or relies on CloudTrail)."""

    KIND: ClassVar[str] = "no_probes"
    evaluated: int
    window_seconds: float
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeRound(_Event):
    """One watch round: the watch's report after it."""

    KIND: ClassVar[str] = "round"
    number: int
    report: WatchReport

    @property
    def elapsed(self) -> float:
        """Seconds since the write, as the JSON line has it (milliseconds)."""
        return round(self.report.elapsed, 3)

    def payload(self) -> dict[str, Json]:
        report = self.report
        return {
            "round": self.number,
            "status": str(report.status),
            "elapsed": self.elapsed,
            "flaps": report.flaps,
            "probes": [
                {
                    "probe_id": p.probe_id,
                    "streak": p.streak,
                    "last": p.last_outcome,
                    "new": p.new,
                    "old": p.old,
                    "flaps": p.flaps,
                }
                for p in report.probes
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChanged(_Event):
    """The watch's status changed (pending → converging → converged, …)."""

    KIND: ClassVar[str] = "status"
    status: WatchStatus
    elapsed: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Flapping(_Event):
    """A probe went back to the old decision after looking new."""

    KIND: ClassVar[str] = "flapping"
    flaps: int
    probes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PassiveEvidence(_Event):
    """CloudTrail VpceAccessDenied records seen under the new document."""

    KIND: ClassVar[str] = "passive"
    events: int
    event_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PassiveFailed(_Event):
    """Reading CloudTrail for passive evidence failed this round."""

    KIND: ClassVar[str] = "passive"
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DenialRate(_Event):
    """The denial guard fired: more denials per minute than the threshold after convergence."""

    KIND: ClassVar[str] = "denials"
    per_minute: float
    threshold: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Unreachable(_Event):
    """The endpoint could not be read this round."""

    KIND: ClassVar[str] = "unreachable"
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Superseded(_Event):
    """Someone else wrote the endpoint during the watch."""

    KIND: ClassVar[str] = "superseded"
    deployed_sha256: str
    writer: str
    diff: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaseChanged(_Event):
    """The endpoint lease was acquired, taken, broken, lost, released, or a renewal or release failed."""

    KIND: ClassVar[str] = "lease"
    action: str
    previous: str | None = None
    holder: str | None = None
    lease_id: str | None = None
    error: str | None = None
    expires: str | None = None

    def payload(self) -> dict[str, Json]:
        out: dict[str, Json] = {"action": self.action}
        for name in ("previous", "holder", "lease_id", "error", "expires"):
            value = getattr(self, name)
            # a lost lease always names who holds it now (null: nobody)
            if value is not None or (name == "holder" and self.action == "lost"):
                out[name] = value
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Replayed(_Event):
    """The plan step's replay of the draft against the last week of trail calls (`vpce rollout`, before the plan)."""

    KIND: ClassVar[str] = "replay"
    state: str
    """ready | off (no trail, or --no-trail) | failed."""
    line: str
    """`this draft would have denied …`, or `not replayed: …`."""
    newly_denied_calls: int | None = None
    newly_denied_accounts: tuple[str, ...] | None = None
    undetermined_calls: int | None = None
    records: int | None = None

    def payload(self) -> dict[str, Json]:
        out: dict[str, Json] = {"state": self.state, "line": self.line}
        if self.state == "ready":
            out["newly_denied_calls"] = self.newly_denied_calls
            out["newly_denied_accounts"] = _json(self.newly_denied_accounts or ())
            out["undetermined_calls"] = self.undetermined_calls
            out["records"] = self.records
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Surprise:
    """Unpredicted denials of one caller and action since the write."""

    account: str
    principal: str | None
    action: str
    calls: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveDenialsCompared(_Event):
    """After the watch: the endpoint's denials since the write against the replay's prediction and the plan."""

    KIND: ClassVar[str] = "live_denials"
    compared: bool
    reason: str = ""
    """Why nothing was compared (no replay ran, no log groups, the groups could not be read)."""
    denials: int = 0
    predicted: int = 0
    probes: int = 0
    old_document: int = 0
    unpredicted: int = 0
    surprises: tuple[Surprise, ...] = ()

    def payload(self) -> dict[str, Json]:
        if not self.compared:
            return {"compared": False, "reason": self.reason}
        return {
            "compared": True,
            "denials": self.denials,
            "predicted": self.predicted,
            "probes": self.probes,
            "old_document": self.old_document,
            "unpredicted": self.unpredicted,
            "surprises": [_json(asdict(s)) for s in self.surprises],
        }


RolloutEvent = (
    Planned
    | Refused
    | LintChecked
    | Diffed
    | ImpactAssessed
    | JournalSkipped
    | Recovered
    | Journaled
    | RollingBack
    | DryRun
    | Modified
    | Verified
    | Unverified
    | ProbesChosen
    | NoProbes
    | ProbeRound
    | StatusChanged
    | Flapping
    | PassiveEvidence
    | PassiveFailed
    | DenialRate
    | Unreachable
    | Superseded
    | LeaseChanged
    | Replayed
    | LiveDenialsCompared
)
"""Every event a rollout, rollback or resume emits."""
