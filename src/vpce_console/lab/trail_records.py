"""What the lab's organization trail is made of: one call's record (facts §4b), its object key, and the truth.

The truth is the aggregate of everything delivered: what tests compare the console's answers with.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vpce_console.lab.world import ORG_ID

LOG_ARCHIVE_ACCOUNT = "999999999999"
"""The organization's log-archive account, which owns the trail bucket (as Control Tower lays it out)."""


TRAIL_BUCKET = f"aws-cloudtrail-logs-{LOG_ARCHIVE_ACCOUNT}-org"


TRAIL_PREFIX = "org-trail/"
"""The trail's S3 key prefix (the part before `AWSLogs/`)."""


DELIVERY_SECONDS = 300.0
"""CloudTrail delivers an object about every five minutes."""


NETWORK_EVENT_VERSION = "1.09"


DENIAL_CODE = "VpceAccessDenied"


DENIAL_MESSAGE = "The request was denied due to a VPC endpoint policy"


UNKNOWN_VPC = "unknown"


EVENT_SOURCES = {
    "monitoring": "monitoring.amazonaws.com",
    "ecr.api": "ecr.amazonaws.com",
    "ecr.dkr": "ecr.amazonaws.com",
    "kinesis-streams": "kinesis.amazonaws.com",
    "kinesis-firehose": "firehose.amazonaws.com",
    "ecs-agent": "ecs.amazonaws.com",
    "ecs-telemetry": "ecs.amazonaws.com",
    "sagemaker.api": "sagemaker.amazonaws.com",
    "sagemaker.runtime": "sagemaker.amazonaws.com",
    "git-codecommit": "codecommit.amazonaws.com",
    "application-autoscaling": "application-autoscaling.amazonaws.com",
}
"""Endpoint service suffix -> CloudTrail eventSource where they differ from `<suffix>.amazonaws.com`."""


def event_source_of(service: str) -> str:
    """CloudTrail's eventSource for an endpoint service suffix or a signing name."""
    return EVENT_SOURCES.get(service, f"{service}.amazonaws.com")


def iso(epoch: float) -> str:
    """CloudTrail's eventTime format (UTC, seconds)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def object_key(account: str, region: str, delivered: float, unique: str, prefix: str = TRAIL_PREFIX) -> str:
    """`<prefix>AWSLogs/<org>/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<id>.json.gz`."""
    t = datetime.fromtimestamp(delivered, UTC)
    return (
        f"{prefix}AWSLogs/{ORG_ID}/{account}/CloudTrail/{region}/{t:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{t:%Y%m%dT%H%MZ}_{unique}.json.gz"
    )


def caller_identity_field(identity: Mapping[str, Any], caller_account: str, owner_account: str) -> dict[str, Any]:
    """The endpoint owner sees its own principals in full; other accounts' are redacted to the account (facts §4b).

    AWS documents the redacted form for denials; for allowed calls from other accounts the exact shape is not
    documented, so the lab uses the same redacted form (docs/lab.md).
    """
    if caller_account == owner_account:
        return dict(identity)
    principal = identity.get("principalId") or caller_account
    return {"type": "AWSAccount", "principalId": principal, "accountId": caller_account}


def network_record(
    *,
    owner_account: str,
    region: str,
    endpoint_id: str,
    identity: Mapping[str, Any],
    caller_account: str,
    event_source: str,
    event_name: str,
    source_ip: str,
    user_agent: str,
    event_time: str,
    denied: bool,
    ids: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """One NetworkActivity record as the endpoint owner's trail receives it."""
    request_id, event_id, shared_id = ids or (str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))
    record: dict[str, Any] = {
        "eventVersion": NETWORK_EVENT_VERSION,
        "userIdentity": caller_identity_field(identity, caller_account, owner_account),
        "eventTime": event_time,
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
    }
    if denied:
        record["errorCode"] = DENIAL_CODE
        record["errorMessage"] = DENIAL_MESSAGE
    record.update(
        {
            "requestID": request_id,
            "eventID": event_id,
            "eventType": "AwsVpceEvent",
            "recipientAccountId": owner_account,
            "sharedEventID": shared_id,
            "vpcEndpointId": endpoint_id,
            "vpcEndpointAccountId": owner_account,
            "eventCategory": "NetworkActivity",
        }
    )
    return record


@dataclass(frozen=True, slots=True)
class TruthKey:
    """The dimensions the console groups by, as the generator knew them (not as an IP lookup would guess)."""

    endpoint_id: str
    account_id: str
    vpc_id: str
    principal: str
    event_source: str
    event_name: str
    error_code: str


class Truth:
    """Aggregates of every record delivered to the bucket: calls, first and last eventTime per key."""

    def __init__(self) -> None:
        self.rows: dict[TruthKey, list[Any]] = {}
        self.records = 0
        self.objects = 0
        self.bytes = 0

    def add(self, key: TruthKey, event_time: str) -> None:
        """Count one delivered record."""
        row = self.rows.get(key)
        if row is None:
            self.rows[key] = [1, event_time, event_time]
        else:
            row[0] += 1
            if event_time < row[1]:
                row[1] = event_time
            if event_time > row[2]:
                row[2] = event_time
        self.records += 1

    def to_json(self) -> dict[str, Any]:
        """Every key with its counts (the control route's body)."""
        return {
            "records": self.records,
            "objects": self.objects,
            "bytes": self.bytes,
            "rows": [
                {
                    "endpoint_id": k.endpoint_id,
                    "account_id": k.account_id,
                    "vpc_id": k.vpc_id,
                    "principal": k.principal,
                    "event_source": k.event_source,
                    "event_name": k.event_name,
                    "error_code": k.error_code,
                    "calls": v[0],
                    "first_seen": v[1],
                    "last_seen": v[2],
                }
                for k, v in self.rows.items()
            ],
        }


def principal_of(user_identity: Mapping[str, Any]) -> str:
    """What `--by principal` groups on: the ARN when the record has one, else the (redacted) principal id."""
    return str(user_identity.get("arn") or user_identity.get("principalId") or user_identity.get("accountId") or "")
