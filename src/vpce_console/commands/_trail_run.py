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
        ask_local,
        map_vpcs,
        networks_from_inventory,
        parse_since,
    )
    from vpce_console.services.trail_sql import Question

    config, target = connect(args)
    if not config.trail.bucket:
        raise UsageError(
            "no trail configured: set trail.bucket (and organization_id, account_id) in the config; "
            "README 'vpce usage' shows how to turn on network activity events"
        )
    engine = args.engine or config.trail.engine
    if engine != "local":
        raise UsageError("the athena engine is not available in this build yet: use --engine local")
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
    for s in result.skipped:
        print(f"skipped {s.count} {s.what}: {s.reason}")
