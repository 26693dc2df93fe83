"""Backdated trail history for `vpce lab --history 7d`: deterministic, streamed object by object.

Every spoke with associated services gets an application role calling through the hub endpoints, every persona
calls the services its VPC reaches, a hub-account tool calls with a complete identity, a VPC outside the
configured spokes makes a few calls, and for a stretch of the window the sqs endpoint had a policy that
shut out one spoke account (its calls there are denied, every other call allowed), so the recorded decisions are
exactly what the policy versions in force decide (the `incident`: replay's ground truth; LookupEvents shows the
changes). Volume follows a daily rhythm (busy in the
working day, quiet at night and on weekends). One object per five-minute slot is written and forgotten, so memory
stays bounded at any size; only the aggregates are kept (the ground truth).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import random
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vpce_console.lab.trail import TrailDelivery
from vpce_console.lab.trail_records import (
    DENIAL_CODE,
    UNKNOWN_VPC,
    TruthKey,
    event_source_of,
    iso,
    network_record,
    principal_of,
)
from vpce_console.lab.world import World

SLOT_SECONDS = 300
PER_DAY = {"empty": 0, "demo": 2400, "org": 150_000}
"""Records per (weekday) day by world scale: 7 days at org scale are over 1,000,000 records."""
INCIDENT_SERVICE = "sqs"
INCIDENT_FRACTION = (1 / 3, 1 / 14)
"""The incident starts a third into the window and lasts a fourteenth of it (12 hours of a week)."""
NO_NETWORK_EVENTS = {"sts"}
"""STS is not a network activity event source (facts §4b)."""
ACTIONS: dict[str, tuple[str, ...]] = {
    "sqs": ("SendMessage", "SendMessage", "ReceiveMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes"),
    "kms": ("Decrypt", "Decrypt", "GenerateDataKey", "Encrypt", "DescribeKey"),
    "secretsmanager": ("GetSecretValue", "GetSecretValue", "DescribeSecret"),
    "ssm": ("GetParameter", "GetParameters", "GetParametersByPath", "UpdateInstanceInformation"),
    "ssmmessages": ("CreateControlChannel", "OpenDataChannel"),
    "ec2messages": ("GetMessages", "AcknowledgeMessage"),
    "logs": ("PutLogEvents", "PutLogEvents", "CreateLogStream", "DescribeLogStreams"),
    "ecr.api": ("GetAuthorizationToken", "BatchGetImage", "GetDownloadUrlForLayer"),
    "ecr.dkr": ("BatchGetImage", "GetDownloadUrlForLayer"),
    "monitoring": ("PutMetricData", "GetMetricData"),
    "ec2": ("DescribeInstances", "DescribeTags", "DescribeVolumes"),
}
DEFAULT_ACTIONS = ("Describe", "List", "Get")
USER_AGENT = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22 md/GOOS#linux md/GOARCH#amd64"
SILENT = {("dev-sandbox", "ecr.dkr")}
"""(spoke, service) associated but never called in the history: the doctor's association-unused."""
STRANGER_ACCOUNT = "777777777777"
"""An account outside the configured spokes whose VPC reaches the endpoints anyway (unexpected-caller)."""
STRANGER_IP = "10.250.3.7"


@dataclass(frozen=True, slots=True)
class Caller:
    """One source of calls: who, from where, to which endpoint services, how often."""

    account_id: str
    vpc_id: str
    source_ip: str
    identity: dict[str, Any]
    services: tuple[str, ...]
    weight: float


