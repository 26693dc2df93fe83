"""Evidence from the organization trail: who really called through each endpoint, and what was denied.

The local engine syncs the window's objects from S3 into a cache under the XDG cache dir (an unchanged window
costs one listing per account and region, no download), has DuckDB read the gzipped JSON straight into a table
shaped like Athena's CloudTrail table (each object once), and answers every question with one SQL query from
`trail_sql`. Anything unreadable is skipped and counted, never silently dropped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpce_console.errors import UsageError
from vpce_console.services.trail_sql import GROUPS, Question, render

if TYPE_CHECKING:
    from vpce_console.aws.s3 import S3Object
    from vpce_console.aws.session import AwsGateway
    from vpce_console.config import TrailConfig

Progress = Callable[[str], None]
KEY_RE = re.compile(r"AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/[^/]+\.json\.gz$")
SUPPORTED_MAJOR = "1"
"""CloudTrail's eventVersion major this reader understands (facts §4b: compare the major with ==)."""
UNKNOWN = "unknown"
ATHENA_USD_PER_TB = 5.0
"""Athena SQL query price per TB scanned (https://aws.amazon.com/athena/pricing/; 10 MB minimum per query)."""
BATCH = 500

_INGEST_LOCKS: dict[Path, threading.Lock] = {}
_INGEST_LOCKS_GUARD = threading.Lock()
"""One ingest at a time per cache: the console's panes and a replay may read the same trail at once, and two
ingests that both see an object as new would insert its records twice (or collide on the objects table)."""


def _ingest_lock(root: Path) -> threading.Lock:
    with _INGEST_LOCKS_GUARD:
        return _INGEST_LOCKS.setdefault(root.resolve(), threading.Lock())


"""Objects handed to one DuckDB read_json call (each reserves 32 MiB in DuckDB's accounting while open)."""

