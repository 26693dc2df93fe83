"""Shared plumbing of `vpce usage` and `vpce denials`: connect, sync or query the trail, map IPs, print.

Heavy imports (the SDK, DuckDB, sqlglot) happen inside `answer`, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vpce_console.errors import UsageError

if TYPE_CHECKING:
    from vpce_console.config import Config
    from vpce_console.connect import Target
    from vpce_console.services.trail import Answer


def add_window_arguments(parser: argparse.ArgumentParser, *, since: str) -> None:
    """--since, --engine, --format (shared by usage and denials)."""
    parser.add_argument("--since", default=since, help=f"window start: 7d, 24h, 90m or an ISO time (default {since})")
    parser.add_argument("--engine", choices=("local", "athena"), help="query engine (default: trail.engine, local)")
    parser.add_argument("--format", choices=("text", "json", "csv"), default="text", help="output format")
    parser.add_argument(
        "--create-table",
        action="store_true",
        help="athena: create the trail table first (a write: needs --allow-write and --confirm TABLE)",
    )
    parser.add_argument("--allow-write", action="store_true", help="leave read-only mode for --create-table")
    parser.add_argument("--confirm", metavar="TABLE", help="type the table name (trail.athena.table) to confirm")


def scope(config: Config, target: Target, caller_account: str | None) -> tuple[list[str], list[str]]:
    """The endpoint-owner accounts and regions whose records to read (config, else the hubs, else the caller's)."""
    accounts = list(config.trail.accounts) or [h.account_id for h in config.hubs if h.account_id]
    regions = list(config.trail.regions) or [h.region for h in config.hubs if h.region] or [target.region]
    if not accounts and caller_account:
        accounts = [caller_account]
    return list(dict.fromkeys(accounts)), list(dict.fromkeys(r for r in regions if r))


def answer(
    args: argparse.Namespace, *, by: str, endpoint: str | None, service: str | None, denied_only: bool
) -> Answer:
    """Connect, resolve endpoints and IP owners through the inventory when needed, and ask the engine."""
    import asyncio

    from vpce_console.aws.session import AwsGateway
    from vpce_console.commands._inventory_run import StderrProgress
    from vpce_console.connect import connect
    from vpce_console.services.trail import (
        IpMap,
        ask_athena,
        ask_local,
        create_athena_table,
        map_vpcs,
        networks_from_inventory,
        parse_since,
    )
    from vpce_console.services.trail_sql import Question

    config, target = connect(args)
    if not config.trail.bucket:
        raise UsageError(
            "no trail configured: set trail.bucket (and organization_id, account_id) in the config; "
            "docs/cli/usage.md shows how to turn on network activity events"
        )
    engine = args.engine or config.trail.engine
    if args.create_table:
        if engine != "athena":
            raise UsageError("--create-table is for the athena engine (--engine athena or trail.engine: athena)")
        if not (args.allow_write or config.allow_write):
            raise UsageError("--create-table writes to the Glue catalog: add --allow-write (read-only by default)")
        if args.confirm != config.trail.athena.table:
            raise UsageError(f"--create-table: confirm with --confirm {config.trail.athena.table}")
    since = parse_since(args.since, datetime.now(UTC))
    progress = StderrProgress(args.format == "text")
    need_inventory = by == "vpc" or service is not None

    async def run() -> Answer:
        async with AwsGateway(target, config) as gateway:
            inventory = None
            caller = None
            if need_inventory:
                from vpce_console.services.inventory import load_inventory

                inventory = await load_inventory(gateway, config, progress=progress)
                caller = inventory.caller.account_id
            elif not (config.trail.accounts or any(h.account_id for h in config.hubs)):
                caller = (await gateway.caller_identity()).account_id
            endpoints: tuple[str, ...] = (endpoint,) if endpoint else ()
            if service is not None and inventory is not None:
                endpoints = tuple(e.endpoint_id for e in inventory.endpoints if e.service_name.endswith(f".{service}"))
                if not endpoints:
                    raise UsageError(f"--service {service}: no hub endpoint for that service in the inventory")
            accounts, regions = scope(config, target, caller)
            question = Question(by, since, endpoints, denied_only, tuple(accounts), tuple(regions))
            if engine == "athena":
                if args.create_table:
                    made = await create_athena_table(
                        gateway, config.trail, accounts=accounts, regions=regions, progress=progress
                    )
                    progress(f"athena: table {made} ready")
                result = await ask_athena(gateway, config.trail, question, progress=progress)
            else:
                result = await ask_local(
                    gateway, config.trail, question, accounts=accounts, regions=regions, progress=progress
                )
            if by == "vpc" and inventory is not None:
                from dataclasses import replace

                ip_map = IpMap(networks_from_inventory(inventory))
                result = replace(result, rows=tuple(map_vpcs(result.rows, ip_map)))
            return result

    try:
        return asyncio.run(run())
    finally:
        progress.done()


def emit(result: Answer, fmt: str, titles: tuple[str, ...]) -> None:
    """Print the answer as text (a table plus what was skipped), JSON or CSV."""
    from vpce_console.services.trail import group_names

    names = group_names(result.question.by)
    extra = ("account_id", "name") if result.question.by == "vpc" else ()
    if fmt == "json":
        doc: dict[str, Any] = {
            "engine": result.engine,
            "since": result.question.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "by": result.question.by,
            "endpoints": list(result.question.endpoints),
            "rows": [
                {
                    "endpoint_id": r.endpoint_id,
                    **dict(zip(names, r.key, strict=True)),
                    **{k: r.detail.get(k, "") for k in extra},
                    "calls": r.calls,
                    "denials": r.denials,
                    "first_seen": r.first_seen,
                    "last_seen": r.last_seen,
                }
                for r in result.rows
            ],
            "records_in_window": result.records_in_window,
            "skipped": [{"what": s.what, "count": s.count, "reason": s.reason} for s in result.skipped],
            "sync": result.sync.to_json() if result.sync else None,
            "query_seconds": round(result.query_seconds, 3),
            "athena": None
            if result.scanned_bytes is None
            else {
                "query_id": result.query_id,
                "scanned_bytes": result.scanned_bytes,
                "cost_usd": round(result.athena_cost_usd or 0.0, 6),
            },
        }
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["endpoint_id", *names, *extra, "calls", "denials", "first_seen", "last_seen"])
        for r in result.rows:
            writer.writerow(
                [
                    r.endpoint_id,
                    *r.key,
                    *(r.detail.get(k, "") for k in extra),
                    r.calls,
                    r.denials,
                    r.first_seen,
                    r.last_seen,
                ]
            )
        return
    header = ["ENDPOINT", *(n.upper() for n in names), *(e.upper() for e in extra), *titles, "FIRST SEEN", "LAST SEEN"]
    table = [header]
    for r in result.rows:
        counts = [str(r.calls), str(r.denials)] if len(titles) == 2 else [str(r.denials)]
        table.append([r.endpoint_id, *r.key, *(r.detail.get(k, "") for k in extra), *counts, r.first_seen, r.last_seen])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    sync = result.sync
    synced = (
        f"; synced {sync.downloaded} of {sync.listed} objects ({sync.downloaded_bytes / 1e6:.1f} MB)"
        f" in {sync.seconds:.1f} s"
        if sync
        else ""
    )
    print(
        f"{len(result.rows)} group(s), {result.records_in_window} network activity records since "
        f"{result.question.since:%Y-%m-%d %H:%M} UTC ({result.engine}{synced})"
    )
    if result.scanned_bytes is not None:
        print(
            f"athena query {result.query_id}: {result.scanned_bytes / 1e6:.1f} MB scanned, "
            f"~${result.athena_cost_usd:.6f} at $5/TB (10 MB minimum)"
        )
    for s in result.skipped:
        print(f"skipped {s.count} {s.what}: {s.reason}")


