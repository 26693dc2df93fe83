"""Athena in the lab: the query lifecycle over the org trail's objects, run on DuckDB (moto has no real Athena).

`StartQueryExecution` accepts the CloudTrail table DDL (registers the table: LOCATION + partition projection)
and SELECTs over registered tables; a query goes QUEUED -> RUNNING -> SUCCEEDED/FAILED (or CANCELLED by
`StopQueryExecution`) in a worker thread. SELECTs read only the objects whose partitions (`timestamp` day,
`account`, `region`) the WHERE clause admits, as partition projection would, and DataScannedInBytes is the
compressed size of those objects. Results are written as CSV to the output location and served by
`GetQueryResults` (header row first, pages of up to 1,000 rows, ColumnInfo). Bad SQL fails the query with
Athena's `line L:C: …` reason and an `AthenaError` (category 2 = user).
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpce_console.lab import errors
from vpce_console.lab.errors import WireResponse

QUEUE_SECONDS = 0.2
"""How long a query stays QUEUED before a worker picks it up."""
TABLE_SELECT = """
SELECT r.eventVersion AS eventversion,
       {{'type': r.userIdentity.type, 'principalid': r.userIdentity.principalId, 'arn': r.userIdentity.arn,
        'accountid': r.userIdentity.accountId,
        'sessioncontext': {{'sessionissuer': {{'arn': r.userIdentity.sessionContext.sessionIssuer.arn}}}}}}
       AS useridentity,
       r.eventTime AS eventtime, r.eventSource AS eventsource, r.eventName AS eventname, r.awsRegion AS awsregion,
       r.sourceIPAddress AS sourceipaddress, r.userAgent AS useragent, r.errorCode AS errorcode,
       r.errorMessage AS errormessage, r.requestID AS requestid, r.eventID AS eventid, r.eventType AS eventtype,
       r.recipientAccountId AS recipientaccountid, r.sharedEventID AS sharedeventid,
       r.vpcEndpointId AS vpcendpointid, r.vpcEndpointAccountId AS vpcendpointaccountid,
       r.eventCategory AS eventcategory, f.account AS account, f.region AS region, f.day AS "timestamp"
FROM (SELECT unnest(from_json(json, '{{"Records": "{record_type}[]"}}').Records) AS r, filename
      FROM read_json_objects({files}, filename = true, compression = 'gzip', format = 'unstructured'))
JOIN files f USING (filename)
"""
RECORD_TYPE = (
    "STRUCT(eventVersion VARCHAR, userIdentity STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, "
    "accountId VARCHAR, sessionContext STRUCT(sessionIssuer STRUCT(arn VARCHAR))), eventTime VARCHAR, "
    "eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, "
    "sourceIPAddress VARCHAR, userAgent VARCHAR, errorCode VARCHAR, errorMessage VARCHAR, requestID VARCHAR, "
    "eventID VARCHAR, eventType VARCHAR, recipientAccountId VARCHAR, sharedEventID VARCHAR, vpcEndpointId VARCHAR, "
    "vpcEndpointAccountId VARCHAR, eventCategory VARCHAR)"
)
_KEY = re.compile(r"AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/[^/]+\.json\.gz$")
_TYPES = {"VARCHAR": "varchar", "BIGINT": "bigint", "INTEGER": "integer", "HUGEINT": "bigint", "DOUBLE": "double"}


@dataclass
class Table:
    """A table created by DDL: where its objects are."""

    database: str
    name: str
    location: str
    """s3://bucket/prefix/ of the DDL's LOCATION."""


@dataclass
class Execution:
    """One query and its lifecycle."""

    query_id: str
    sql: str
    database: str
    workgroup: str
    output: str
    submitted: float
    state: str = "QUEUED"
    reason: str | None = None
    error_type: int | None = None
    finished: float | None = None
    scanned: int = 0
    statement: str = "DML"
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)