_RECORD_TYPE = (
    "STRUCT(eventVersion VARCHAR, userIdentity STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, "
    "accountId VARCHAR, sessionContext STRUCT(sessionIssuer STRUCT(arn VARCHAR))), eventTime VARCHAR, "
    "eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, "
    "sourceIPAddress VARCHAR, errorCode VARCHAR, errorMessage VARCHAR, eventType VARCHAR, eventCategory VARCHAR, "
    "recipientAccountId VARCHAR, vpcEndpointId VARCHAR, vpcEndpointAccountId VARCHAR)"
)
_TABLE = """
CREATE TABLE IF NOT EXISTS cloudtrail (
    eventversion VARCHAR,
    useridentity STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR,
                        sessioncontext STRUCT(sessionissuer STRUCT(arn VARCHAR))),
    eventtime VARCHAR, eventsource VARCHAR, eventname VARCHAR, awsregion VARCHAR, sourceipaddress VARCHAR,
    errorcode VARCHAR, errormessage VARCHAR, eventtype VARCHAR, eventcategory VARCHAR, recipientaccountid VARCHAR,
    vpcendpointid VARCHAR, vpcendpointaccountid VARCHAR,
    account VARCHAR, region VARCHAR, "timestamp" VARCHAR, object_key VARCHAR
);
CREATE TABLE IF NOT EXISTS objects (object_key VARCHAR PRIMARY KEY, size BIGINT, day VARCHAR, records BIGINT);
CREATE TABLE IF NOT EXISTS skips (object_key VARCHAR, size BIGINT, reason VARCHAR, records BIGINT);
"""


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `24h`, `90m` or an ISO time -> an aware UTC datetime; UsageError otherwise."""
    m = re.fullmatch(r"(\d+)([dhm])", text.strip())
    if m:
        n = int(m.group(1))
        return now - timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[m.group(2)]: n})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since: expected 7d, 24h, 90m or an ISO time, got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/vpce-console/trail` (or ~/.cache/…)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vpce-console" / "trail"


# --- results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Skip:
    """Objects or records left out of an answer, and why (shown with every answer)."""

    what: str
    """`objects` or `records`."""
    count: int
    reason: str


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What bringing the window's objects here cost."""

    listed: int
    downloaded: int
    downloaded_bytes: int
    cached_bytes: int
    evicted: int
    seconds: float
    listings: int

    def to_json(self) -> dict[str, Any]:
        """Stable keys for --format json and the benchmark."""
        return {
            "objects_listed": self.listed,
            "objects_downloaded": self.downloaded,
            "mb_downloaded": round(self.downloaded_bytes / 1e6, 3),
            "cache_mb": round(self.cached_bytes / 1e6, 3),
            "evicted": self.evicted,
            "listings": self.listings,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One group: who/where/what, with its calls, denials and first/last seen in the window."""

    endpoint_id: str
    key: tuple[str, ...]
    calls: int
    denials: int
    first_seen: str
    last_seen: str
    detail: Mapping[str, str] = field(default_factory=dict)
    """For `--by vpc`: the VPC's account and name (or `unknown` for an IP outside every known CIDR)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """Rows plus everything needed to trust them: the window, the engine, what was skipped."""

    question: Question
    rows: tuple[UsageRow, ...]
    engine: str
    skipped: tuple[Skip, ...] = ()
    sync: SyncReport | None = None
    query_seconds: float = 0.0
    records_in_window: int = 0
    scanned_bytes: int | None = None
    """Athena only: DataScannedInBytes of the query (what it is billed on)."""
    query_id: str | None = None

    @property
    def athena_cost_usd(self) -> float | None:
        """Athena's charge for the query: $5 per TB scanned, 10 MB minimum (aws.amazon.com/athena/pricing)."""
        if self.scanned_bytes is None:
            return None
        return max(self.scanned_bytes, 10 * 1024 * 1024) / 1024**4 * ATHENA_USD_PER_TB


# --- IP -> VPC ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Network:
    """A known CIDR: whose VPC it is."""

    cidr: str
    vpc_id: str
    account_id: str
    name: str


class IpMap:
    """Source IP -> the spoke or hub VPC whose CIDR holds it (most specific wins)."""

    def __init__(self, networks: Iterable[Network]) -> None:
        nets = []
        for n in networks:
            try:
                nets.append((ipaddress.ip_network(n.cidr, strict=False), n))
            except ValueError:
                continue
        self._nets = sorted(nets, key=lambda p: -p[0].prefixlen)
        self._memo: dict[str, Network | None] = {}

    def lookup(self, ip: str) -> Network | None:
        """The VPC of `ip`, or None when no known CIDR holds it (shown as unknown)."""
        if ip not in self._memo:
            found = None
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                addr = None
            if addr is not None:
                found = next((n for net, n in self._nets if addr.version == net.version and addr in net), None)
            self._memo[ip] = found
        return self._memo[ip]


def networks_from_inventory(inventory: Any) -> list[Network]:
    """Every spoke and hub VPC CIDR of an inventory (default VPCs share 172.31/16 everywhere: left out)."""
    out = [Network(c, v.vpc_id, v.account_id, v.name) for v in inventory.spokes if not v.is_default for c in v.cidrs]
    for hub in inventory.hubs:
        for v in hub.vpcs:
            out.extend(Network(c, v.vpc_id, v.account_id, v.tags.get("Name", v.vpc_id)) for c in v.cidrs)
    return out


def map_vpcs(rows: Sequence[UsageRow], ip_map: IpMap) -> list[UsageRow]:
    """Merge per-IP rows into per-VPC rows; IPs outside every known CIDR stay rows of their own, marked unknown."""
    merged: dict[tuple[str, str], UsageRow] = {}
    for row in rows:
        ip = row.key[0]
        net = ip_map.lookup(ip)
        key = (row.endpoint_id, net.vpc_id if net else f"{UNKNOWN} ({ip})")
        detail = {"account_id": net.account_id, "name": net.name} if net else {"account_id": UNKNOWN, "name": ip}
        old = merged.get(key)
        if old is None:
            merged[key] = UsageRow(
                row.endpoint_id, (key[1],), row.calls, row.denials, row.first_seen, row.last_seen, detail
            )
        else:
            merged[key] = UsageRow(
                row.endpoint_id,
                old.key,
                old.calls + row.calls,
                old.denials + row.denials,
                min(old.first_seen, row.first_seen),
                max(old.last_seen, row.last_seen),
                old.detail,
            )
    return sorted(merged.values(), key=lambda r: (-r.calls, r.endpoint_id, r.key))


# --- the local engine -----------------------------------------------------------------------------------------


def listing_prefixes(trail: TrailConfig, accounts: Sequence[str], regions: Sequence[str]) -> list[str]:
    """One prefix per account and region: `<prefix>AWSLogs/[<org>/]<account>/CloudTrail/<region>/`."""
    org = f"{trail.organization_id}/" if trail.organization_id else ""
    return [f"{trail.prefix}AWSLogs/{org}{a}/CloudTrail/{r}/" for a in accounts for r in regions]


class LocalTrail:
    """The cache of trail objects and the DuckDB table built from them."""

    def __init__(self, trail: TrailConfig, root: Path | None = None) -> None:
        if not trail.bucket:
            raise UsageError("no trail configured: set trail.bucket (see config.example.yaml)")
        self.trail = trail
        self.bucket = trail.bucket
        # one cache per trail location: another prefix or organization in the same bucket is another trail
        location = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{trail.prefix}{trail.organization_id or 'account-trail'}")
        self.root = (root or cache_root()) / self.bucket / location
        self.objects_dir = self.root / "objects"
        self.max_bytes = trail.cache_max_mb * 1024 * 1024
        self._db: Any = None

    # -- database ------------------------------------------------------------------------------------------------

    @property
    def db(self) -> Any:
        """The DuckDB connection (opened on first use; one writer at a time per cache)."""
        if self._db is None:
            import duckdb

            self.root.mkdir(parents=True, exist_ok=True)
            try:
                self._db = duckdb.connect(str(self.root / "trail.duckdb"))
            except duckdb.IOException as exc:
                raise UsageError(
                    f"trail cache {self.root} is in use or unreadable: {str(exc).splitlines()[0]}"
                ) from None
            # read_json reserves a 32 MiB buffer per open file in the limit's accounting but touches little of it
            # (400 objects: 92 MB resident); a tight limit would fail batches that fit easily
            self._db.execute("SET memory_limit = '8GB'")
            self._db.execute("SET threads = 2")
            self._db.execute("SET preserve_insertion_order = false")
            self._migrate()
            self._db.execute(_TABLE)
        return self._db

    def _migrate(self) -> None:
        """A cache built before the table had the session issuer is rebuilt from the cached objects (no download)."""
        found = self._db.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'cloudtrail' "
            "AND column_name = 'useridentity'"
        ).fetchone()
        if found is not None and "sessioncontext" not in str(found[0]).lower():
            self._db.execute("DROP TABLE cloudtrail; DROP TABLE IF EXISTS objects; DROP TABLE IF EXISTS skips")

    def close(self) -> None:
        """Close the database (the next process can open it)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def path_of(self, key: str) -> Path:
        """Where an object's cached copy lives (the key's own layout under the bucket's folder)."""
        return self.objects_dir / key

    # -- sync ------------------------------------------------------------------------------------------------------

    async def sync(
        self,
        gateway: AwsGateway,
        since: datetime,
        *,
        accounts: Sequence[str],
        regions: Sequence[str],
        progress: Progress | None = None,
        concurrency: int = 16,
    ) -> tuple[list[S3Object], SyncReport]:
        """List the window's objects (one listing per account and region) and download the ones not cached."""
        from vpce_console.aws.s3 import download, list_objects

        started = time.monotonic()
        say = progress or (lambda _m: None)
        day = since.strftime("%Y/%m/%d")
        listed: list[S3Object] = []
        prefixes = listing_prefixes(self.trail, accounts, regions)
        for prefix in prefixes:
            say(f"trail: listing s3://{self.bucket}/{prefix}{day}/ onwards")
            found = await list_objects(
                gateway, self.bucket, prefix, account_id=self.trail.account_id, start_after=f"{prefix}{day}"
            )
            listed.extend(o for o in found if o.key.endswith(".json.gz"))
        missing = [o for o in listed if not self._cached(o)]
        done = 0
        got = 0
        semaphore = asyncio.Semaphore(concurrency)

        async def fetch(obj: S3Object) -> None:
            nonlocal done, got
            async with semaphore:
                # not `got += await …`: that reads `got` before the await and loses the other tasks' bytes
                size = await download(
                    gateway, self.bucket, obj.key, self.path_of(obj.key), account_id=self.trail.account_id
                )
                got += size
                done += 1
                if done % 50 == 0 or done == len(missing):
                    say(f"trail: downloaded {done}/{len(missing)} objects ({got / 1e6:.1f} MB)")

        await asyncio.gather(*(fetch(o) for o in missing))
        evicted, cached = self._evict(keep={o.key for o in listed}, fresh_bytes=got)
        report = SyncReport(len(listed), len(missing), got, cached, evicted, time.monotonic() - started, len(prefixes))
        return listed, report

    def _cached(self, obj: S3Object) -> bool:
        try:
            return self.path_of(obj.key).stat().st_size == obj.size
        except OSError:
            return False

    def _evict(self, keep: set[str], fresh_bytes: int = 0) -> tuple[int, int]:
        """Delete the oldest cached objects outside the window until the cache fits its bound."""
        db_path = self.root / "trail.duckdb"
        known = self.db.execute(
            "SELECT (SELECT coalesce(sum(size), 0) FROM objects) "
            "+ (SELECT coalesce(sum(size), 0) FROM skips WHERE records IS NULL)"
        ).fetchone()
        estimate = int(known[0] if known else 0) + fresh_bytes + (db_path.stat().st_size if db_path.exists() else 0)
        if estimate <= self.max_bytes // 2:
            return 0, estimate  # far from the bound: skip walking the cache folder (the warm path stays fast)
        files = []
        total = 0
        for path in self.objects_dir.rglob("*.json.gz") if self.objects_dir.exists() else ():
            size = path.stat().st_size
            total += size
            files.append((path.relative_to(self.objects_dir).as_posix(), size, path))
        total += db_path.stat().st_size if db_path.exists() else 0
        evicted = 0
        if total <= self.max_bytes:
            return 0, total
        for key, size, path in sorted(files, key=lambda f: _day_of(f[0])):
            if total <= self.max_bytes:
                break
            if key in keep:
                continue
            path.unlink(missing_ok=True)
            self.db.execute("DELETE FROM cloudtrail WHERE object_key = ?", [key])
            self.db.execute("DELETE FROM objects WHERE object_key = ?", [key])
            self.db.execute("DELETE FROM skips WHERE object_key = ?", [key])
            total -= size
            evicted += 1
        return evicted, total

    # -- load into DuckDB ------------------------------------------------------------------------------------------

    def ingest(self, objects: Sequence[S3Object], progress: Progress | None = None) -> None:
        """Read every window object DuckDB has not read yet (gzipped JSON straight from the cache)."""
        with _ingest_lock(self.root):  # what is already read is decided under the lock, then read once
            self._ingest_new(objects, progress)

    def _ingest_new(self, objects: Sequence[S3Object], progress: Progress | None) -> None:
        known = {
            (k, s)
            for k, s in self.db.execute(
                "SELECT object_key, size FROM objects UNION ALL SELECT object_key, size FROM skips"
            ).fetchall()
        }
        todo = [o for o in objects if (o.key, o.size) not in known and self.path_of(o.key).exists()]
        say = progress or (lambda _m: None)
        import duckdb

        for i in range(0, len(todo), BATCH):
            batch = todo[i : i + BATCH]
            say(f"trail: reading objects {i + 1}-{i + len(batch)} of {len(todo)} with DuckDB")
            try:
                self._ingest(batch)
            except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException):
                # one bad object fails the whole read: find it by reading the batch's objects one by one
                for obj in batch:
                    try:
                        self._ingest([obj])
                    except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException) as exc:
                        reason = _unreadable_reason(exc)
                        self.db.execute("INSERT INTO skips VALUES (?, ?, ?, NULL)", [obj.key, obj.size, reason])

    def _ingest(self, batch: Sequence[S3Object]) -> None:
        """One INSERT reads the whole batch; records of an unknown eventVersion major are counted, then dropped."""
        by_path = {str(self.path_of(o.key)): o for o in batch}
        db = self.db
        db.execute("BEGIN")
        try:
            # rows carry the object key, not the cache path, so the cache can move
            parts = [_parts_of(o.key) for o in by_path.values()]
            db.execute(
                "CREATE OR REPLACE TEMP TABLE batch_files AS SELECT unnest(?::VARCHAR[]) AS filename, "
                "unnest(?::VARCHAR[]) AS object_key, unnest(?::BIGINT[]) AS size, unnest(?::VARCHAR[]) AS account, "
                "unnest(?::VARCHAR[]) AS region, unnest(?::VARCHAR[]) AS day",
                [
                    list(by_path),
                    [o.key for o in by_path.values()],
                    [o.size for o in by_path.values()],
                    [p[0] for p in parts],
                    [p[1] for p in parts],
                    [p[2] for p in parts],
                ],
            )
            db.execute(
                f"""
                INSERT INTO cloudtrail
                SELECT r.eventVersion,
                       {{'type': r.userIdentity.type, 'principalid': r.userIdentity.principalId,
                        'arn': r.userIdentity.arn, 'accountid': r.userIdentity.accountId,
                        'sessioncontext': {{'sessionissuer': {{
                            'arn': r.userIdentity.sessionContext.sessionIssuer.arn}}}}}},
                       r.eventTime, r.eventSource, r.eventName, r.awsRegion, r.sourceIPAddress, r.errorCode,
                       r.errorMessage, r.eventType, r.eventCategory, r.recipientAccountId, r.vpcEndpointId,
                       r.vpcEndpointAccountId,
                       b.account, b.region, b.day, b.object_key
                FROM (
                    -- read_json_objects + from_json parses ~7x faster than read_json with columns on this shape
                    SELECT unnest(from_json(json, '{{"Records": "{_RECORD_TYPE}[]"}}').Records) AS r, filename
                    FROM read_json_objects(?, filename = true, compression = 'gzip', format = 'unstructured',
                                           maximum_object_size = 16777216)
                ) JOIN batch_files b USING (filename)
                WHERE r.eventCategory = 'NetworkActivity'
                   OR split_part(r.eventVersion, '.', 1) IS DISTINCT FROM '{SUPPORTED_MAJOR}'
                """,
                [list(by_path)],
            )
            unknown = f"split_part(eventversion, '.', 1) IS DISTINCT FROM '{SUPPORTED_MAJOR}'"
            db.execute(
                f"""
                INSERT INTO skips
                SELECT c.object_key, any_value(b.size),
                       'eventVersion major ' || coalesce(split_part(eventversion, '.', 1), '?')
                       || ' (this reader knows {SUPPORTED_MAJOR}.x)', count(*)
                FROM cloudtrail c JOIN batch_files b ON c.object_key = b.object_key
                WHERE {unknown} GROUP BY 1, 3
                """
            )
            db.execute(f"DELETE FROM cloudtrail WHERE {unknown} AND object_key IN (SELECT object_key FROM batch_files)")
            db.execute(
                "INSERT OR REPLACE INTO objects SELECT object_key, size, regexp_extract(object_key, ?, 3), 0 "
                "FROM batch_files",
                [KEY_RE.pattern],
            )
            db.execute("DROP TABLE batch_files")
            db.execute("COMMIT")
        except Exception:
            db.execute("ROLLBACK")
            raise

    # -- questions -------------------------------------------------------------------------------------------------

    def ask(self, question: Question, objects: Sequence[S3Object]) -> tuple[list[UsageRow], list[Skip], int, float]:
        """Rows for the question over the window's objects, what was skipped among them, records seen, seconds."""
        started = time.monotonic()
        sql = render(question, "duckdb")
        rows = [
            UsageRow(
                str(r[0]),
                tuple("" if v is None else str(v) for v in r[1 : 1 + question.key_count]),
                int(r[1 + question.key_count]),
                int(r[2 + question.key_count]),
                str(r[3 + question.key_count]),
                str(r[4 + question.key_count]),
            )
            for r in self.db.execute(sql).fetchall()
        ]
        seconds = time.monotonic() - started
        keys = [o.key for o in objects]
        skipped: list[Skip] = []
        if keys:
            self.db.execute(
                "CREATE OR REPLACE TEMP TABLE window_keys AS SELECT unnest(?::VARCHAR[]) AS object_key", [keys]
            )
            for reason, n_objects, n_records in self.db.execute(
                """
                SELECT reason, count(*), sum(records) FROM skips JOIN window_keys USING (object_key)
                GROUP BY 1 ORDER BY 1
                """
            ).fetchall():
                if n_records is None:
                    skipped.append(Skip("objects", int(n_objects), str(reason)))
                else:
                    skipped.append(Skip("records", int(n_records), str(reason)))
        since = question.since.strftime("%Y-%m-%dT%H:%M:%SZ")
        seen = self.db.execute(
            'SELECT count(*) FROM cloudtrail WHERE "timestamp" >= ? AND eventtime >= ?',
            [question.since.strftime("%Y/%m/%d"), since],
        ).fetchone()
        return rows, skipped, int(seen[0]) if seen else 0, seconds


