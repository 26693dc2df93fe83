"""What evaluating an endpoint policy takes and gives: the request, the decision and the per-statement traces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

ALLOW = "allow"


EXPLICIT_DENY = "explicit_deny"


IMPLICIT_DENY = "implicit_deny"


class PolicyError(ValueError):
    """The document cannot be evaluated at all (not JSON, wrong structure, unknown operator); lint says why."""


@dataclass(frozen=True, slots=True)
class Request:
    """One call as the endpoint policy sees it."""

    principal: str
    """Caller ARN, e.g. `arn:aws:sts::111122223333:assumed-role/app/i-0abc`, a user ARN, an account root ARN,
    a service principal such as `lambda.amazonaws.com`, or `anonymous`."""
    action: str
    """`service:Action`, e.g. `sqs:GetQueueAttributes` (matched case-insensitively)."""
    resource: str
    """Resource ARN or `*` (matched case-sensitively)."""
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    """Condition keys to values; key names are case-insensitive (E9), a list is a multivalued key."""


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    """A statement whose Principal, Action, Resource and Condition all matched the request."""

    index: int
    """Position in the Statement list, from 0."""
    sid: str | None
    effect: str
    """`Allow` or `Deny`."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The endpoint policy's answer for one request."""

    kind: str
    """`allow`, `explicit_deny` or `implicit_deny`."""
    matched: tuple[MatchedStatement, ...] = ()
    """Every matching statement in document order (Allow and Deny), so a reader sees what decided."""

    @property
    def allowed(self) -> bool:
        """True only for `allow`; both deny kinds block the request."""
        return self.kind == ALLOW


@dataclass(frozen=True, slots=True)
class ConditionTrace:
    """One condition (operator, key) and what it evaluated to for a request."""

    operator: str
    key: str
    result: bool
    key_present: bool
    """Whether the request context had the key: a missing key decides most outcomes (E1–E3, E5, E6)."""


@dataclass(frozen=True, slots=True)
class StatementTrace:
    """Why one statement did or did not match a request: each element's result."""

    index: int
    sid: str | None
    effect: str
    applies: bool
    action: bool
    principal: bool
    resource: bool
    conditions: tuple[ConditionTrace, ...]