def load_with_trail(args: argparse.Namespace, *, since_text: str, show_progress: bool) -> tuple[Any, Any, Any]:
    """Inventory and the trail's evidence over one connection: (config, inventory, TrailEvidence)."""
    import asyncio

    from vpce_console.aws.session import AwsGateway
    from vpce_console.commands._inventory_run import StderrProgress
    from vpce_console.connect import connect
    from vpce_console.services.doctor import TrailEvidence
    from vpce_console.services.inventory import load_inventory
    from vpce_console.services.trail import IpMap, ask_athena, ask_local, map_vpcs, networks_from_inventory, parse_since
    from vpce_console.services.trail_sql import Question

    config, target = connect(args)
    if not config.trail.bucket:
        raise UsageError("--trail: no trail configured (set trail.bucket in the config)")
    since = parse_since(since_text, datetime.now(UTC))
    progress = StderrProgress(show_progress)

    async def run() -> tuple[Any, Any]:
        async with AwsGateway(target, config) as gateway:
            inventory = await load_inventory(gateway, config, progress=progress)
            accounts, regions = scope(config, target, inventory.caller.account_id)
            answers = []
            for by in ("vpc", "account"):
                question = Question(by, since, (), False, tuple(accounts), tuple(regions))
                if config.trail.engine == "athena":
                    answers.append(await ask_athena(gateway, config.trail, question, progress=progress))
                else:
                    answers.append(
                        await ask_local(
                            gateway, config.trail, question, accounts=accounts, regions=regions, progress=progress
                        )
                    )
            by_vpc = map_vpcs(answers[0].rows, IpMap(networks_from_inventory(inventory)))
            known = set(inventory.spoke_accounts) | {h.account_id for h in inventory.hubs}
            known |= {s.account_id for s in inventory.spokes}
            outside = [
                (r.endpoint_id, f"IP {r.detail.get('name')}", r.calls) for r in by_vpc if r.key[0].startswith("unknown")
            ]
            outside += [
                (r.endpoint_id, f"account {r.key[0]}", r.calls) for r in answers[1].rows if r.key[0] not in known
            ]
            calls_by_endpoint: dict[str, int] = {}
            for r in answers[1].rows:
                calls_by_endpoint[r.endpoint_id] = calls_by_endpoint.get(r.endpoint_id, 0) + r.calls
            evidence = TrailEvidence(
                since=since.strftime("%Y-%m-%dT%H:%MZ"),
                calls_by_vpc={(r.endpoint_id, r.key[0]): r.calls for r in by_vpc},
                calls_by_endpoint=calls_by_endpoint,
                outside=tuple(sorted(outside)),
            )
            return inventory, evidence

    try:
        inventory, evidence = asyncio.run(run())
    finally:
        progress.done()
    return config, inventory, evidence
