"""Replay: what a draft policy would have done to the calls that really went through an endpoint.

The trail engine aggregates the window into distinct call shapes (one query, both dialects: `trail_sql`), each
shape becomes a partial request (`policy.record`), and the draft and the version in force when the calls were
made are evaluated three-valued (`policy.partial`). The baseline is what AWS decided (a recorded
`VpceAccessDenied` or not); replaying the version in force must reproduce it, and that agreement is reported on
every run, disagreements listed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vpce_console.policy.partial import PartialDecision, PartialPolicy, compile_partial
from vpce_console.policy.record import IAM_PREFIX, ContextMap, action_of, record_request
from vpce_console.policy.vocab import Progress
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


def replay_shapes(
    shapes: Sequence[Shape],
    versions: Sequence[PolicyVersion],
    draft: PartialPolicy,
    *,
    endpoint_id: str,
    endpoint_vpc: str | None,
    facts: ContextMap,
    vpc_of: Lookup | None = None,
    since: datetime | None = None,
) -> ReplayReport:
    """Evaluate every shape against the draft and the version in force; group by outcome (pure)."""
    started = time.perf_counter()
    compiled: list[PartialPolicy | None] = []
    for v in versions:
        try:
            compiled.append(compile_partial(v.text) if v.text is not None else None)
        except ValueError:
            compiled.append(None)  # a document AWS would not hold: treat its period as unknown
    report = ReplayReport(endpoint_id, since or datetime.now(UTC), list(versions))
    # heaviest first, ties in a fixed order: both engines (and any row order) give the same report
    ordered = sorted(shapes, key=lambda sh: (-sh.calls, *(("" if v is None else str(v)) for v in _fields(sh))))
    for shape in ordered:
        report.records += shape.calls
        report.shapes += 1
        request = record_request(shape.record(endpoint_id), endpoint_vpc=endpoint_vpc, facts=facts)
        net = vpc_of(shape.source_ip) if vpc_of is not None and shape.source_ip else None
        vpc = net.vpc_id if net is not None else f"unknown ({shape.source_ip})"
        policy = compiled[shape.period] if 0 <= shape.period < len(compiled) else None
        if policy is None:
            report.version_unknown += shape.calls
        else:
            _sanity(report, shape, policy.evaluate(request))
        new = draft.evaluate(request)
        who = principal_key(shape.issuer_arn or shape.arn)
        account = shape.account or "unknown"
        if new.allowed is not True:
            kind = "undetermined" if new.allowed is None else "deny"
            report.predicted[(account, who, shape.action, kind)] += shape.calls
        caller = report.callers.get((account, who, vpc))
        if caller is None:
            caller = report.callers[(account, who, vpc)] = Caller(account, who, vpc, shape.source_ip)
        caller.calls += shape.calls
        caller.actions[shape.action] += shape.calls
        caller.denied += shape.calls if new.allowed is False else 0
        caller.undetermined += shape.calls if new.allowed is None else 0
        detail = {
            "account": shape.account,
            "principal": shape.arn or f"(redacted: {shape.account})",
            "action": shape.action,
            "source_ip": shape.source_ip,
            "vpc": vpc,
            "calls": shape.calls,
            "aws": "denied" if shape.denied else "allowed",
        }
        if new.allowed is None:
            keys = new.allow_depends_on or new.depends_on
            report.undetermined.setdefault(frozenset(keys), Group()).add(shape, vpc)
        elif not shape.denied and new.allowed is False:
            report.newly_denied.add(shape, vpc, {**detail, "draft": new.kind})
        elif shape.denied and new.allowed is True:
            report.newly_allowed.add(shape, vpc, detail)
        else:
            report.unchanged.add(shape, vpc)
    report.timings["evaluate"] = time.perf_counter() - started
    return report


def _fields(shape: Shape) -> tuple[Any, ...]:
    return (
        shape.account,
        shape.arn,
        shape.issuer_arn,
        shape.event_source,
        shape.event_name,
        shape.source_ip,
        shape.region,
        shape.identity_type,
        shape.endpoint_account,
        shape.denied,
        shape.period,
    )


def _sanity(report: ReplayReport, shape: Shape, decision: PartialDecision) -> None:
    allowed = decision.allowed
    if allowed is None:
        report.agree_undetermined += shape.calls
    elif allowed != shape.denied:
        report.agree += shape.calls
    else:
        report.disagree += shape.calls
        if len(report.disagreements) < 20:
            report.disagreements.append(
                {
                    "account": shape.account,
                    "principal": shape.arn or f"(redacted: {shape.account})",
                    "action": shape.action,
                    "period": shape.period,
                    "aws": "denied" if shape.denied else "allowed",
                    "replayed": decision.kind,
                    "calls": shape.calls,
                }
            )


# ---------------------------------------------------------------- the whole run (CLI and console)


def observed_line(doc: Mapping[str, Any], days: int = 7) -> str:
    """The one sentence the rollout plan shows: what this draft would have denied of the last days' calls."""
    denied = doc["newly_denied"]
    undetermined = sum(g["calls"] for g in doc["undetermined"])
    line = (
        f"this draft would have denied {denied['calls']} call(s) from {len(denied['accounts'])} account(s) "
        f"in the last {days} days"
    )
    if undetermined:
        line += f" ({undetermined} more undetermined)"
    return line


