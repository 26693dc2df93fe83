"""Evidence from the organization trail: who really called through each endpoint, and what was denied.

Two engines answer the same questions (`trail_sql`): the local one (`trail_local`: a cache of the window's
objects read into DuckDB) and Athena over the organization's trail table (here). Anything unreadable is skipped and
counted, never silently dropped.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from vpce_console.errors import UsageError
from vpce_console.services.trail_local import LocalTrail, ask_local
from vpce_console.services.trail_model import (
    Answer,
    IpMap,
    Network,
    Progress,
    UsageRow,
    map_vpcs,
    networks_from_inventory,
    parse_since,
)
from vpce_console.services.trail_sql import GROUPS, Question, render

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway
    from vpce_console.config import TrailConfig

__all__ = [
    "Answer",
    "IpMap",
    "LocalTrail",
    "Network",
    "UsageRow",
    "ask_athena",
    "ask_local",
    "athena_rows",
    "create_athena_table",
    "group_names",
    "map_vpcs",
    "networks_from_inventory",
    "parse_since",
]
"""The local engine and the result types live in `trail_local` and `trail_model`; callers keep this one name."""


def group_names(by: str) -> tuple[str, ...]:
    """Column titles of the group keys for `by`."""
    named = {"action": ("service", "action"), "vpc": ("vpc",), "denial": ("account", "principal", "service", "action")}
    return named.get(by, (by,) if GROUPS[by] else ())


async def athena_rows(
    gateway: AwsGateway, trail: TrailConfig, sql: str, *, progress: Progress | None = None
) -> tuple[str, list[Any], int]:
    """Run one query on the trail's Athena workgroup and wait for it: (query id, rows, bytes scanned).

    A failed query is a one-line UsageError; a missing table says how to create it.
    """
    from vpce_console.aws import athena

    a = trail.athena
    query_id = await athena.start(
        gateway, sql, database=a.database, workgroup=a.workgroup, output_location=a.output_location
    )
    run = await athena.wait(gateway, query_id, progress=progress)
    if run.state != "SUCCEEDED":
        missing = "TABLE_NOT_FOUND" in (run.reason or "")
        hint = " (create it with vpce usage --create-table --allow-write)" if missing else ""
        raise UsageError(f"athena query {query_id} {run.state}: {run.reason or 'no reason given'}{hint}")
    _, raw = await athena.results(gateway, query_id)
    return query_id, list(raw), run.scanned_bytes


async def ask_athena(
    gateway: AwsGateway, trail: TrailConfig, question: Question, *, progress: Progress | None = None
) -> Answer:
    """The same question as one Athena query over the org trail table (partition projection prunes the days)."""
    started = time.monotonic()
    a = trail.athena
    sql = render(question, "athena", table=f'"{a.database}"."{a.table}"')
    query_id, raw, scanned = await athena_rows(gateway, trail, sql, progress=progress)
    k = question.key_count
    rows = [
        UsageRow(
            str(r[0]),
            tuple(v or "" for v in r[1 : 1 + k]),
            int(r[1 + k] or 0),
            int(r[2 + k] or 0),
            str(r[3 + k]),
            str(r[4 + k]),
        )
        for r in raw
    ]
    return Answer(
        question,
        tuple(rows),
        "athena",
        (),
        None,
        time.monotonic() - started,
        sum(r.calls for r in rows),
        scanned,
        query_id,
    )


async def create_athena_table(
    gateway: AwsGateway,
    trail: TrailConfig,
    *,
    accounts: Sequence[str],
    regions: Sequence[str],
    progress: Progress | None = None,
) -> str:
    """Run the CREATE EXTERNAL TABLE DDL (a write: the caller checks --allow-write); returns `db.table`."""
    from vpce_console.aws import athena
    from vpce_console.services.trail_sql import create_table_ddl

    a = trail.athena
    if not trail.bucket:
        raise UsageError("no trail configured: set trail.bucket")
    ddl = create_table_ddl(
        database=a.database,
        table=a.table,
        bucket=trail.bucket,
        prefix=trail.prefix,
        organization_id=trail.organization_id,
        accounts=accounts,
        regions=regions,
    )
    query_id = await athena.start(
        gateway, ddl, database=a.database, workgroup=a.workgroup, output_location=a.output_location
    )
    run = await athena.wait(gateway, query_id, progress=progress)
    if run.state != "SUCCEEDED":
        raise UsageError(f"athena CREATE TABLE {run.state}: {run.reason or 'no reason given'}")
    return f"{a.database}.{a.table}"
