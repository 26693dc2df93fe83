"""CloudTrail as the lab writes it: management events where made (facts §4b); network activity events: lab/trail.py."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from vpce_console.lab.pagination import PageError, fingerprint, page, read_token
from vpce_console.lab.personas import Identity
from vpce_console.lab.world import LOG_GROUP

LOOKUP_ATTRIBUTES = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)
EVENT_SOURCES = {"monitoring": "monitoring.amazonaws.com", "ecr": "ecr.amazonaws.com"}


def event_source(service: str) -> str:
    """`<service>.amazonaws.com` for a signing name."""
    return EVENT_SOURCES.get(service, f"{service}.amazonaws.com")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Trail:
    """Per-account event store; every record is also put into the account's CloudTrail log group."""

    def __init__(
        self,
        region: str,
        *,
        moto_lock: AbstractContextManager[Any],
        clock: Callable[[], float] = time.time,
        keep: int = 20000,
    ) -> None:
        self.region = region
        self.moto_lock = moto_lock
        self.clock = clock
        self._events: dict[str, deque[dict[str, Any]]] = {}
        self._keep = keep
        self._lock = threading.Lock()

    # -- writing ---------------------------------------------------------------------------------------------

    def _write(self, account: str, record: dict[str, Any], *, lookup: bool) -> None:
        if lookup:
            with self._lock:
                self._events.setdefault(account, deque(maxlen=self._keep)).appendleft(record)
        from moto.logs.models import logs_backends

        ts = int(self.clock() * 1000)
        with self.moto_lock:
            logs = logs_backends[account][self.region]
            if LOG_GROUP not in logs.groups:
                logs.create_log_group(LOG_GROUP, {})
            stream = f"{account}_CloudTrail_{self.region}"
            group = logs.groups[LOG_GROUP]
            if stream not in group.streams:
                logs.create_log_stream(LOG_GROUP, stream)
            logs.put_log_events(LOG_GROUP, stream, [{"timestamp": ts, "message": json.dumps(record)}])

    def management(
        self,
        *,
        account: str,
        caller: Identity | None,
        access_key_id: str,
        service: str,
        action: str,
        request_parameters: Mapping[str, Any] | None,
        response_elements: Mapping[str, Any] | None,
        source_ip: str,
        user_agent: str,
        read_only: bool,
        endpoint_id: str | None = None,
        endpoint_account: str | None = None,
        resources: list[dict[str, str]] | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> dict[str, Any]:
        """A management event in the account where the call was made (LookupEvents serves it too)."""
        now = self.clock()
        identity = (
            caller.user_identity()
            if caller
            else {"type": "IAMUser", "accountId": account, "accessKeyId": access_key_id}
        )
        record: dict[str, Any] = {
            "eventVersion": "1.11",
            "userIdentity": identity,
            "eventTime": _iso(now),
            "eventSource": event_source(service),
            "eventName": action,
            "awsRegion": self.region,
            "sourceIPAddress": source_ip,
            "userAgent": user_agent,
            "requestParameters": dict(request_parameters) if request_parameters is not None else None,
            "responseElements": dict(response_elements) if response_elements is not None else None,
            "requestID": str(uuid.uuid4()),
            "eventID": str(uuid.uuid4()),
            "readOnly": read_only,
            "resources": resources or [],
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
        if error_code:
            record["errorCode"] = error_code
            record["errorMessage"] = error_message or ""
        if endpoint_id:
            record["vpcEndpointId"] = endpoint_id
            record["vpcEndpointAccountId"] = endpoint_account
        record["_epoch"] = now
        self._write(account, {k: v for k, v in record.items() if k != "_epoch"}, lookup=False)
        with self._lock:
            self._events.setdefault(account, deque(maxlen=self._keep)).appendleft(record)
        return record

    def backdated(self, account: str, record: dict[str, Any], epoch: float) -> None:
        """A management event from before the lab started (seeded history): LookupEvents serves it, newest first."""
        with self._lock:
            events = self._events.setdefault(account, deque(maxlen=self._keep))
            ordered = sorted([*events, {**record, "_epoch": epoch}], key=lambda r: -float(r["_epoch"]))
            events.clear()
            events.extend(ordered[: self._keep])

    # -- LookupEvents ----------------------------------------------------------------------------------------

    def lookup(self, account: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Serve LookupEvents: one attribute, MaxResults 1..50, newest first; raises PageError on bad input."""
        attrs = params.get("LookupAttributes") or []
        if len(attrs) > 1:
            raise PageError("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
        key = value = None
        if attrs:
            key, value = attrs[0].get("AttributeKey"), attrs[0].get("AttributeValue")
            if key not in LOOKUP_ATTRIBUTES:
                raise PageError("InvalidLookupAttributesException", f"Invalid lookup attribute key: {key}")
        max_results = params.get("MaxResults", 50)
        if not isinstance(max_results, int) or not 1 <= max_results <= 50:
            raise PageError("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        start = _epoch(params.get("StartTime"))
        end = _epoch(params.get("EndTime"))
        if start is not None and end is not None and start > end:
            raise PageError("InvalidTimeRangeException", "Start time must be before end time.")
        with self._lock:
            events = list(self._events.get(account, ()))
        out = []
        for rec in events:
            epoch = rec["_epoch"]
            if start is not None and epoch < start:
                continue
            if end is not None and epoch > end:
                continue
            if key is not None and not _attr_matches(rec, key, str(value)):
                continue
            out.append(rec)
        fp = fingerprint(params)
        offset = read_token(params.get("NextToken"), fp)
        chunk, token = page(out, offset, max_results, fp)
        result: dict[str, Any] = {"Events": [_lookup_item(r) for r in chunk]}
        if token:
            result["NextToken"] = token
        return result


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float(value)


def _attr_matches(rec: Mapping[str, Any], key: str, value: str) -> bool:
    ident = rec.get("userIdentity") or {}
    if key == "EventId":
        return bool(rec.get("eventID") == value)
    if key == "EventName":
        return bool(rec.get("eventName") == value)
    if key == "ReadOnly":
        return str(rec.get("readOnly")).lower() == value.lower()
    if key == "EventSource":
        return bool(rec.get("eventSource") == value)
    if key == "AccessKeyId":
        return bool(ident.get("accessKeyId") == value)
    if key == "Username":
        return _username(rec) == value
    if key == "ResourceName":
        return any(r.get("ResourceName") == value for r in rec.get("resources") or [])
    if key == "ResourceType":
        return any(r.get("ResourceType") == value for r in rec.get("resources") or [])
    return False


def _username(rec: Mapping[str, Any]) -> str | None:
    ident = rec.get("userIdentity") or {}
    if ident.get("type") == "AssumedRole":
        return str(ident.get("principalId", ":")).split(":", 1)[-1]
    name = ident.get("userName")
    return str(name) if name is not None else None


def _lookup_item(rec: Mapping[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in rec.items() if k != "_epoch"}
    item: dict[str, Any] = {
        "EventId": rec["eventID"],
        "EventName": rec["eventName"],
        "ReadOnly": "true" if rec.get("readOnly") else "false",
        "EventTime": rec["_epoch"],
        "EventSource": rec["eventSource"],
        "Resources": [
            {"ResourceType": r.get("ResourceType"), "ResourceName": r.get("ResourceName")}
            for r in rec.get("resources") or []
        ],
        "CloudTrailEvent": json.dumps(clean),
    }
    ident = rec.get("userIdentity") or {}
    if ident.get("accessKeyId"):
        item["AccessKeyId"] = ident["accessKeyId"]
    if (name := _username(rec)) is not None:
        item["Username"] = name
    return item
