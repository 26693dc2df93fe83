"""CloudTrail as the tail and the timeline read it: FilterLogEvents, StartLiveTail and LookupEvents.

Network activity events (VpceAccessDenied) only reach trails, so they are read from the trail's CloudWatch Logs
group; LookupEvents serves management events only (ModifyVpcEndpoint history) at 2 requests/second, which the
gateway's rate limiter enforces.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One CloudWatch Logs event: its id, timestamp and the message (a CloudTrail record as JSON)."""

    event_id: str
    timestamp_ms: int
    message: str


@dataclass(frozen=True, slots=True)
class LogPage:
    """One FilterLogEvents page."""

    events: tuple[LogEvent, ...]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """One ModifyVpcEndpoint management event that set a policy document."""

    event_id: str
    event_time: datetime
    endpoint_id: str
    policy_sha256: str | None
    """sha256 of the PolicyDocument in the request (None when it only reset the policy or was redacted)."""
    principal: str | None
    error_code: str | None
    """Set when the call failed (then no change happened)."""
    policy_text: str | None = None
    """The PolicyDocument as the request carried it (replay evaluates the version in force from it)."""


async def filter_log_events(
    gateway: AwsGateway,
    log_group: str,
    pattern: str,
    start_ms: int,
    next_token: str | None = None,
    *,
    end_ms: int | None = None,
    limit: int | None = None,
    account_id: str | None = None,
) -> LogPage:
    """One FilterLogEvents page for a JSON filter pattern from `start_ms` (inclusive)."""
    params: dict[str, Any] = {"logGroupName": log_group, "filterPattern": pattern, "startTime": int(start_ms)}
    if next_token:
        params["nextToken"] = next_token
    if end_ms is not None:
        params["endTime"] = int(end_ms)
    if limit is not None:
        params["limit"] = int(limit)
    async with gateway.client("logs", account_id=account_id) as logs:
        answer = await logs.filter_log_events(**params)
    events = tuple(
        LogEvent(str(e.get("eventId") or ""), int(e.get("timestamp") or 0), str(e.get("message") or ""))
        for e in answer.get("events") or ()
    )
    return LogPage(events, answer.get("nextToken") or None)


async def log_group_arn(gateway: AwsGateway, log_group: str, *, account_id: str | None = None) -> str:
    """The ARN StartLiveTail wants for a log group name."""
    if log_group.startswith("arn:"):
        return log_group
    account = account_id or (await gateway.caller_identity()).account_id
    return f"arn:aws:logs:{gateway.region}:{account}:log-group:{log_group}"


async def live_tail(
    gateway: AwsGateway, log_group_arns: list[str], pattern: str, *, account_id: str | None = None
) -> AsyncIterator[LogEvent]:
    """Stream events from StartLiveTail until the session ends (AWS closes it after 3 hours at most)."""
    async with gateway.client("logs", account_id=account_id) as logs:
        if gateway.target.endpoint_url:
            # a custom endpoint serves every host itself: the `streaming-` host prefix would point nowhere
            logs.meta.config.inject_host_prefix = False
        answer = await logs.start_live_tail(logGroupIdentifiers=log_group_arns, logEventFilterPattern=pattern)
        stream = answer["responseStream"]
        async for item in stream:
            update = item.get("sessionUpdate")
            if not isinstance(update, Mapping):
                continue
            for event in update.get("sessionResults") or ():
                message = str(event.get("message") or "")
                ts = int(event.get("timestamp") or 0)
                event_id = hashlib.sha256(f"{ts}:{message}".encode()).hexdigest()[:32]
                yield LogEvent(event_id, ts, message)


def _policy_text(record: Mapping[str, Any]) -> str | None:
    params = record.get("requestParameters")
    if not isinstance(params, Mapping):
        return None
    inner = params.get("ModifyVpcEndpointRequest")
    params = inner if isinstance(inner, Mapping) else params
    policy = params.get("PolicyDocument") or params.get("policyDocument")
    return policy if isinstance(policy, str) else None


def _policy_of(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    params = record.get("requestParameters")
    if not isinstance(params, Mapping):
        return None, None
    inner = params.get("ModifyVpcEndpointRequest")
    if isinstance(inner, Mapping):
        params = inner
    endpoint = params.get("VpcEndpointId") or params.get("vpcEndpointId")
    policy = params.get("PolicyDocument") or params.get("policyDocument")
    return (
        str(endpoint) if endpoint else None,
        hashlib.sha256(policy.encode("utf-8")).hexdigest() if isinstance(policy, str) else None,
    )


async def lookup_policy_changes(
    gateway: AwsGateway,
    *,
    start: datetime,
    end: datetime,
    endpoint_id: str | None = None,
    account_id: str | None = None,
    max_pages: int = 20,
) -> list[PolicyChange]:
    """ModifyVpcEndpoint management events between start and end (LookupEvents, one attribute per call)."""
    changes: list[PolicyChange] = []
    params: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "ModifyVpcEndpoint"}],
        "StartTime": start,
        "EndTime": end,
        "MaxResults": 50,
    }
    pages = 0
    async with gateway.client("cloudtrail", account_id=account_id) as cloudtrail:
        while pages < max_pages:
            answer = await cloudtrail.lookup_events(**params)
            pages += 1
            for event in answer.get("Events") or ():
                try:
                    record = json.loads(event.get("CloudTrailEvent") or "{}")
                except json.JSONDecodeError:
                    continue
                if not isinstance(record, Mapping):
                    continue
                endpoint, sha = _policy_of(record)
                if endpoint is None or (endpoint_id is not None and endpoint != endpoint_id):
                    continue
                identity = record.get("userIdentity")
                when = event.get("EventTime")
                if not isinstance(when, datetime):
                    when = datetime.fromisoformat(
                        str(record.get("eventTime", "1970-01-01T00:00:00Z")).replace("Z", "+00:00")
                    )
                changes.append(
                    PolicyChange(
                        event_id=str(event.get("EventId") or record.get("eventID") or ""),
                        event_time=when,
                        endpoint_id=endpoint,
                        policy_sha256=sha,
                        principal=identity.get("arn") if isinstance(identity, Mapping) else None,
                        error_code=record.get("errorCode"),
                        policy_text=_policy_text(record),
                    )
                )
            token = answer.get("NextToken")
            if not token:
                break
            params["NextToken"] = token
    return sorted(changes, key=lambda c: c.event_time)