def observed_text(doc: Mapping[str, Any], days: int = 7, probes: Mapping[str, str] | None = None) -> str:
    """The editor's Observed tab: the flips heaviest first, with counts, then what stays open and the sanity."""
    out = [observed_line(doc, days) + f" — {doc['records']} call(s) replayed", ""]
    for title, key in (("Newly denied (AWS allowed)", "newly_denied"), ("Newly allowed (AWS denied)", "newly_allowed")):
        group = doc[key]
        out.append(f"{title}: {group['calls']} call(s) in {group['shapes']} shape(s)")
        for ex in group["examples"][:8]:
            out.append(f"  {ex['calls']:>6}  {ex['principal']}  {ex['action']}  {ex['vpc']}")
    for g in doc["undetermined"]:
        out.append(f"Undetermined on {', '.join(g['depends_on']) or '?'}: {g['calls']} call(s)")
    sanity = doc["sanity"]
    figure = "n/a" if sanity["agreement"] is None else f"{sanity['agreement'] * 100:.2f} %"
    out.append(f"Sanity: the versions in force reproduce AWS's decisions for {figure} of calls")
    out.extend(["", *persona_lines(doc, probes or {})])
    return "\n".join(out)


def persona_lines(doc: Mapping[str, Any], probes: Mapping[str, str], limit: int = 8) -> list[str]:
    """Personas from evidence: the heaviest observed callers, with their counts and what the draft does to them.

    `probes` maps a role ARN (or `account/vpc` for a caller AWS redacted to its account) to the probe that can
    act as that caller: a configured probe role, or a workload whose keys this machine holds. A redacted caller is
    an account-level persona, and said so.
    """
    callers = list(doc.get("callers", ()))[:limit]
    if not callers:
        return []
    out = [f"Observed personas (heaviest {len(callers)} callers of the week, from the trail):"]
    for c in callers:
        redacted = f"account {c['account']} (account-level: AWS redacted the ARN)"
        who = redacted if c["redacted"] else str(c["principal"])
        actions = ", ".join(a["action"].split(":", 1)[-1] for a in c["actions"][:3])
        verdict = []
        if c.get("draft_denies"):
            verdict.append(f"draft denies {c['draft_denies']}")
        if c.get("draft_undetermined"):
            verdict.append(f"{c['draft_undetermined']} undetermined")
        line = f"  observed {c['calls']:>6}  {who}  {c['vpc']}  {actions}"
        if verdict:
            line += f"  [{', '.join(verdict)}]"
        probe = probes.get(str(c["principal"]) if c["principal"] else f"{c['account']}/{c['vpc']}")
        if probe:
            line += f"  · probe: {probe}"
        out.append(line)
    return out


