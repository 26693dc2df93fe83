"""Replay: what a draft policy would have done to the calls that really went through an endpoint.

The trail engine aggregates the window into distinct call shapes (one query, both dialects: `trail_sql`), each
shape becomes a partial request (`policy.record`), and the draft and the version in force when the calls were
made are evaluated three-valued (`policy.partial`). The baseline is what AWS decided (a recorded
`VpceAccessDenied` or not); replaying the version in force must reproduce it, and that agreement is reported on
every run, disagreements listed. The report's model is `replay_model`, its words `replay_text`, the comparison
with live denials after a write `replay_live`, the matrix rows `replay_matrix`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vpce_console.policy.partial import PartialDecision, PartialPolicy, compile_partial
from vpce_console.policy.record import ContextMap, record_request
from vpce_console.policy.vocab import Progress
from vpce_console.services.replay_model import (
    Caller,
    Group,
    Lookup,
    PolicyVersion,
    ReplayReport,
    Shape,
    principal_key,
    versions_in_window,
)

if TYPE_CHECKING:
    from vpce_console.services.rollout_events import Replayed


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


# ---------------------------------------------------------------- the rollout's plan step (console and CLI)

REPLAY_DAYS = 7
"""The plan step replays a week: every weekday's jobs and the weekly ones are in it."""
PLAN_REPLAY_TIMEOUT_SECONDS = 180.0
"""The plan step's replay gives up after this (a first sync of a big trail): it says so, and the flow goes on."""
NOT_CHECKED = "(nothing checked against real calls)"


async def replay_draft(
    gateway: Any,
    config: Any,
    endpoint_id: str,
    draft: str,
    *,
    days: int = REPLAY_DAYS,
    inventory: Any = None,
    default_region: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The draft replayed against the endpoint's last `days` of trail calls, as `ReplayReport.to_json()`."""
    from datetime import timedelta

    now = datetime.now(UTC)
    report = await run_replay(
        gateway,
        config,
        endpoint_id,
        compile_partial(draft),
        since=now - timedelta(days=days),
        now=now,
        engine=config.trail.engine,
        progress=progress,
        default_region=default_region,
        inventory=inventory,
    )
    return report.to_json()


@dataclass(frozen=True, slots=True)
class PlanReplay:
    """What the plan step shows of the replay: its report (None without one) and the line, or why there is none."""

    state: str
    """`ready`, `off` (no trail configured, or the user said not to read it) or `failed`."""
    line: str
    """`this draft would have denied …`, or `not replayed: …` saying plainly why."""
    doc: dict[str, Any] | None = None

    def event(self) -> Replayed:
        """The `replay` event of `vpce rollout` (before the plan)."""
        from vpce_console.services.rollout_events import Replayed

        doc = self.doc
        if doc is None:
            return Replayed(state=self.state, line=self.line)
        return Replayed(
            state=self.state,
            line=self.line,
            newly_denied_calls=int(doc["newly_denied"]["calls"]),
            newly_denied_accounts=tuple(str(a["account"]) for a in doc["newly_denied"]["accounts"]),
            undetermined_calls=sum(int(g["calls"]) for g in doc["undetermined"]),
            records=int(doc["records"]),
        )


async def plan_replay(
    gateway: Any,
    config: Any,
    endpoint_id: str,
    draft: str,
    *,
    enabled: bool = True,
    timeout: float = PLAN_REPLAY_TIMEOUT_SECONDS,
    default_region: str | None = None,
    progress: Progress | None = None,
) -> PlanReplay:
    """The plan step's replay of exactly the draft about to be written; a replay that cannot run is said, never
    raised (the replay is advice: the write path checks everything it needs itself)."""
    import asyncio

    from vpce_console.services.replay_text import observed_line

    if not enabled:
        return PlanReplay("off", f"not replayed: --no-trail {NOT_CHECKED}")
    if not config.trail.bucket:
        return PlanReplay("off", f"not replayed: no trail configured (trail.bucket) {NOT_CHECKED}")
    try:
        doc = await asyncio.wait_for(
            replay_draft(gateway, config, endpoint_id, draft, default_region=default_region, progress=progress),
            timeout,
        )
    except TimeoutError:
        return PlanReplay("failed", f"not replayed: the replay did not finish in {timeout:.0f} s {NOT_CHECKED}")
    except Exception as exc:  # any failure (no objects, no access, a broken cache) is said, never a dead end
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return PlanReplay("failed", f"not replayed: {first} {NOT_CHECKED}")
    return PlanReplay("ready", observed_line(doc), doc)
