"""Athena as the trail reader uses it: start a query, wait for its state, read its results page by page."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpce_console.errors import AwsError
from vpce_console.policy.vocab import Progress

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway

DONE = ("SUCCEEDED", "FAILED", "CANCELLED")


@dataclass(frozen=True, slots=True)
class QueryRun:
    """Where a query execution ended and what it cost."""

    query_id: str
    state: str
    reason: str | None
    scanned_bytes: int
    engine_ms: int
    output_location: str | None


async def start(gateway: AwsGateway, sql: str, *, database: str, workgroup: str, output_location: str | None) -> str:
    """StartQueryExecution; returns the query execution id."""
    params: dict[str, Any] = {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": database},
        "WorkGroup": workgroup,
    }
    if output_location:
        params["ResultConfiguration"] = {"OutputLocation": output_location}
    answer = await gateway.call("athena", "start_query_execution", **params)
    return str(answer["QueryExecutionId"])


async def wait(
    gateway: AwsGateway,
    query_id: str,
    *,
    poll: float = 0.25,
    timeout: float = 600.0,
    progress: Progress | None = None,
) -> QueryRun:
    """Poll GetQueryExecution until SUCCEEDED, FAILED or CANCELLED; cancelled here -> StopQueryExecution."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            answer = await gateway.call("athena", "get_query_execution", QueryExecutionId=query_id)
            ex = answer["QueryExecution"]
            status = ex.get("Status") or {}
            state = str(status.get("State", "QUEUED"))
            stats = ex.get("Statistics") or {}
            if progress is not None:
                progress(
                    f"athena: query {query_id[:8]} {state.lower()} "
                    f"({int(stats.get('DataScannedInBytes', 0)) / 1e6:.1f} MB scanned)"
                )
            if state in DONE:
                error = status.get("AthenaError") or {}
                return QueryRun(
                    query_id,
                    state,
                    status.get("StateChangeReason") or error.get("ErrorMessage"),
                    int(stats.get("DataScannedInBytes", 0)),
                    int(stats.get("EngineExecutionTimeInMillis", 0)),
                    (ex.get("ResultConfiguration") or {}).get("OutputLocation"),
                )
            if loop.time() > deadline:
                raise AwsError(
                    "unavailable", "athena:GetQueryExecution", f"query {query_id} still {state} after {timeout:.0f} s"
                )
            await asyncio.sleep(poll)
    except (asyncio.CancelledError, KeyboardInterrupt):
        await stop(gateway, query_id)
        raise


async def stop(gateway: AwsGateway, query_id: str) -> None:
    """StopQueryExecution (best effort: the query may have finished meanwhile)."""
    try:
        await gateway.call("athena", "stop_query_execution", QueryExecutionId=query_id)
    except AwsError:
        return


async def results(gateway: AwsGateway, query_id: str) -> tuple[list[tuple[str, str]], list[list[str | None]]]:
    """Every result row (header row dropped) and the columns' (name, type), through all pages."""
    columns: list[tuple[str, str]] = []
    rows: list[list[str | None]] = []
    first = True
    async for page in gateway.paginate("athena", "get_query_results", QueryExecutionId=query_id):
        result = page.get("ResultSet") or {}
        if not columns:
            columns = [
                (str(c.get("Name", "")), str(c.get("Type", "varchar")))
                for c in (result.get("ResultSetMetadata") or {}).get("ColumnInfo") or ()
            ]
        for i, row in enumerate(result.get("Rows") or ()):
            if first and i == 0:
                continue  # Athena repeats the column names as the first row of a SELECT's first page
            rows.append([d.get("VarCharValue") for d in row.get("Data") or ()])
        first = False
    return columns, rows
