"""Derive discriminating probes from a policy change, and read probe answers as endpoint decisions.

A probe is one cheap read call (ListQueues, GetQueueAttributes, DescribeKey, …) made as an identity this machine
can act as: its own, or a configured probe role assumed with session tags. Evaluating each (identity, action,
resource) under the deployed and the new policy tells which calls must change behaviour; only those
*discriminating* probes can show that the new policy is in force. Pure: no I/O, the engine does the evaluation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vpce_console.policy.evaluator import CompiledPolicy, Decision, PolicyError, compile_policy, evaluate
from vpce_console.policy.personas import HubEndpoint, Persona, persona_request
from vpce_console.services.classify import Denial, is_denial_code, reason_for_message
from vpce_console.services.watch import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, INCONCLUSIVE, Phase, WatchProbe

PROBE_ACTIONS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "sqs": (("sqs:ListQueues", "*"), ("sqs:GetQueueAttributes", "queue")),
    "kms": (("kms:ListKeys", "*"), ("kms:DescribeKey", "key")),
    "sts": (("sts:GetCallerIdentity", "*"),),
    "logs": (("logs:DescribeLogGroups", "*"),),
    "secretsmanager": (("secretsmanager:ListSecrets", "*"),),
    "ssm": (("ssm:DescribeParameters", "*"),),
}
"""Service -> cheap read calls a probe may make, with `*` or the resource kind they take (aws/probes.py runs them)."""

SYNTHETIC_NAMES = {"queue": "vpce-console-probe", "key": "key/00000000-0000-0000-0000-000000000000"}
"""A resource that should not exist: an answer like NonExistentQueue proves the call passed the endpoint."""

_EC2_SESSION = re.compile(r"^i-[0-9a-f]{8,17}$")
_NOT_FOUND = re.compile(r"NotFound|NonExistent|NoSuch|DoesNotExist", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ProbeIdentity:
    """Someone this machine can act as: itself (role_arn None) or a probe role assumed with session tags."""

    name: str
    persona: Persona
    """The persona used to evaluate the policies for this identity's calls."""
    role_arn: str | None = None
    """Role to assume for the call; None means the caller's own credentials (or `keys`)."""
    session_tags: Mapping[str, str] = field(default_factory=dict)
    keys: tuple[str, str] | None = field(default=None, repr=False)
    """(access key id, secret) of a workload this machine holds keys for (a lab's personas); None otherwise."""


@dataclass(frozen=True, slots=True)
class Probe:
    """One discriminating call: who, what, on which resource, and the endpoint decision before and after."""

    probe_id: str
    identity: ProbeIdentity
    action: str
    """`service:Action`, e.g. `sqs:GetQueueAttributes`."""
    resource: str
    """ARN or `*`."""
    before: str
    """allow | explicit_deny | implicit_deny under the deployed policy."""
    after: str
    """The same under the new policy."""
    observed: str = field(default="", compare=False)
    """The observed caller (from the replay) this probe acts as; '' for a probe derived from the change alone."""

    @property
    def label(self) -> str:
        """`bastion → sqs:GetQueueAttributes on orders: allow → explicit_deny`; `◆ ` first when it acts as an
        observed caller (the mark of a persona from evidence, as in the editor's matrix)."""
        target = "" if self.resource == "*" else f" on {self.resource.rsplit(':', 1)[-1]}"
        mark = "◆ " if self.observed else ""
        return f"{mark}{self.identity.name} → {self.action}{target}: {self.before} → {self.after}"

    def watch_probe(self) -> WatchProbe:
        """The view the pure watch needs."""
        return WatchProbe(self.probe_id, self.before, self.after, self.label)

    def to_json(self) -> dict[str, Any]:
        """Stable JSON for the rollout's event stream."""
        return {
            "probe_id": self.probe_id,
            "identity": self.identity.name,
            "role_arn": self.identity.role_arn,
            "action": self.action,
            "resource": self.resource,
            "before": self.before,
            "after": self.after,
            **({"observed": self.observed} if self.observed else {}),
        }