class AthenaLab:
    """Serves the Athena API for the lab's accounts; tables and queries live per account."""

    def __init__(self, mirror: Path | None, put_object: Any, default_output: str | None) -> None:
        self.mirror = mirror
        """Local copies of the trail objects (the lab writes every object there too)."""
        self.put_object = put_object
        """(account, bucket, key, body) -> None: stores a result file in moto's S3."""
        self.default_output = default_output
        """The workgroup's output location (s3://…/) when a request names none."""
        self.tables: dict[tuple[str, str, str], Table] = {}
        self.executions: dict[str, Execution] = {}
        self._lock = threading.Lock()

    # -- API ---------------------------------------------------------------------------------------------------

    def handle(self, action: str, params: Mapping[str, Any], account: str) -> WireResponse:
        """One Athena call (JSON protocol)."""
        if action == "StartQueryExecution":
            return self._start(params, account)
        if action == "GetQueryExecution":
            ex = self._find(params)
            return errors.json_ok({"QueryExecution": self._describe(ex)}) if ex else self._not_found(params)
        if action == "GetQueryResults":
            return self._results(params)
        if action == "StopQueryExecution":
            ex = self._find(params)
            if ex is None:
                return self._not_found(params)
            with self._lock:
                if ex.state in ("QUEUED", "RUNNING"):
                    ex.cancel.set()
                    ex.state = "CANCELLED"
                    ex.finished = time.time()
            return errors.json_ok({})
        return _invalid(f"The lab does not implement Athena {action}")

    def _find(self, params: Mapping[str, Any]) -> Execution | None:
        return self.executions.get(str(params.get("QueryExecutionId", "")))

    def _not_found(self, params: Mapping[str, Any]) -> WireResponse:
        return _invalid(f"QueryExecution {params.get('QueryExecutionId')} was not found")

    def _start(self, params: Mapping[str, Any], account: str) -> WireResponse:
        sql = str(params.get("QueryString") or "")
        if not sql.strip():
            return _invalid("QueryString must not be empty")
        output = (params.get("ResultConfiguration") or {}).get("OutputLocation") or self.default_output
        if not output:
            return _invalid(
                "No output location provided. An output location is required either through the Workgroup result "
                "configuration setting or as an API input."
            )
        qid = str(uuid.uuid4())
        database = str((params.get("QueryExecutionContext") or {}).get("Database") or "default")
        ex = Execution(qid, sql, database, str(params.get("WorkGroup") or "primary"), str(output), time.time())
        with self._lock:
            self.executions[qid] = ex
        threading.Thread(target=self._run, args=(ex, account), name=f"athena-{qid[:8]}", daemon=True).start()
        return errors.json_ok({"QueryExecutionId": qid})

    def _describe(self, ex: Execution) -> dict[str, Any]:
        status: dict[str, Any] = {"State": ex.state, "SubmissionDateTime": ex.submitted}
        if ex.finished is not None:
            status["CompletionDateTime"] = ex.finished
        if ex.reason:
            status["StateChangeReason"] = ex.reason
        if ex.state == "FAILED":
            status["AthenaError"] = {
                "ErrorCategory": 2,
                "ErrorType": ex.error_type or 1000,
                "Retryable": False,
                "ErrorMessage": ex.reason or "",
            }
        elapsed = int(((ex.finished or time.time()) - ex.submitted) * 1000)
        return {
            "QueryExecutionId": ex.query_id,
            "Query": ex.sql,
            "StatementType": ex.statement,
            "ResultConfiguration": {"OutputLocation": f"{ex.output.rstrip('/')}/{ex.query_id}.csv"},
            "QueryExecutionContext": {"Database": ex.database, "Catalog": "AwsDataCatalog"},
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": max(0, elapsed - int(QUEUE_SECONDS * 1000)),
                "DataScannedInBytes": ex.scanned,
                "TotalExecutionTimeInMillis": elapsed,
                "QueryQueueTimeInMillis": int(QUEUE_SECONDS * 1000),
            },
            "WorkGroup": ex.workgroup,
            "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"},
        }

    def _results(self, params: Mapping[str, Any]) -> WireResponse:
        ex = self._find(params)
        if ex is None:
            return self._not_found(params)
        if ex.state != "SUCCEEDED":
            reason = f": {ex.reason}" if ex.reason else ""
            return _invalid(f"Query has not yet finished. Current state: {ex.state}{reason}")
        size = int(params.get("MaxResults") or 1000)
        if not 1 <= size <= 1000:
            return _invalid("MaxResults must be between 1 and 1000")
        header: list[str | None] = [name for name, _ in ex.columns]
        table = [header, *ex.rows] if ex.statement == "DML" else []
        start = int(params.get("NextToken") or 0) if str(params.get("NextToken") or "0").isdigit() else 0
        chunk = table[start : start + size]
        body: dict[str, Any] = {
            "UpdateCount": 0,
            "ResultSet": {
                "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in chunk],
                "ResultSetMetadata": {
                    "ColumnInfo": [
                        {
                            "CatalogName": "hive",
                            "SchemaName": "",
                            "TableName": "",
                            "Name": name,
                            "Label": name,
                            "Type": kind,
                            "Precision": 19 if kind == "bigint" else 2147483647,
                            "Scale": 0,
                            "Nullable": "UNKNOWN",
                            "CaseSensitive": kind == "varchar",
                        }
                        for name, kind in ex.columns
                    ]
                },
            },
        }
        if start + size < len(table):
            body["NextToken"] = str(start + size)
        return errors.json_ok(body)

    # -- execution ---------------------------------------------------------------------------------------------

    def _fail(self, ex: Execution, reason: str, error_type: int) -> None:
        with self._lock:
            if ex.state != "CANCELLED":
                ex.state, ex.reason, ex.error_type, ex.finished = "FAILED", reason, error_type, time.time()

    def _run(self, ex: Execution, account: str) -> None:
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import ParseError

        if ex.cancel.wait(QUEUE_SECONDS):
            return
        with self._lock:
            if ex.state != "QUEUED":
                return
            ex.state = "RUNNING"
        ddl = re.match(r"\s*CREATE\s+EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([`\"\w.]+)", ex.sql, re.I)
        if ddl:
            self._create_table(ex, account, ddl.group(2).replace("`", "").replace('"', ""), bool(ddl.group(1)))
            return
        try:
            tree = sqlglot.parse_one(ex.sql, read="athena")
        except ParseError as exc:
            info = exc.errors[0] if exc.errors else {}
            where = f"line {info.get('line', 1)}:{info.get('col', 1)}: " if info else ""
            self._fail(ex, f"{where}{info.get('description', str(exc)).strip()}", 1004)
            return
        if not isinstance(tree, exp.Select | exp.Union):
            self._fail(ex, "NOT_SUPPORTED: the lab's Athena runs CREATE EXTERNAL TABLE and SELECT only", 1100)
            return
        tables = list(tree.find_all(exp.Table))
        found: list[tuple[exp.Table, Table]] = []
        for t in tables:
            db = t.db or ex.database
            table = self.tables.get((account, db.lower(), t.name.lower()))
            if table is None:
                self._fail(ex, f"TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.{db}.{t.name}' does not exist", 1301)
                return
            found.append((t, table))
        try:
            self._select(ex, tree, found)
        except Exception as exc:  # DuckDB's error is the query's error (a bad column, a bad function …)
            self._fail(ex, f"line 1:1: {str(exc).splitlines()[0]}", 1004)

    def _create_table(self, ex: Execution, account: str, name: str, if_not_exists: bool) -> None:
        ex.statement = "DDL"
        location = re.search(r"LOCATION\s+'(s3://[^']+)'", ex.sql, re.I)
        if location is None:
            self._fail(ex, "line 1:1: CREATE EXTERNAL TABLE needs a LOCATION 's3://…'", 1004)
            return
        db, _, table = name.rpartition(".")
        key = (account, (db or ex.database).lower(), table.lower())
        with self._lock:
            if key in self.tables and not if_not_exists:
                ex.state, ex.reason, ex.error_type, ex.finished = (
                    "FAILED",
                    f"AlreadyExistsException: Table {table} already exists",
                    1202,
                    time.time(),
                )
                return
            self.tables[key] = Table(key[1], key[2], location.group(1).rstrip("/") + "/")
            if ex.state == "RUNNING":
                ex.state, ex.finished = "SUCCEEDED", time.time()

    def _select(self, ex: Execution, tree: Any, found: list[tuple[Any, Table]]) -> None:
        import duckdb
        from sqlglot import exp

        days, accounts, regions = _partition_filters(tree)
        con = duckdb.connect()
        try:
            con.execute("SET threads = 2")
            for i, (node, table) in enumerate(found):
                files = self._files(table, days, accounts, regions)
                ex.scanned += sum(f[1] for f in files)
                view = f"lab_table_{i}"
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE files AS SELECT unnest(?::VARCHAR[]) AS filename, "
                    "unnest(?::VARCHAR[]) AS account, unnest(?::VARCHAR[]) AS region, unnest(?::VARCHAR[]) AS day",
                    [[f[0] for f in files], [f[2] for f in files], [f[3] for f in files], [f[4] for f in files]],
                )
                if files:
                    listing = "[" + ",".join("'" + f[0].replace("'", "''") + "'" for f in files) + "]"
                    con.execute(
                        f"CREATE OR REPLACE TEMP TABLE {view} AS "
                        + TABLE_SELECT.format(files=listing, record_type=RECORD_TYPE)
                    )
                else:
                    con.execute(f"CREATE OR REPLACE TEMP TABLE {view} AS {_EMPTY}")
                node.replace(exp.to_table(view))
            if ex.cancel.is_set():
                return
            cursor = con.execute(tree.sql(dialect="duckdb"))
            names = [d[0] for d in cursor.description or []]
            kinds = [_TYPES.get(str(d[1]).upper(), "varchar") for d in cursor.description or []]
            rows = [[None if v is None else str(v) for v in row] for row in cursor.fetchall()]
        finally:
            con.close()
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
        writer.writerow(names)
        writer.writerows(rows)
        m = re.match(r"s3://([^/]+)/?(.*)$", ex.output)
        if m:
            key = f"{m.group(2).rstrip('/') + '/' if m.group(2) else ''}{ex.query_id}.csv"
            self.put_object(m.group(1), key, buffer.getvalue().encode())
        with self._lock:
            if ex.state == "RUNNING":
                ex.columns = list(zip(names, kinds, strict=True))
                ex.rows = rows
                ex.state, ex.finished = "SUCCEEDED", time.time()

    def _files(
        self, table: Table, days: tuple[str | None, str | None], accounts: set[str] | None, regions: set[str] | None
    ) -> list[tuple[str, int, str, str, str]]:
        """(path, size, account, region, day) of the mirrored objects under the table's location that the
        partition filters admit (what partition projection would list)."""
        if self.mirror is None:
            return []
        m = re.match(r"s3://([^/]+)/(.*)$", table.location)
        if not m:
            return []
        root = self.mirror / m.group(1)
        base = root / m.group(2)
        out = []
        low, high = days
        for path in sorted(base.rglob("*.json.gz")) if base.exists() else ():
            km = _KEY.search(path.relative_to(root).as_posix())
            if km is None:
                continue
            account, region, day = km.groups()
            if (low and day < low) or (high and day > high):
                continue
            if (accounts is not None and account not in accounts) or (regions is not None and region not in regions):
                continue
            out.append((str(path), path.stat().st_size, account, region, day))
        return out