def parse_duration(text: str) -> float:
    """`7d`, `36h`, `90m` or `0` -> seconds; ValueError otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dhm]?)\s*", text or "")
    if not m:
        raise ValueError(f"expected a duration like 7d, 36h or 90m, got {text!r}")
    value = float(m.group(1))
    return value * {"d": 86400, "h": 3600, "m": 60, "": 86400}[m.group(2)]


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _assumed_role(account: str, role: str, session: str) -> dict[str, Any]:
    role_id = "AROA" + _hex(f"{account}:{role}", 17).upper()
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": "ASIA" + _hex(f"{account}:{role}:{session}", 16).upper(),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{account}:role/{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {"mfaAuthenticated": "false"},
        },
    }


def callers(world: World) -> list[Caller]:
    """Everyone who calls through the hub endpoints in the history, in a fixed order."""
    from vpce_console.lab.enforce import ENDPOINT_SERVICE
    from vpce_console.lab.personas import Registry

    reachable = {s for s in world.endpoints if s not in NO_NETWORK_EVENTS}
    by_vpc = {sp.vpc_id: sp for sp in world.spokes}
    out: list[Caller] = []
    for sp in world.spokes:
        services = tuple(s for s in sp.services if s in reachable and (sp.name, s) not in SILENT)
        if not services:
            continue
        net = ipaddress.ip_network(sp.cidr)
        ip = str(net.network_address + 20 + int(_hex(sp.vpc_id, 4), 16) % 200)
        ident = _assumed_role(sp.account_id, f"{sp.name}-app", "i-0" + _hex(sp.vpc_id, 16))
        out.append(Caller(sp.account_id, sp.vpc_id, ip, ident, services, 1.0))
    registry = Registry(world)
    for workload in world.personas:
        p = workload.persona
        if p.vpc_id is None or p.private_ip is None or p.vpc_id not in by_vpc:
            continue
        associated = set(by_vpc[p.vpc_id].services)
        services = tuple(
            svc for s in workload.services if (svc := ENDPOINT_SERVICE.get(s, s)) in reachable and svc in associated
        )
        identity = registry.lookup(workload.access_key_id)
        if not services or identity is None:
            continue
        out.append(Caller(p.account_id, p.vpc_id, p.private_ip, identity.user_identity(), services, 2.0))
    if world.hub_vpc_id and reachable:
        hub_ident = _assumed_role(world.hub_account, "network-tools", "i-0" + _hex(world.hub_vpc_id, 16))
        hub_services = tuple(s for s in ("sqs", "kms", "ssm", "logs", "ec2") if s in reachable)
        out.append(Caller(world.hub_account, world.hub_vpc_id, "10.0.8.20", hub_ident, hub_services, 1.0))
    if "sqs" in reachable:
        stranger = _assumed_role(STRANGER_ACCOUNT, "partner-sync", "batch")
        out.append(Caller(STRANGER_ACCOUNT, UNKNOWN_VPC, STRANGER_IP, stranger, ("sqs",), 0.05))
    return out


def incident_of(world: World, who: list[Caller], slots: int) -> dict[str, Any] | None:
    """Which account the incident shut out of which endpoint, and its slots [first, last)."""
    endpoint = world.endpoints.get(INCIDENT_SERVICE)
    target = next(
        (c.account_id for c in who if INCIDENT_SERVICE in c.services and c.account_id != world.hub_account), None
    )
    if endpoint is None or target is None or slots <= 0:
        return None
    first = int(slots * INCIDENT_FRACTION[0])
    last = min(slots, first + max(1, int(slots * INCIDENT_FRACTION[1])))
    return {"endpoint_id": endpoint, "account_id": target, "slots": (first, last)}


def incident_policy(account: str) -> str:
    """The document in force during the incident: everything allowed except the one account."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                {
                    "Sid": "ShutOut",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": account}},
                },
            ],
        },
        separators=(",", ":"),
    )


def policy_change_record(world: World, endpoint_id: str, document: str, event_time: str) -> dict[str, Any]:
    """A ModifyVpcEndpoint management event by the lab operator that set `document` (LookupEvents shape)."""
    return {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDA" + _hex(f"{world.hub_account}:operator", 17).upper(),
            "arn": f"arn:aws:iam::{world.hub_account}:user/vpce-operator",
            "accountId": world.hub_account,
            "userName": "vpce-operator",
        },
        "eventTime": event_time,
        "eventSource": "ec2.amazonaws.com",
        "eventName": "ModifyVpcEndpoint",
        "awsRegion": world.region,
        "sourceIPAddress": "10.0.200.10",
        "userAgent": USER_AGENT,
        "requestParameters": {"ModifyVpcEndpointRequest": {"VpcEndpointId": endpoint_id, "PolicyDocument": document}},
        "responseElements": {"ModifyVpcEndpointResponse": {"return": True}},
        "requestID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{endpoint_id}:{event_time}:request")),
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{endpoint_id}:{event_time}:event")),
        "readOnly": False,
        "resources": [],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": world.hub_account,
        "eventCategory": "Management",
    }


def rhythm(epoch: float) -> float:
    """Relative load at a moment: a working-day bump around 14:00 UTC over a night floor, lighter on weekends."""
    t = datetime.fromtimestamp(epoch, UTC)
    hour = t.hour + t.minute / 60
    day = 0.15 + math.exp(-(((hour - 14.0) / 4.0) ** 2))
    return day * (0.45 if t.weekday() >= 5 else 1.0)