@dataclass(frozen=True, slots=True)
class ProbeAnswer:
    """What a probe call returned, raw: success, or AWS's error code and full message."""

    ok: bool
    error_code: str | None = None
    message: str = ""
    kind: str | None = None
    """AwsError kind when the call failed before AWS answered (connection, credentials, throttled…)."""


def self_identity(
    caller_arn: str, account_id: str, *, name: str = "self", vpc_id: str | None = None, private_ip: str | None = None
) -> ProbeIdentity:
    """The console's own identity as a persona; an `i-…` session name means EC2 instance-role credentials."""
    kind, role_arn, session = "iam-user", caller_arn, "session"
    instance_id = None
    match = re.match(r"^arn:([\w-]+):sts::(\d{12}):assumed-role/([^/]+)/(.+)$", caller_arn)
    if match:
        partition, _, role, session = match.groups()
        role_arn = f"arn:{partition}:iam::{account_id}:role/{role}"
        kind = "ec2-instance" if _EC2_SESSION.match(session) else "assumed-role"
        instance_id = session if kind == "ec2-instance" else None
    persona = Persona(
        name=name,
        kind=kind,
        account_id=account_id,
        role_arn=role_arn,
        vpc_id=vpc_id,
        private_ip=private_ip,
        session_name=session,
        instance_id=instance_id,
    )
    return ProbeIdentity(name=name, persona=persona)


def workload_identities(personas: Sequence[Persona], credentials: Mapping[str, tuple[str, str]]) -> list[ProbeIdentity]:
    """Workloads whose keys this machine holds (a lab's ready-file personas): probes act as them directly."""
    return [
        ProbeIdentity(name=p.name, persona=p, keys=credentials[p.name])
        for p in personas
        if p.name in credentials and p.kind != "aws-service"
    ]


def role_identity(
    name: str,
    role_arn: str,
    *,
    kind: str = "assumed-role",
    session_tags: Mapping[str, str] | None = None,
    vpc_id: str | None = None,
    private_ip: str | None = None,
    session_name: str = "vpce-console-probe",
) -> ProbeIdentity:
    """A configured probe role; its session tags become principal tags in the request context."""
    match = re.match(r"^arn:[\w-]+:iam::(\d{12}):role/", role_arn)
    account = match.group(1) if match else "000000000000"
    tags = dict(session_tags or {})
    persona = Persona(
        name=name,
        kind=kind,
        account_id=account,
        role_arn=role_arn,
        vpc_id=vpc_id,
        private_ip=private_ip,
        tags=tags,
        session_name=session_name,
    )
    return ProbeIdentity(name=name, persona=persona, role_arn=role_arn, session_tags=tags)


def _policy_resources(*docs: str) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in ("Resource", "NotResource"):
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, str) and item not in found:
                            found.append(item)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for doc in docs:
        try:
            walk(json.loads(doc))
        except (json.JSONDecodeError, TypeError):
            continue
    return found


def candidate_resources(service: str, kind: str, hub: HubEndpoint, before: str, after: str) -> list[str]:
    """Concrete resources of `kind` named in either policy, plus one that should not exist."""
    concrete = [
        r
        for r in _policy_resources(before, after)
        if r.startswith("arn:") and f":{service}:" in r and "*" not in r and "?" not in r and "$" not in r
    ]
    if kind == "key":
        concrete = [r for r in concrete if ":key/" in r]
    synthetic = f"arn:aws:{service}:{hub.region}:{hub.account_id}:{SYNTHETIC_NAMES.get(kind, 'vpce-console-probe')}"
    return [*concrete, synthetic]


def _kind(decision: Decision) -> str:
    return decision.kind