def _parts_of(key: str) -> tuple[str, str, str]:
    """(account, region, yyyy/MM/dd) of a trail object key; empty strings when the key is not one."""
    m = KEY_RE.search(key)
    return (m.group(1), m.group(2), m.group(3)) if m else ("", "", "")


def _day_of(key: str) -> str:
    m = KEY_RE.search(key)
    return m.group(3) if m else ""


def _unreadable_reason(exc: Exception) -> str:
    text = str(exc).lower()
    if any(w in text for w in ("gzip", "compress", "inflate", "zlib", "stream")):
        return "truncated or corrupt gzip"
    if any(w in text for w in ("malformed", "parse", "expected", "invalid json")):
        return "not CloudTrail JSON (no Records list)"
    if "maximum_object_size" in text:
        return "a JSON document over 16 MB uncompressed"
    return "unreadable object: " + str(exc).splitlines()[0][:120]


async def ask_local(
    gateway: AwsGateway,
    trail: TrailConfig,
    question: Question,
    *,
    accounts: Sequence[str],
    regions: Sequence[str],
    progress: Progress | None = None,
    root: Path | None = None,
) -> Answer:
    """Sync the window, read new objects into DuckDB, answer the question (the local engine end to end)."""
    local = LocalTrail(trail, root)
    try:
        objects, report = await local.sync(
            gateway, question.since, accounts=accounts, regions=regions, progress=progress
        )
        if not objects:
            raise UsageError(
                f"no trail objects in s3://{trail.bucket}/ for {', '.join(accounts)} in {', '.join(regions)} "
                f"since {question.since:%Y-%m-%d}: check trail.prefix/organization_id, and that network activity "
                "events are turned on for the hub's endpoints"
            )
        import duckdb

        try:
            await asyncio.to_thread(local.ingest, objects, progress)
            # off the event loop too: the console's keyboard stays live while DuckDB answers
            rows, skipped, seen, seconds = await asyncio.to_thread(local.ask, question, objects)
        except duckdb.Error as exc:
            raise UsageError(f"trail query failed in DuckDB: {str(exc).splitlines()[0]}") from None
    finally:
        local.close()
    return Answer(question, tuple(rows), "local", tuple(skipped), report, seconds, seen)


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