_EMPTY = """
SELECT NULL::VARCHAR AS eventversion,
       NULL::STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR,
                    sessioncontext STRUCT(sessionissuer STRUCT(arn VARCHAR))) AS useridentity,
       NULL::VARCHAR AS eventtime, NULL::VARCHAR AS eventsource, NULL::VARCHAR AS eventname,
       NULL::VARCHAR AS awsregion, NULL::VARCHAR AS sourceipaddress, NULL::VARCHAR AS useragent,
       NULL::VARCHAR AS errorcode, NULL::VARCHAR AS errormessage, NULL::VARCHAR AS requestid,
       NULL::VARCHAR AS eventid, NULL::VARCHAR AS eventtype, NULL::VARCHAR AS recipientaccountid,
       NULL::VARCHAR AS sharedeventid, NULL::VARCHAR AS vpcendpointid, NULL::VARCHAR AS vpcendpointaccountid,
       NULL::VARCHAR AS eventcategory, NULL::VARCHAR AS account, NULL::VARCHAR AS region,
       NULL::VARCHAR AS "timestamp"
WHERE false
"""


def _partition_filters(tree: Any) -> tuple[tuple[str | None, str | None], set[str] | None, set[str] | None]:
    """Day range and account/region sets the WHERE clause pins with literals (ANDed at the top level only)."""
    from sqlglot import exp

    low: str | None = None
    high: str | None = None
    accounts: set[str] | None = None
    regions: set[str] | None = None
    where = tree.find(exp.Where)
    if where is None:
        return (None, None), None, None
    terms: list[Any] = []

    def flatten(node: Any) -> None:
        if isinstance(node, exp.And):
            flatten(node.left)
            flatten(node.right)
        elif isinstance(node, exp.Paren):
            flatten(node.this)
        else:
            terms.append(node)

    flatten(where.this)
    for term in terms:
        if isinstance(term, exp.GTE | exp.GT | exp.EQ | exp.LTE | exp.LT) and isinstance(term.left, exp.Column):
            name = term.left.name.lower()
            if name == "timestamp" and isinstance(term.right, exp.Literal):
                value = term.right.this
                if isinstance(term, exp.GTE | exp.GT | exp.EQ):
                    low = max(low or value, value)
                if isinstance(term, exp.LTE | exp.LT | exp.EQ):
                    high = min(high or value, value)
        if isinstance(term, exp.In) and isinstance(term.this, exp.Column):
            values = {e.this for e in term.expressions if isinstance(e, exp.Literal)}
            if term.this.name.lower() == "account":
                accounts = values
            elif term.this.name.lower() == "region":
                regions = values
    return (low, high), accounts, regions


def _invalid(message: str, code: str = "INVALID_INPUT") -> WireResponse:
    """Athena's InvalidRequestException (JSON 1.1 body with `Message` and `AthenaErrorCode`)."""
    import json

    body = {"__type": "InvalidRequestException", "Message": message, "AthenaErrorCode": code}
    headers = (("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", errors.request_id()))
    return WireResponse(400, headers, json.dumps(body).encode())