def seed_history(
    delivery: TrailDelivery, world: World, seconds: float, seed: int, *, per_day: int | None = None
) -> dict[str, Any]:
    """Write `seconds` of history ending at the current five-minute boundary; returns counts for the ready-file."""
    rate = PER_DAY.get(world.scale, 0) if per_day is None else per_day
    who = callers(world)
    slots = int(seconds // SLOT_SECONDS)
    end = math.floor(delivery.clock() / SLOT_SECONDS) * SLOT_SECONDS
    start = end - slots * SLOT_SECONDS
    summary: dict[str, Any] = {"start": iso(start), "end": iso(end), "records": 0, "objects": 0, "denials": 0}
    if not who or slots <= 0 or rate <= 0:
        return summary
    rng = random.Random(seed * 7919 + 13)
    owner, region = world.hub_account, world.region
    cum: list[float] = []
    total = 0.0
    for c in who:
        total += c.weight * len(c.services)
        cum.append(total)
    # Static JSON of every (caller, service, action) once; per record only times and ids are added.
    templates: dict[tuple[int, str, str, bool], tuple[str, TruthKey]] = {}

    def template(ci: int, service: str, action: str, denied: bool) -> tuple[str, TruthKey]:
        k = (ci, service, action, denied)
        hit = templates.get(k)
        if hit is None:
            c = who[ci]
            rec = network_record(
                owner_account=owner,
                region=region,
                endpoint_id=world.endpoints[service],
                identity=c.identity,
                caller_account=c.account_id,
                event_source=event_source_of(service),
                event_name=action,
                source_ip=c.source_ip,
                user_agent=USER_AGENT,
                event_time="",
                denied=denied,
                ids=("", "", ""),
            )
            static = {
                k2: v for k2, v in rec.items() if k2 not in ("eventTime", "requestID", "eventID", "sharedEventID")
            }
            text = json.dumps(static, separators=(",", ":"))[:-1]
            key = TruthKey(
                world.endpoints[service],
                c.account_id,
                c.vpc_id,
                principal_of(rec["userIdentity"]),
                rec["eventSource"],
                action,
                DENIAL_CODE if denied else "",
            )
            hit = templates[k] = (text, key)
        return hit

    mean_weight = sum(rhythm(start + i * SLOT_SECONDS) for i in range(min(slots, 288 * 7))) / min(slots, 288 * 7)
    per_slot = rate / 288 / max(mean_weight, 1e-9)
    incident = incident_of(world, who, slots)
    if incident is not None:
        first, last = incident["slots"]
        summary["incident"] = {
            "endpoint_id": incident["endpoint_id"],
            "account_id": incident["account_id"],
            "start": iso(start + first * SLOT_SECONDS),
            "end": iso(start + last * SLOT_SECONDS),
            "policy": incident_policy(incident["account_id"]),
        }
    shut_out = incident["account_id"] if incident is not None else None
    incident_slots = range(*incident["slots"]) if incident is not None else range(0)
    getrandbits = rng.getrandbits
    truth = delivery.truth

    def uid() -> str:
        h = f"{getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    for slot in range(slots):
        t0 = start + slot * SLOT_SECONDS
        expected = per_slot * rhythm(t0)
        n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        picks = rng.choices(range(len(who)), cum_weights=cum, k=n)
        offsets = sorted(rng.random() * SLOT_SECONDS for _ in range(n))
        in_incident = slot in incident_slots
        lines: list[str] = []
        for i, ci in enumerate(picks):
            c = who[ci]
            service = c.services[rng.randrange(len(c.services))]
            actions = ACTIONS.get(service, DEFAULT_ACTIONS)
            action = actions[rng.randrange(len(actions))]
            denied = in_incident and service == INCIDENT_SERVICE and c.account_id == shut_out
            text, key = template(ci, service, action, denied)
            when = iso(t0 + offsets[i])
            lines.append(
                f'{text},"eventTime":"{when}","requestID":"{uid()}","eventID":"{uid()}","sharedEventID":"{uid()}"}}'
            )
            truth.add(key, when)
            if denied:
                summary["denials"] += 1
        if lines:
            delivery.write_object(t0 + SLOT_SECONDS, lines)
            summary["objects"] += 1
            summary["records"] += len(lines)
    return summary
