"""The local engine: a cache of the window's trail objects under the XDG cache dir, read once into DuckDB.

An unchanged window costs one listing per account and region and no download; DuckDB reads the gzipped JSON
straight into a table shaped like Athena's CloudTrail table, each object once, and anything unreadable is skipped
and counted.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpce_console.errors import UsageError
from vpce_console.services.trail_model import (
    Answer,
    Progress,
    Skip,
    SyncReport,
    UsageRow,
)
from vpce_console.services.trail_sql import Question, render

if TYPE_CHECKING:
    from vpce_console.aws.s3 import S3Object
    from vpce_console.aws.session import AwsGateway
    from vpce_console.config import TrailConfig

KEY_RE = re.compile(r"AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/[^/]+\.json\.gz$")


SUPPORTED_MAJOR = "1"
"""CloudTrail's eventVersion major this reader understands (facts §4b: compare the major with ==)."""


BATCH = 500
"""Objects handed to one DuckDB read_json call (each reserves 32 MiB in DuckDB's accounting while open)."""


_INGEST_LOCKS: dict[Path, threading.Lock] = {}


_INGEST_LOCKS_GUARD = threading.Lock()
"""One ingest at a time per cache: the console's panes and a replay may read the same trail at once, and two
ingests that both see an object as new would insert its records twice (or collide on the objects table)."""


def _ingest_lock(root: Path) -> threading.Lock:
    with _INGEST_LOCKS_GUARD:
        return _INGEST_LOCKS.setdefault(root.resolve(), threading.Lock())


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


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/vpce-console/trail` (or ~/.cache/…)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vpce-console" / "trail"


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
