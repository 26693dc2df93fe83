"""`vpce replay`: what a draft policy would have done to the calls that really went through an endpoint.

Exit codes: 0 the draft denies no observed call AWS allowed, 1 it does (so CI can gate on it), 2 bad input, no
trail, no objects, no access (one line).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from vpce_console.errors import UsageError

if TYPE_CHECKING:
    from vpce_console.services.replay import Group, ReplayReport

LOOKBACK = timedelta(days=90)
"""LookupEvents keeps 90 days: the version in force at the window's start is the last change seen in them."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce replay`."""
    parser.add_argument("--endpoint", metavar="ID", required=True, help="the hub endpoint whose calls to replay")
    parser.add_argument("--policy", metavar="DRAFT", required=True, help="the draft policy JSON file (- for stdin)")
    parser.add_argument("--since", default="7d", help="window start: 7d, 24h, 90m or an ISO time (default 7d)")
    parser.add_argument("--engine", choices=("local", "athena"), help="query engine (default: trail.engine, local)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def run(args: argparse.Namespace) -> int:
    """Replay, print, exit 1 when the draft denies observed calls AWS allowed."""
    from vpce_console.commands._input import read_text
    from vpce_console.policy.evaluator import PolicyError
    from vpce_console.policy.partial import compile_partial

    if not args.endpoint.startswith("vpce-"):
        raise UsageError(f"--endpoint: expected a vpce-… id, got {args.endpoint!r}")
    text = read_text(args.policy)
    try:
        draft = compile_partial(text)
    except PolicyError as exc:
        raise UsageError(f"--policy {args.policy}: {exc}") from None
    report = _replay(args, draft)
    if args.format == "json":
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print(report)
    return 1 if report.newly_denied.calls else 0


def _replay(args: argparse.Namespace, draft: Any) -> ReplayReport:
    import asyncio
    import time

    from vpce_console.aws.session import AwsGateway
    from vpce_console.commands._inventory_run import StderrProgress
    from vpce_console.commands._trail_run import scope
    from vpce_console.connect import connect
    from vpce_console.services.trail import IpMap, networks_from_inventory, parse_since

    config, target = connect(args)
    if not config.trail.bucket:
        raise UsageError("no trail configured: set trail.bucket (README 'vpce usage' shows how)")
    engine = args.engine or config.trail.engine
    now = datetime.now(UTC)
    since = parse_since(args.since, now)
    progress = StderrProgress(args.format == "text")

    async def run() -> ReplayReport:
        from vpce_console.aws.logs import lookup_policy_changes
        from vpce_console.errors import AwsError
        from vpce_console.services.inventory import load_inventory
        from vpce_console.services.journal import Journal
        from vpce_console.services.replay import Shape, replay_shapes, versions_in_window
        from vpce_console.services.trail_sql import ShapeQuestion

        timings: dict[str, float] = {}
        async with AwsGateway(target, config) as gateway:
            started = time.perf_counter()
            inventory = await load_inventory(gateway, config, progress=progress)
            endpoint = next((e for e in inventory.endpoints if e.endpoint_id == args.endpoint), None)
            if endpoint is None:
                raise UsageError(f"--endpoint {args.endpoint}: not a hub endpoint in the inventory")
            timings["inventory"] = time.perf_counter() - started
            started = time.perf_counter()
            changes: list[tuple[datetime, str | None, str | None, str]] = []
            for entry in Journal().entries(args.endpoint):
                if entry.written_at is not None:
                    when = datetime.fromtimestamp(entry.written_at, UTC)
                    changes.append((when, entry.before_text, entry.after_text, "journal"))
            try:
                progress(f"replay: policy changes of {args.endpoint} (LookupEvents)")
                events = await lookup_policy_changes(
                    gateway, start=now - LOOKBACK, end=now, endpoint_id=args.endpoint, account_id=endpoint.account_id
                )
            except AwsError as exc:
                progress(f"replay: LookupEvents unavailable ({exc}); using the journal only")
                events = []
            seen = {(round(c[0].timestamp()), c[2]) for c in changes}
            for ev in events:
                if ev.error_code is None and (round(ev.event_time.timestamp()), ev.policy_text) not in seen:
                    changes.append((ev.event_time, None, ev.policy_text, "cloudtrail"))
            versions = versions_in_window(endpoint.policy_text, since, changes)
            timings["versions"] = time.perf_counter() - started
            accounts, regions = scope(config, target, inventory.caller.account_id)
            boundaries = tuple(v.start for v in versions[1:] if v.start is not None)
            question = ShapeQuestion(args.endpoint, since, boundaries, tuple(accounts), tuple(regions))
            if engine == "athena":
                rows = await _athena_rows(gateway, config.trail, question, progress, timings)
            else:
                rows = await _local_rows(gateway, config.trail, question, progress, timings)
        shapes = [Shape.from_row(r) for r in rows]
        ip_map = IpMap(networks_from_inventory(inventory))
        report = replay_shapes(
            shapes,
            versions,
            draft,
            endpoint_id=args.endpoint,
            endpoint_vpc=endpoint.vpc_id,
            facts=config.replay.context_map(),
            vpc_of=ip_map.lookup,
            since=since,
        )
        report.timings = {**timings, **report.timings}
        report.engine = engine
        return report

    try:
        return asyncio.run(run())
    finally:
        progress.done()


async def _local_rows(gateway: Any, trail: Any, question: Any, progress: Any, timings: dict[str, float]) -> list[Any]:
    """Sync the window into the cache, read new objects into DuckDB, run the shape query there."""
    import asyncio
    import time

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

    from vpce_console.aws import athena
    from vpce_console.services.trail_sql import render_shapes

    started = time.perf_counter()
    a = trail.athena
    sql = render_shapes(question, "athena", table=f'"{a.database}"."{a.table}"')
    query_id = await athena.start(
        gateway, sql, database=a.database, workgroup=a.workgroup, output_location=a.output_location
    )
    run = await athena.wait(gateway, query_id, progress=progress)
    if run.state != "SUCCEEDED":
        hint = " (create it with vpce usage --create-table)" if "TABLE_NOT_FOUND" in (run.reason or "") else ""
        raise UsageError(f"athena query {query_id} {run.state}: {run.reason or 'no reason given'}{hint}")
    _, raw = await athena.results(gateway, query_id)
    timings["query"] = time.perf_counter() - started
    return list(raw)


def _group_lines(title: str, group: Group) -> list[str]:
    lines = [f"{title}: {group.calls} call(s) in {group.shapes} shape(s) from {len(group.accounts)} account(s)"]
    if group.calls:
        lines.append("  accounts: " + ", ".join(f"{a} ({n})" for a, n in group.accounts.most_common(8)))
        lines.append("  vpcs:     " + ", ".join(f"{v} ({n})" for v, n in group.vpcs.most_common(8)))
        lines.append("  actions:  " + ", ".join(f"{a} ({n})" for a, n in group.actions.most_common(5)))
    return lines


def _print(report: ReplayReport) -> None:
    from vpce_console.services.journal import policy_version

    out: list[str] = [
        f"replay of {report.endpoint_id} since {report.since:%Y-%m-%d %H:%M} UTC: "
        f"{report.records} call(s) in {report.shapes} distinct shape(s)"
    ]
    for v in report.versions:
        start = "window start" if v.start is None else f"{v.start:%Y-%m-%d %H:%M:%S}"
        out.append(f"  policy in force from {start}: {policy_version(v.text) or 'unknown'} ({v.source})")
    out += _group_lines("NEWLY DENIED (AWS allowed, the draft denies)", report.newly_denied)
    out += _group_lines("NEWLY ALLOWED (AWS denied, the draft allows)", report.newly_allowed)
    total = sum(g.calls for g in report.undetermined.values())
    out.append(f"UNDETERMINED (the record lacks what the draft needs): {total} call(s)")
    for keys, g in sorted(report.undetermined.items(), key=lambda kv: -kv[1].calls):
        out.append(f"  depends on {', '.join(sorted(keys)) or '?'}: {g.calls} call(s), {g.shapes} shape(s)")
    out.append(f"UNCHANGED: {report.unchanged.calls} call(s) in {report.unchanged.shapes} shape(s)")
    agreement = report.agreement
    figure = "n/a" if agreement is None else f"{agreement * 100:.2f} %"
    out.append(
        f"sanity: replaying the version in force reproduces AWS's decisions for {figure} of calls "
        f"({report.agree} agree, {report.agree_undetermined} undetermined, {report.disagree} disagree"
        + (f", {report.version_unknown} with an unknown version" if report.version_unknown else "")
        + ")"
    )
    for d in report.disagreements[:10]:
        out.append(
            f"  DISAGREES: {d['principal']} {d['action']} — AWS {d['aws']}, replay {d['replayed']} ({d['calls']} calls)"
        )
    print("\n".join(out))
