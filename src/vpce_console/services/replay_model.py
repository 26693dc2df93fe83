"""Replay's vocabulary: call shapes, policy versions in the window, outcome groups, callers and the report.

The trail engine aggregates a window into distinct call shapes (`trail_sql`); each shape is replayed against the
draft and the version in force when its calls were made (`services.replay`); the report is what `vpce replay`
prints and what the console's Observed tab, plan step and watch read (its JSON).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vpce_console.policy.record import action_of
from vpce_console.services.trail_sql import SHAPE_COLUMNS

Lookup = Callable[[str], Any]
"""Source IP -> a VPC (`trail.Network`) or None."""


@dataclass(frozen=True, slots=True)
class Shape:
    """Records equal in everything the policy context is built from, in one policy period."""

    identity_type: str | None
    arn: str | None
    account: str | None
    issuer_arn: str | None
    event_source: str
    event_name: str
    source_ip: str | None
    region: str | None
    endpoint_account: str | None
    denied: bool
    """AWS's decision: the records carry `VpceAccessDenied`."""
    period: int
    calls: int
    first_seen: str
    last_seen: str

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Shape:
        """A row of the shape query (columns in `SHAPE_COLUMNS` order, then denied, period, calls, first, last)."""
        n = len(SHAPE_COLUMNS)
        values = [None if v is None else str(v) for v in row[:n]]
        return cls(
            values[0],
            values[1],
            values[2],
            values[3],
            values[4] or "",
            values[5] or "",
            values[6],
            values[7],
            values[8],
            bool(int(row[n])),
            int(row[n + 1]),
            int(row[n + 2]),
            str(row[n + 3]),
            str(row[n + 4]),
        )

    def record(self, endpoint_id: str) -> dict[str, Any]:
        """The shape as a CloudTrail record (the fields `record_request` reads)."""
        identity: dict[str, Any] = {"type": self.identity_type, "accountId": self.account}
        if self.arn:
            identity["arn"] = self.arn
        if self.issuer_arn:
            identity["sessionContext"] = {"sessionIssuer": {"arn": self.issuer_arn}}
        return {
            "userIdentity": identity,
            "eventSource": self.event_source,
            "eventName": self.event_name,
            "sourceIPAddress": self.source_ip,
            "awsRegion": self.region,
            "vpcEndpointId": endpoint_id,
            "vpcEndpointAccountId": self.endpoint_account,
        }

    @property
    def action(self) -> str:
        """`service:Action` as IAM names it."""
        return action_of(self.event_source, self.event_name)


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """The document in force from `start` (None: already at the window's start) until the next version."""

    start: datetime | None
    text: str | None
    """None when the document in force then is not known (a change seen only as a hash, or before the journal)."""
    source: str
    """`deployed`, `journal` or `cloudtrail`."""


def versions_in_window(
    current: str | None,
    since: datetime,
    changes: Sequence[tuple[datetime, str | None, str | None, str]],
) -> list[PolicyVersion]:
    """Periods of the window: (write time, document before if known, document after if known, source) per change.

    The version at the window's start is the last one written before it, else the `before` of the first change
    inside it, else — with no change inside the window — the current document.
    """
    ordered = sorted(changes, key=lambda c: c[0])
    before = [c for c in ordered if c[0] < since]
    inside = [c for c in ordered if c[0] >= since]
    if before and before[-1][2] is not None:
        first = PolicyVersion(None, before[-1][2], before[-1][3])
    elif inside:
        first = PolicyVersion(None, inside[0][1], inside[0][3])
    else:
        first = PolicyVersion(None, current, "deployed")
    out = [first]
    for when, _, after, source in inside:
        out.append(PolicyVersion(when, after, source))
    if inside and out[-1].text is None and current is not None:
        out[-1] = PolicyVersion(out[-1].start, current, "deployed")
    return out


@dataclass
class Group:
    """Calls of one outcome: counts, who, from where, what."""

    calls: int = 0
    shapes: int = 0
    accounts: Counter[str] = field(default_factory=Counter)
    vpcs: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, shape: Shape, vpc: str, detail: Mapping[str, Any] | None = None) -> None:
        """Count one shape."""
        self.calls += shape.calls
        self.shapes += 1
        self.accounts[shape.account or "unknown"] += shape.calls
        self.vpcs[vpc] += shape.calls
        self.actions[shape.action] += shape.calls
        if detail is not None and len(self.examples) < 20:
            self.examples.append(dict(detail))

    def to_json(self) -> dict[str, Any]:
        """Counts heaviest first."""
        return {
            "calls": self.calls,
            "shapes": self.shapes,
            "accounts": [{"account": a, "calls": n} for a, n in self.accounts.most_common()],
            "vpcs": [{"vpc": v, "calls": n} for v, n in self.vpcs.most_common()],
            "top_actions": [{"action": a, "calls": n} for a, n in self.actions.most_common(10)],
            "examples": self.examples,
        }


