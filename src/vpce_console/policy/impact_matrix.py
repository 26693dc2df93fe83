"""Impact of a policy change: every persona × action × resource, decided by the deployed and the draft policy.

This is the review step before a rollout: it shows who loses access (allow -> deny, "revoked") and who gains
it (deny -> allow, "granted"), using the request context each persona really sends through the hub endpoint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vpce_console.policy.evaluator import CompiledPolicy, Decision, compile_policy
from vpce_console.policy.personas import HubEndpoint, Persona, persona_request

PolicyInput = CompiledPolicy | str | Mapping[str, Any]

DEFAULT_ACTIONS = (
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "kms:Decrypt",
    "secretsmanager:GetSecretValue",
    "logs:PutLogEvents",
    "sts:GetCallerIdentity",
)
"""Actions checked when neither policy names one literally: common calls through shared endpoints."""


@dataclass(frozen=True, slots=True)
class ImpactCell:
    """One persona calling one action on one resource, decided by both policies."""

    persona: Persona
    action: str
    resource: str
    before: Decision
    """Decision of the deployed policy."""
    after: Decision
    """Decision of the draft policy."""
    changed: bool
    """True when access flips (allowed before and not after, or the other way round)."""
    through_endpoint: bool = True
    """False when the persona's VPC is not associated with the service's zone: its calls take NAT, and the
    endpoint policy can neither allow nor deny them (never counted as changed)."""

    @property
    def direction(self) -> str | None:
        """`revoked` (allow -> deny), `granted` (deny -> allow) or None when access is unchanged."""
        if not self.changed:
            return None
        return "revoked" if self.before.allowed else "granted"

    @property
    def kind_changed(self) -> bool:
        """True when the decision kind differs, e.g. implicit -> explicit deny (access itself unchanged)."""
        return self.through_endpoint and self.before.kind != self.after.kind


@dataclass(frozen=True, slots=True)
class ImpactResult:
    """The whole matrix, in persona, action, resource order."""

    cells: tuple[ImpactCell, ...]
    personas: tuple[Persona, ...]
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    @property
    def changed_cells(self) -> tuple[ImpactCell, ...]:
        """Cells whose access flips between deployed and draft."""
        return tuple(cell for cell in self.cells if cell.changed)

    @property
    def revoked(self) -> tuple[ImpactCell, ...]:
        """Cells that lose access with the draft: the ones that page someone after a rollout."""
        return tuple(cell for cell in self.cells if cell.direction == "revoked")

    @property
    def granted(self) -> tuple[ImpactCell, ...]:
        """Cells that gain access with the draft."""
        return tuple(cell for cell in self.cells if cell.direction == "granted")


_ARN_ACCOUNT = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:(\d{12}):")


def resource_account(resource: str) -> str | None:
    """The account field of a resource ARN (aws:ResourceAccount); None for `*` and account-less ARNs (S3)."""
    match = _ARN_ACCOUNT.match(resource)
    return match.group(1) if match else None


def impact(
    deployed: PolicyInput,
    draft: PolicyInput,
    personas: Sequence[Persona],
    actions: Sequence[str],
    resources: Sequence[str],
    hub: HubEndpoint,
    *,
    through_endpoint: bool = True,
    now: datetime | None = None,
    nat_personas: Collection[str] = (),
) -> ImpactResult:
    """Decide every persona × action × resource with both policies; raises PolicyError for an unusable one.

    Personas named in `nat_personas` reach the service through NAT, not the endpoint: their cells never change.
    """
    before_policy = deployed if isinstance(deployed, CompiledPolicy) else compile_policy(deployed)
    after_policy = draft if isinstance(draft, CompiledPolicy) else compile_policy(draft)
    cells: list[ImpactCell] = []
    for persona in personas:
        for action in actions:
            for resource in resources:
                request = persona_request(
                    persona,
                    hub,
                    action,
                    resource,
                    through_endpoint=through_endpoint,
                    resource_account=resource_account(resource),
                    now=now,
                )
                before = before_policy.evaluate(request)
                after = after_policy.evaluate(request)
                via_endpoint = persona.name not in nat_personas
                changed = via_endpoint and before.allowed != after.allowed
                cells.append(ImpactCell(persona, action, resource, before, after, changed, via_endpoint))
    return ImpactResult(tuple(cells), tuple(personas), tuple(actions), tuple(resources))


def _literal_entries(doc: Any, element: str) -> Iterable[str]:
    statements = doc.get("Statement") if isinstance(doc, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        return
    for statement in statements:
        if not isinstance(statement, Mapping):
            continue
        value = statement.get(element)
        for entry in value if isinstance(value, list) else [value]:
            if isinstance(entry, str) and not any(ch in entry for ch in "*?$"):
                yield entry


def named_in_policies(texts: Iterable[str], element: str) -> tuple[str, ...]:
    """Literal (wildcard-free) Action or Resource entries named by any of the policies, first seen first."""
    seen: dict[str, None] = {}
    for text in texts:
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            continue
        for entry in _literal_entries(doc, element):
            seen.setdefault(entry, None)
    return tuple(seen)