def derive_probes(
    before: str | CompiledPolicy,
    after: str | CompiledPolicy,
    *,
    service: str,
    hub: HubEndpoint,
    identities: Sequence[ProbeIdentity],
    before_text: str = "",
    after_text: str = "",
) -> tuple[list[Probe], list[Probe]]:
    """(discriminating, all evaluated) probes for a change: every identity × cheap action × resource in scope."""
    compiled_before = before if isinstance(before, CompiledPolicy) else compile_policy(before)
    compiled_after = after if isinstance(after, CompiledPolicy) else compile_policy(after)
    texts = (
        before_text or (before if isinstance(before, str) else ""),
        after_text or (after if isinstance(after, str) else ""),
    )
    evaluated: list[Probe] = []
    for identity in identities:
        for action, resource_kind in PROBE_ACTIONS.get(service, ()):
            resources = ["*"] if resource_kind == "*" else candidate_resources(service, resource_kind, hub, *texts)
            for resource in resources:
                request = persona_request(identity.persona, hub, action, resource)
                was = _kind(evaluate(compiled_before, request))
                will = _kind(evaluate(compiled_after, request))
                probe_id = f"{identity.name}:{action}:{resource}"
                evaluated.append(Probe(probe_id, identity, action, resource, was, will))
    return [p for p in evaluated if p.before != p.after], evaluated


def outcome_of(answer: ProbeAnswer) -> tuple[str, str]:
    """(endpoint decision, detail) for one probe answer.

    Success or an error after authorization (a missing queue or key, a bad parameter) means the call passed the
    endpoint; an endpoint-policy denial says explicit or implicit; a denial by another policy type, throttling or
    a dropped connection says nothing about the endpoint (inconclusive).
    """
    if answer.ok:
        return ALLOW, "ok"
    code = answer.error_code or ""
    if answer.kind in ("connection", "credentials") or not code:
        return INCONCLUSIVE, answer.kind or "no answer"
    if is_denial_code(code):
        match = reason_for_message(code, answer.message)
        reason = match.reason if match else "other"
        if reason == "vpce-explicit":
            return EXPLICIT_DENY, reason
        if reason in ("vpce-implicit", "vpce-network-event"):
            return IMPLICIT_DENY, reason
        return INCONCLUSIVE, reason
    if (
        answer.kind in ("throttled", "unavailable")
        or "Throttl" in code
        or code in ("InternalError", "ServiceUnavailable")
    ):
        return INCONCLUSIVE, code
    if _NOT_FOUND.search(code) or answer.kind in ("not-found", "invalid"):
        return ALLOW, code
    return INCONCLUSIVE, code


def passive_phase(
    denial: Denial,
    before: CompiledPolicy,
    after: CompiledPolicy,
    hub: HubEndpoint,
    personas: Iterable[Persona] = (),
) -> Phase:
    """Whether an endpoint denial seen in CloudTrail fits the new policy (NEW), the old one (OLD), or neither.

    Network events redact the caller to its account, so a configured persona of that account (and source IP, when
    known) stands in for it; without one the account root is used, which only the account-level parts of a policy
    can judge.
    """
    if denial.reason not in ("vpce-network-event", "vpce-explicit", "vpce-implicit"):
        return Phase.INCONCLUSIVE
    if not denial.service or not denial.event_name:
        return Phase.INCONCLUSIVE
    action = f"{denial.service}:{denial.event_name}"
    candidates = [
        p
        for p in personas
        if p.account_id == denial.account_id and (denial.source_ip is None or p.private_ip in (None, denial.source_ip))
    ]
    if not candidates and denial.account_id:
        candidates = [
            Persona(
                name="account",
                kind="iam-user",
                account_id=denial.account_id,
                role_arn=f"arn:aws:iam::{denial.account_id}:root",
                private_ip=denial.source_ip,
            )
        ]
    new = old = 0
    for persona in candidates:
        request = persona_request(persona, hub, action, "*")
        was_denied = not evaluate(before, request).allowed
        now_denied = not evaluate(after, request).allowed
        if now_denied and not was_denied:
            new += 1
        elif was_denied and not now_denied:
            old += 1
    if new and not old:
        return Phase.NEW
    if old and not new:
        return Phase.OLD
    return Phase.INCONCLUSIVE


def compile_or_none(text: str) -> CompiledPolicy | None:
    """Compile a policy, or None when the engine cannot use it (lint reports why)."""
    try:
        return compile_policy(text)
    except PolicyError:
        return None