LOOKBACK_DAYS = 90
"""LookupEvents keeps 90 days: the version in force at the window's start is the last change seen in them."""


async def run_replay(
    gateway: Any,
    config: Any,
    endpoint_id: str,
    draft: PartialPolicy,
    *,
    since: datetime,
    now: datetime,
    engine: str = "local",
    progress: Progress | None = None,
    default_region: str | None = None,
    inventory: Any = None,
) -> ReplayReport:
    """Inventory (for the endpoint, its VPC and the IP owners), versions, one shape query, evaluation."""
    from datetime import timedelta

    from vpce_console.aws.logs import lookup_policy_changes
    from vpce_console.errors import AwsError, UsageError
    from vpce_console.services.inventory import load_inventory
    from vpce_console.services.journal import Journal
    from vpce_console.services.trail import IpMap, networks_from_inventory
    from vpce_console.services.trail_sql import ShapeQuestion

    say = progress or (lambda _m: None)
    if not config.trail.bucket:
        raise UsageError("no trail configured: set trail.bucket (docs/cli/usage.md shows how)")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if inventory is None:
        inventory = await load_inventory(gateway, config, progress=say)
    endpoint = next((e for e in inventory.endpoints if e.endpoint_id == endpoint_id), None)
    if endpoint is None:
        raise UsageError(f"--endpoint {endpoint_id}: not a hub endpoint in the inventory")
    timings["inventory"] = time.perf_counter() - started
    started = time.perf_counter()
    changes: list[tuple[datetime, str | None, str | None, str]] = []
    for entry in Journal().entries(endpoint_id):
        if entry.written_at is not None:
            when = datetime.fromtimestamp(entry.written_at, UTC)
            changes.append((when, entry.before_text, entry.after_text, "journal"))
    try:
        say(f"replay: policy changes of {endpoint_id} (LookupEvents)")
        events = await lookup_policy_changes(
            gateway,
            start=now - timedelta(days=LOOKBACK_DAYS),
            end=now,
            endpoint_id=endpoint_id,
            account_id=endpoint.account_id,
        )
    except AwsError as exc:
        say(f"replay: LookupEvents unavailable ({exc}); using the journal only")
        events = []
    seen = {(round(c[0].timestamp()), c[2]) for c in changes}
    for ev in events:
        if ev.error_code is None and (round(ev.event_time.timestamp()), ev.policy_text) not in seen:
            changes.append((ev.event_time, None, ev.policy_text, "cloudtrail"))
    versions = versions_in_window(endpoint.policy_text, since, changes)
    timings["versions"] = time.perf_counter() - started
    accounts = list(config.trail.accounts) or [h.account_id for h in config.hubs if h.account_id]
    accounts = accounts or [inventory.caller.account_id]
    regions = list(config.trail.regions) or [h.region for h in config.hubs if h.region] or [default_region]
    accounts = list(dict.fromkeys(a for a in accounts if a))
    regions = list(dict.fromkeys(r for r in regions if r))
    boundaries = tuple(v.start for v in versions[1:] if v.start is not None)
    question = ShapeQuestion(endpoint_id, since, boundaries, tuple(accounts), tuple(regions))
    if engine == "athena":
        rows = await _athena_rows(gateway, config.trail, question, say, timings)
    else:
        rows = await _local_rows(gateway, config.trail, question, say, timings)
    ip_map = IpMap(networks_from_inventory(inventory))
    report = replay_shapes(
        [Shape.from_row(r) for r in rows],
        versions,
        draft,
        endpoint_id=endpoint_id,
        endpoint_vpc=endpoint.vpc_id,
        facts=config.replay.context_map(),
        vpc_of=ip_map.lookup,
        since=since,
    )
    report.timings = {**timings, **report.timings}
    report.engine = engine
    return report