@dataclass
class ReplayReport:
    """Everything `vpce replay` prints."""

    endpoint_id: str
    since: datetime
    versions: list[PolicyVersion]
    newly_denied: Group = field(default_factory=Group)
    newly_allowed: Group = field(default_factory=Group)
    undetermined: dict[frozenset[str], Group] = field(default_factory=dict)
    unchanged: Group = field(default_factory=Group)
    agree: int = 0
    agree_undetermined: int = 0
    disagree: int = 0
    version_unknown: int = 0
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0
    shapes: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    engine: str = "local"
    predicted: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    """(account, principal key or '', action, draft decision) -> calls the draft denies or leaves undetermined."""
    callers: dict[tuple[str, str, str], Caller] = field(default_factory=dict)
    """(account, principal key or '', VPC) -> who called, how often and what: personas from evidence."""

    @property
    def agreement(self) -> float | None:
        """Share of calls (with a known version) where replaying the version in force reproduces AWS's decision."""
        compared = self.agree + self.agree_undetermined + self.disagree
        return None if compared == 0 else (self.agree + self.agree_undetermined) / compared

    def to_json(self) -> dict[str, Any]:
        """Stable keys for --format json."""
        from vpce_console.services.journal import policy_version

        return {
            "endpoint_id": self.endpoint_id,
            "since": self.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "engine": self.engine,
            "records": self.records,
            "shapes": self.shapes,
            "versions": [
                {
                    "from": None if v.start is None else v.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "version": policy_version(v.text),
                    "source": v.source,
                }
                for v in self.versions
            ],
            "newly_denied": self.newly_denied.to_json(),
            "newly_allowed": self.newly_allowed.to_json(),
            "undetermined": [
                {
                    "depends_on": sorted(keys),
                    "calls": g.calls,
                    "shapes": g.shapes,
                    "accounts": [{"account": a, "calls": n} for a, n in g.accounts.most_common()],
                }
                for keys, g in sorted(self.undetermined.items(), key=lambda kv: -kv[1].calls)
            ],
            "unchanged": {"calls": self.unchanged.calls, "shapes": self.unchanged.shapes},
            "sanity": {
                "agreement": None if self.agreement is None else round(self.agreement, 6),
                "agree": self.agree,
                "agree_undetermined": self.agree_undetermined,
                "disagree": self.disagree,
                "version_unknown": self.version_unknown,
                "disagreements": self.disagreements[:20],
            },
            "seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "predicted_denials": [
                {"account": a, "principal": p or None, "action": act, "draft": kind, "calls": n}
                for (a, p, act, kind), n in sorted(self.predicted.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "callers": [
                c.to_json() for c in sorted(self.callers.values(), key=lambda c: (-c.calls, c.account, c.principal))
            ][:TOP_CALLERS],
        }


TOP_CALLERS = 20
"""Observed callers a report keeps (heaviest first): the personas from evidence the editor offers."""


@dataclass
class Caller:
    """One observed caller (a role, or an account when AWS redacted the ARN) from one VPC."""

    account: str
    principal: str
    """The role ARN (session name dropped) or the caller ARN; '' when redacted to the account."""
    vpc: str
    source_ip: str | None
    calls: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    denied: int = 0
    """Of its calls, how many the draft denies."""
    undetermined: int = 0
    """Of its calls, how many the draft leaves undetermined (a key the record lacks)."""

    def to_json(self) -> dict[str, Any]:
        """What the editor shows as a persona from evidence."""
        return {
            "account": self.account,
            "principal": self.principal or None,
            "redacted": not self.principal,
            "vpc": self.vpc,
            "source_ip": self.source_ip,
            "calls": self.calls,
            "draft_denies": self.denied,
            "draft_undetermined": self.undetermined,
            "actions": [{"action": a, "calls": n} for a, n in self.actions.most_common(5)],
        }


def principal_key(arn: str | None) -> str:
    """A caller as a stable key: an assumed-role session becomes its role (session names change per call)."""
    if not arn:
        return ""
    head, _, rest = arn.partition(":assumed-role/")
    if rest:
        role = rest.split("/", 1)[0]
        return f"{head.replace(':sts:', ':iam:')}:role/{role}"
    return arn
