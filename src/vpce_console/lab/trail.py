"""The organization trail the lab delivers: network activity events as gzipped objects in a log-archive bucket.

Every call through a hub endpoint becomes a record in the shape of facts §4b; records are buffered and written as
`{"Records": [...]}` objects under the org-trail key layout about every five minutes (and on demand through
`POST /lab-api/trail/flush`), next to the copy the hub's log group gets. The lab also keeps the true aggregates of
what it delivered (`GET /lab-api/trail/truth`) so tests compare the console's answers with ground truth.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vpce_console.lab.errors import WireResponse, request_id
from vpce_console.lab.trail_records import (
    DELIVERY_SECONDS,
    DENIAL_CODE,
    LOG_ARCHIVE_ACCOUNT,
    TRAIL_BUCKET,
    TRAIL_PREFIX,
    UNKNOWN_VPC,
    Truth,
    TruthKey,
    event_source_of,
    iso,
    network_record,
    object_key,
    principal_of,
)
from vpce_console.lab.world import ORG_ID, World


class TrailDelivery:
    """Buffers network activity records and writes them to the log-archive bucket as the org trail would."""

    def __init__(
        self,
        world: World,
        *,
        moto_lock: AbstractContextManager[Any],
        clock: Callable[[], float] = time.time,
        log_writer: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.world = world
        self.moto_lock = moto_lock
        self.clock = clock
        self.log_writer = log_writer
        """Puts a record into the hub's CloudTrail log group (the tail's source)."""
        self.truth = Truth()
        self._pending: list[tuple[str, TruthKey, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._serial = 0
        self.history: dict[str, Any] = {}
        self._index: list[tuple[str, int, str, float]] = []
        """(key, size, etag, last modified) of every trail object, sorted by key: ListObjectsV2 answers from it."""
        self.mirror: Path | None = None
        """A folder that gets a copy of every object (the lab's Athena reads it with DuckDB)."""
        self.ensure_bucket()

    # -- bucket ----------------------------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Create the log-archive bucket (and the read role there) if the lab has not yet."""
        from moto.iam.models import iam_backends
        from moto.s3.models import s3_backends

        with self.moto_lock:
            s3 = s3_backends[LOG_ARCHIVE_ACCOUNT]["aws"]
            if TRAIL_BUCKET not in s3.buckets:
                s3.create_bucket(TRAIL_BUCKET, self.world.region)
            hub_s3 = s3_backends[self.world.hub_account]["aws"]
            results = athena_results_bucket(self.world.hub_account)
            if results not in hub_s3.buckets:
                hub_s3.create_bucket(results, self.world.region)
            iam = iam_backends[LOG_ARCHIVE_ACCOUNT]["aws"]
            from vpce_console.lab.world import READ_ROLE

            if READ_ROLE not in {r.name for r in iam.roles.values()}:
                trust = {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{self.world.hub_account}:root"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
                iam.create_role(READ_ROLE, json.dumps(trust), "/", None, "vpce-console trail reader", [], None)

    def put_result(self, bucket: str, key: str, body: bytes) -> None:
        """Store an Athena result file in the hub account's bucket."""
        from moto.s3.models import s3_backends

        with self.moto_lock:
            backend = s3_backends[self.world.hub_account]["aws"]
            if bucket in backend.buckets:
                backend.put_object(bucket, key, body)

    def put_object(self, key: str, body: bytes) -> None:
        """Write one object into the bucket (in-process: the lab is the only writer)."""
        from moto.s3.models import s3_backends

        with self.moto_lock:
            s3_backends[LOG_ARCHIVE_ACCOUNT]["aws"].put_object(TRAIL_BUCKET, key, body)
        entry = (key, len(body), hashlib.md5(body, usedforsecurity=False).hexdigest(), self.clock())
        with self._lock:
            bisect.insort(self._index, entry)
        if self.mirror is not None:
            path = self.mirror / TRAIL_BUCKET / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        self.truth.objects += 1
        self.truth.bytes += len(body)

    def write_object(self, delivered: float, records: Iterable[str]) -> str:
        """Gzip `{"Records": [...]}` from already-serialized records and store it; returns the key."""
        self._serial += 1
        unique = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.world.seed}:{delivered}:{self._serial}").hex[:16]
        key = object_key(self.world.hub_account, self.world.region, delivered, unique)
        body = gzip.compress(("{" + '"Records":[' + ",".join(records) + "]}").encode(), compresslevel=1, mtime=0)
        self.put_object(key, body)
        return key

    # -- live records ----------------------------------------------------------------------------------------

    def record_call(
        self,
        *,
        identity: Mapping[str, Any],
        caller_account: str,
        vpc_id: str | None,
        endpoint_id: str,
        service: str,
        action: str,
        source_ip: str,
        user_agent: str,
        denied: bool,
    ) -> dict[str, Any]:
        """One call through a hub endpoint: into the log group now, into the bucket at the next delivery."""
        now = self.clock()
        record = network_record(
            owner_account=self.world.hub_account,
            region=self.world.region,
            endpoint_id=endpoint_id,
            identity=identity,
            caller_account=caller_account,
            event_source=event_source_of(service),
            event_name=action,
            source_ip=source_ip,
            user_agent=user_agent,
            event_time=iso(now),
            denied=denied,
        )
        if self.log_writer is not None:
            self.log_writer(self.world.hub_account, record)
        key = TruthKey(
            endpoint_id,
            caller_account,
            vpc_id or UNKNOWN_VPC,
            principal_of(record["userIdentity"]),
            record["eventSource"],
            action,
            DENIAL_CODE if denied else "",
        )
        with self._lock:
            self._pending.append((json.dumps(record, separators=(",", ":")), key, record["eventTime"]))
        return record

    def flush(self) -> dict[str, Any]:
        """Deliver what is pending as one object now (the control route and the five-minute timer)."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return {"objects": 0, "records": 0}
        key = self.write_object(self.clock(), (p[0] for p in pending))
        for _, truth_key, event_time in pending:
            self.truth.add(truth_key, event_time)
        return {"objects": 1, "records": len(pending), "key": key}

    def start(self, period: float = DELIVERY_SECONDS) -> None:
        """Deliver every `period` seconds in a daemon thread until `stop`."""

        def loop() -> None:
            while not self._stop.wait(period):
                self.flush()

        self._thread = threading.Thread(target=loop, name="lab-trail", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the delivery thread (pending records are dropped with the lab)."""
        self._stop.set()

    # -- control route ---------------------------------------------------------------------------------------

    def control(self, method: str, path: str) -> tuple[int, dict[str, Any]]:
        """`POST /lab-api/trail/flush`, `GET /lab-api/trail/truth`, `GET /lab-api/trail`."""
        if path == "/lab-api/trail/flush" and method == "POST":
            return 200, self.flush()
        if path == "/lab-api/trail/truth":
            with self._lock:
                pending = len(self._pending)
            return 200, {**self.truth.to_json(), "pending": pending, "history": self.history}
        if path == "/lab-api/trail":
            return 200, self.ready()
        return 404, {"error": f"no route {path}"}

    def ready(self) -> dict[str, Any]:
        """The ready-file's `trail` section (what the console's `trail:` config needs)."""
        return {
            "bucket": TRAIL_BUCKET,
            "prefix": TRAIL_PREFIX,
            "organization_id": ORG_ID,
            "account_id": LOG_ARCHIVE_ACCOUNT,
            "accounts": [self.world.hub_account],
            "regions": [self.world.region],
            "delivery_seconds": DELIVERY_SECONDS,
            "history": self.history,
            "athena": {
                "workgroup": "primary",
                "database": "default",
                "table": "vpce_org_trail",
                "output_location": f"s3://{athena_results_bucket(self.world.hub_account)}/vpce/",
            },
        }

    # -- S3 access -------------------------------------------------------------------------------------------

    def list_objects_v2(self, query: str) -> WireResponse:
        """ListObjectsV2 of the trail bucket from the lab's own sorted index (moto re-sorts and re-serializes the
        whole bucket on every page, seconds per listing at thousands of objects; real S3 pages in ~0.1 s)."""
        from urllib.parse import parse_qs
        from xml.sax.saxutils import escape

        q = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        prefix = q.get("prefix", "")
        after = max(q.get("start-after", ""), q.get("continuation-token", ""))
        size = max(1, min(int(q.get("max-keys") or 1000), 1000))
        with self._lock:
            start = bisect.bisect_right(self._index, (after, 2**62, "", 0.0)) if after else 0
            chunk: list[tuple[str, int, str, float]] = []
            i = start
            while i < len(self._index) and len(chunk) <= size:
                entry = self._index[i]
                if entry[0].startswith(prefix):
                    chunk.append(entry)
                elif entry[0] > prefix:
                    break
                i += 1
        truncated = len(chunk) > size
        chunk = chunk[:size]
        contents = "".join(
            f"<Contents><Key>{escape(k)}</Key><LastModified>"
            f"{datetime.fromtimestamp(t, UTC):%Y-%m-%dT%H:%M:%S.000Z}</LastModified><ETag>&quot;{e}&quot;</ETag>"
            f"<Size>{n}</Size><StorageClass>STANDARD</StorageClass></Contents>"
            for k, n, e, t in chunk
        )
        token = f"<NextContinuationToken>{escape(chunk[-1][0])}</NextContinuationToken>" if truncated else ""
        given = q.get("continuation-token")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>{TRAIL_BUCKET}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(chunk)}</KeyCount>"
            f"<MaxKeys>{size}</MaxKeys><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
            + (f"<ContinuationToken>{escape(given)}</ContinuationToken>" if given else "")
            + (f"<StartAfter>{escape(q['start-after'])}</StartAfter>" if q.get("start-after") else "")
            + f"{contents}{token}</ListBucketResult>"
        )
        return WireResponse(
            200, (("Content-Type", "application/xml"), ("x-amz-request-id", request_id())), body.encode()
        )

    def index_put(self, path: str) -> None:
        """Index an object someone PUT into the trail bucket over HTTP (tests plant bad objects that way)."""
        from urllib.parse import unquote

        from moto.s3.models import s3_backends

        bucket, _, key = path.lstrip("/").partition("/")
        if bucket != TRAIL_BUCKET or not key:
            return
        key = unquote(key)
        with self.moto_lock:
            obj = s3_backends[LOG_ARCHIVE_ACCOUNT]["aws"].buckets[TRAIL_BUCKET].keys.get(key)
            if obj is None:
                return
            entry = (key, int(obj.size), str(obj.etag).strip('"'), self.clock())
        with self._lock:
            self._index = [e for e in self._index if e[0] != key]
            bisect.insort(self._index, entry)

    def lists(self, method: str, path: str, query: Any) -> bool:
        """True for a ListObjectsV2 of the trail bucket (served from the index)."""
        return method == "GET" and path.strip("/") == TRAIL_BUCKET and "list-type=2" in str(query)

    def denies_read(self, bucket: str, caller_account: str | None) -> bool:
        """The bucket policy of a log archive: only the log-archive account itself reads the trail."""
        return bucket == TRAIL_BUCKET and caller_account != LOG_ARCHIVE_ACCOUNT


def athena_results_bucket(account: str) -> str:
    """The hub account's bucket for Athena query results."""
    return f"athena-results-{account}"


def s3_access_denied() -> WireResponse:
    """S3's 403 answer when a bucket policy does not grant the caller (rest-xml error body)."""
    rid = request_id()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message>'
        f"<RequestId>{rid}</RequestId><HostId>{rid}</HostId></Error>"
    )
    return WireResponse(403, (("Content-Type", "application/xml"), ("x-amz-request-id", rid)), body.encode())