async def _local_rows(gateway: Any, trail: Any, question: Any, progress: Any, timings: dict[str, float]) -> list[Any]:
    """Sync the window into the cache, read new objects into DuckDB, run the shape query there."""
    import asyncio
    import time

    from vpce_console.errors import UsageError
    from vpce_console.services.trail import LocalTrail
    from vpce_console.services.trail_sql import render_shapes

    local = LocalTrail(trail)
    try:
        started = time.perf_counter()
        objects, _ = await local.sync(
            gateway, question.since, accounts=question.accounts, regions=question.regions, progress=progress
        )
        if not objects:
            raise UsageError(f"no trail objects in s3://{trail.bucket}/ since {question.since:%Y-%m-%d}")
        timings["sync"] = time.perf_counter() - started
        started = time.perf_counter()
        await asyncio.to_thread(local.ingest, objects, progress)
        timings["ingest"] = time.perf_counter() - started
        started = time.perf_counter()
        rows: list[Any] = local.db.execute(render_shapes(question, "duckdb")).fetchall()
        timings["query"] = time.perf_counter() - started
        return rows
    finally:
        local.close()


async def _athena_rows(gateway: Any, trail: Any, question: Any, progress: Any, timings: dict[str, float]) -> list[Any]:
    """The same shape query run in place by Athena over the trail table."""
    import time

    from vpce_console.services.trail import athena_rows
    from vpce_console.services.trail_sql import render_shapes

    started = time.perf_counter()
    a = trail.athena
    sql = render_shapes(question, "athena", table=f'"{a.database}"."{a.table}"')
    _, raw, _ = await athena_rows(gateway, trail, sql, progress=progress)
    timings["query"] = time.perf_counter() - started
    return raw


# ---------------------------------------------------------------- after the write: live denials against the prediction


def _redacted(principal: str | None) -> bool:
    return not principal or principal in ("-", "(redacted)") or principal.startswith("(redacted")


def unpredicted(
    denials: Sequence[Mapping[str, Any]],
    predicted: Sequence[Mapping[str, Any]],
) -> list[Mapping[str, Any]]:
    """The live denials no prediction covers: the surprises worth a rollback (pure).

    A denial is `{account, principal, action}`; a prediction is `{account, principal, action}` where a None
    account (a plan probe of unknown account) or a None principal (a redacted caller) covers the whole account
    or every account. A denial whose principal AWS redacted is covered by any prediction of its account and action.
    """
    exact: set[tuple[str, str, str]] = set()
    per_account: set[tuple[str, str]] = set()
    any_account: set[str] = set()
    for p in predicted:
        action = str(p.get("action") or "")
        account = p.get("account")
        if account is None:
            any_account.add(action)
        elif _redacted(p.get("principal")):
            per_account.add((str(account), action))
        else:
            exact.add((str(account), principal_key(str(p["principal"])), action))
    seen_accounts = {(a, act) for a, _, act in exact} | per_account
    out: list[Mapping[str, Any]] = []
    for d in denials:
        account, action = str(d.get("account") or ""), str(d.get("action") or "")
        if action in any_account or (account, action) in per_account:
            continue
        principal = d.get("principal")
        if _redacted(principal):
            if (account, action) in seen_accounts:
                continue
        elif (account, principal_key(str(principal)), action) in exact:
            continue
        out.append(d)
    return out


