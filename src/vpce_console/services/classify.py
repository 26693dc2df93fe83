"""Classify AccessDenied-like answers and CloudTrail records by the policy type that denied them.

The wording lives in `data/denial_patterns.yaml` (facts §4a) so a new AWS phrasing is a data change, not a code change.
Used by the denial tail (CloudTrail records) and by the rollout probes (live error code + message).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

REASON_CODES: tuple[str, ...] = (
    "vpce-explicit",
    "vpce-implicit",
    "vpce-network-event",
    "scp-explicit",
    "scp-implicit",
    "rcp-explicit",
    "rcp-implicit",
    "identity-explicit",
    "identity-implicit",
    "resource-explicit",
    "resource-implicit",
    "session-explicit",
    "session-implicit",
    "boundary-explicit",
    "boundary-implicit",
    "other",
)
"""Every reason a denial can have; the data file must define exactly these (a test checks both directions)."""

ENDPOINT_REASONS = frozenset({"vpce-explicit", "vpce-implicit", "vpce-network-event"})
"""Reasons that mean the VPC endpoint policy itself denied the request."""


@dataclass(frozen=True, slots=True)
class ReasonMatch:
    """The policy type a denial message names, and the policy ARN when AWS appended one."""

    reason: str
    """One of REASON_CODES."""
    policy_arn: str | None = None
    """ARN suffix AWS adds for SCP, RCP, boundary, session and identity policies (same account/org only)."""


@dataclass(frozen=True, slots=True)
class Denial:
    """One classified denial from a CloudTrail record: what was denied, for whom, through which endpoint, and why."""

    reason: str
    """One of REASON_CODES."""
    event_id: str
    """CloudTrail eventID (dedupe key); a content hash when the record has none."""
    event_time: str
    """CloudTrail eventTime as written (UTC ISO 8601)."""
    event_name: str
    """API action, e.g. `GetQueueAttributes`."""
    service: str
    """Service prefix from eventSource, e.g. `sqs`."""
    account_id: str | None
    """Caller's account (userIdentity.accountId), falling back to the recipient account."""
    endpoint_id: str | None
    """vpcEndpointId the request traversed, when recorded."""
    endpoint_account_id: str | None
    """Owner of that endpoint (vpcEndpointAccountId, or the recipient of a network event)."""
    source_ip: str | None
    """sourceIPAddress: the caller's private IP for traffic through an endpoint."""
    principal: str | None
    """userIdentity.arn; None when CloudTrail redacted it (network events for other accounts)."""
    region: str | None
    error_code: str
    error_message: str
    policy_arn: str | None = None
    """Denying policy's ARN when the message carries one."""
    event_category: str | None = None
    """Management, Data or NetworkActivity."""
    policy_version: str | None = None
    """sha256 prefix of the endpoint policy in force at event_time; filled in by the tail."""

    def to_row(self) -> dict[str, Any]:
        """The stable JSONL row of `vpce tail --format jsonl`."""
        return {
            "event_time": self.event_time,
            "event_id": self.event_id,
            "reason": self.reason,
            "endpoint_id": self.endpoint_id,
            "service": self.service,
            "account_id": self.account_id,
            "source_ip": self.source_ip,
            "principal": self.principal,
            "event_name": self.event_name,
            "policy_version": self.policy_version,
            "region": self.region,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "policy_arn": self.policy_arn,
            "endpoint_account_id": self.endpoint_account_id,
            "event_category": self.event_category,
        }


@dataclass(frozen=True, slots=True)
class _Patterns:
    """The compiled form of data/denial_patterns.yaml."""

    denial_codes: frozenset[str]
    network_error_code: str
    network_reason: str
    arn_suffix: re.Pattern[str]
    reasons: tuple[tuple[str, re.Pattern[str]], ...]
    declared_codes: tuple[str, ...]


def _load_yaml() -> Mapping[str, Any]:
    text = resources.files("vpce_console.data").joinpath("denial_patterns.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, Mapping):
        raise ValueError("denial_patterns.yaml: top level must be a mapping")
    return data


@cache
def patterns() -> _Patterns:
    """Load and compile the denial patterns once per process."""
    data = _load_yaml()
    compiled: list[tuple[str, re.Pattern[str]]] = []
    declared: list[str] = []
    for entry in data["reasons"]:
        declared.append(str(entry["code"]))
        for pattern in entry["patterns"]:
            compiled.append((str(entry["code"]), re.compile(pattern, re.IGNORECASE)))
    declared.append(str(data["network_event"]["code"]))
    declared.append(str(data["other"]["code"]))
    return _Patterns(
        denial_codes=frozenset(str(c) for c in data["denial_error_codes"]["codes"]),
        network_error_code=str(data["network_event"]["error_code"]),
        network_reason=str(data["network_event"]["code"]),
        arn_suffix=re.compile(str(data["policy_arn_suffix"])),
        reasons=tuple(compiled),
        declared_codes=tuple(declared),
    )


def is_denial_code(error_code: str | None) -> bool:
    """True when an error code means "not authorized" (not throttling, not-found or anything else)."""
    return bool(error_code) and error_code in patterns().denial_codes


def reason_for_message(error_code: str | None, message: str | None) -> ReasonMatch | None:
    """The reason a denial carries, from its error code and message; None when the code is not a denial.

    The earliest policy-type phrase in the message wins, so a chained "… transitively through a service control
    policy" tail never overrides the policy that actually denied.
    """
    p = patterns()
    if not is_denial_code(error_code):
        return None
    if error_code == p.network_error_code:
        return ReasonMatch(p.network_reason)
    text = message or ""
    best: tuple[int, str, re.Match[str]] | None = None
    for code, regex in p.reasons:
        found = regex.search(text)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), code, found)
    if best is None:
        return ReasonMatch("other")
    arn = p.arn_suffix.match(text, best[2].end())
    return ReasonMatch(best[1], arn.group(1) if arn else None)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _event_id(record: Mapping[str, Any]) -> str:
    event_id = _str(record.get("eventID")) or _str(record.get("eventId"))
    if event_id:
        return event_id
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()
    return f"sha256:{digest[:32]}"


def classify(record: Mapping[str, Any]) -> Denial | None:
    """Classify one CloudTrail record; None for records that are not denials (success, throttling, not found)."""
    error_code = _str(record.get("errorCode"))
    match = reason_for_message(error_code, _str(record.get("errorMessage")))
    if match is None or error_code is None:
        return None
    identity = record.get("userIdentity")
    identity = identity if isinstance(identity, Mapping) else {}
    source = _str(record.get("eventSource")) or ""
    recipient = _str(record.get("recipientAccountId"))
    category = _str(record.get("eventCategory"))
    endpoint_account = _str(record.get("vpcEndpointAccountId"))
    if endpoint_account is None and category == "NetworkActivity":
        endpoint_account = recipient
    return Denial(
        reason=match.reason,
        event_id=_event_id(record),
        event_time=_str(record.get("eventTime")) or "",
        event_name=_str(record.get("eventName")) or "",
        service=source.removesuffix(".amazonaws.com"),
        account_id=_str(identity.get("accountId")) or recipient,
        endpoint_id=_str(record.get("vpcEndpointId")),
        endpoint_account_id=endpoint_account,
        source_ip=_str(record.get("sourceIPAddress")),
        principal=_str(identity.get("arn")),
        region=_str(record.get("awsRegion")),
        error_code=error_code,
        error_message=_str(record.get("errorMessage")) or "",
        policy_arn=match.policy_arn,
        event_category=category,
    )