def old_document_denials(
    denials: Sequence[Mapping[str, Any]],
    draft: str,
    *,
    endpoint_id: str,
    endpoint_vpc: str | None = None,
    facts: ContextMap | None = None,
) -> list[bool]:
    """For each live denial (`{account, principal, action, source_ip}`): True when the draft certainly allows that
    call, so the document the write replaced denied it while the change propagated — not a surprise of the draft.

    What a denial does not show (a redacted principal's tags, the resource) stays unknown: an undetermined answer
    is False, so a denial is only moved out of the surprises when the draft allows it whatever the unknowns are.
    """
    from vpce_console.policy.evaluator import PolicyError

    try:
        policy = compile_partial(draft)
    except PolicyError:
        return [False] * len(denials)
    reverse = {v: k for k, v in IAM_PREFIX.items()}
    out: list[bool] = []
    for denial in denials:
        principal = str(denial.get("principal") or "")
        account = str(denial.get("account") or "")
        prefix, _, name = str(denial.get("action") or "").partition(":")
        if not name:
            out.append(False)
            continue
        identity: dict[str, Any] = {"type": "AWSAccount", "accountId": account}
        if principal.startswith("arn:") and ":assumed-role/" in principal:
            role = principal.split(":assumed-role/", 1)[1].split("/", 1)[0]
            issuer = f"arn:aws:iam::{principal.split(':')[4]}:role/{role}"
            identity = {
                "type": "AssumedRole",
                "accountId": account,
                "arn": principal,
                "sessionContext": {"sessionIssuer": {"arn": issuer}},
            }
        elif principal.startswith("arn:") and ":user/" in principal:
            identity = {"type": "IAMUser", "accountId": account, "arn": principal}
        record = {
            "userIdentity": identity,
            "eventSource": f"{reverse.get(prefix, prefix)}.amazonaws.com",
            "eventName": name,
            "sourceIPAddress": denial.get("source_ip"),
            "vpcEndpointId": endpoint_id,
        }
        decision = policy.evaluate(record_request(record, endpoint_vpc=endpoint_vpc, facts=facts))
        out.append(decision.kind == "allow")
    return out


# ---------------------------------------------------------------- personas from evidence in the impact matrix


@dataclass(frozen=True, slots=True)
class ObservedCell:
    """One observed caller × one matrix column under the deployed document and the draft (three-valued)."""

    before: bool | None
    after: bool | None
    depends_on: tuple[str, ...]
    """The unknown keys an undetermined `after` hinges on."""

    @property
    def changed(self) -> bool:
        """Known on both sides and different."""
        return self.before is not None and self.after is not None and self.before != self.after


def observed_matrix(
    callers: Sequence[Mapping[str, Any]],
    deployed: str,
    draft: str,
    columns: Sequence[tuple[str, str]],
    *,
    endpoint_id: str,
    endpoint_vpc: str | None,
    facts: ContextMap,
    limit: int = 5,
) -> list[tuple[Mapping[str, Any], list[ObservedCell]]]:
    """The heaviest observed callers as matrix rows: each (action, resource) column evaluated as that caller's call
    would be, from what its trail records show; what they do not show stays unknown (pure)."""
    reverse = {v: k for k, v in IAM_PREFIX.items()}
    before_policy, after_policy = compile_partial(deployed), compile_partial(draft)
    rows: list[tuple[Mapping[str, Any], list[ObservedCell]]] = []
    for caller in callers[:limit]:
        principal = caller.get("principal")
        role = principal is not None and ":role/" in str(principal)
        cells: list[ObservedCell] = []
        for action, resource in columns:
            prefix, _, name = action.partition(":")
            session = f"{str(principal).replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/observed"
            shape = Shape(
                ("AssumedRole" if role else "IAMUser") if principal else "AWSAccount",
                (session if role else str(principal)) if principal else None,
                str(caller["account"]),
                str(principal) if role else None,
                f"{reverse.get(prefix, prefix)}.amazonaws.com",
                name,
                caller.get("source_ip"),
                None,
                None,
                False,
                0,
                int(caller.get("calls", 0)),
                "",
                "",
            )
            record = shape.record(endpoint_id)
            if resource != "*":
                record["resources"] = [{"ARN": resource}]
            request = record_request(record, endpoint_vpc=endpoint_vpc, facts=facts)
            before, after = before_policy.evaluate(request), after_policy.evaluate(request)
            keys = tuple(sorted(after.allow_depends_on or after.depends_on)) if after.allowed is None else ()
            cells.append(ObservedCell(before.allowed, after.allowed, keys))
        rows.append((caller, cells))
    return rows
