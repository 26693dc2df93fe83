"""Condition-operator grammar shared by the linter: operator families, negation, set and IfExists parts."""

from __future__ import annotations

import re
from dataclasses import dataclass

OPERATOR_FAMILY: dict[str, str] = {
    "StringEquals": "String",
    "StringNotEquals": "String",
    "StringEqualsIgnoreCase": "String",
    "StringNotEqualsIgnoreCase": "String",
    "StringLike": "String",
    "StringNotLike": "String",
    "NumericEquals": "Numeric",
    "NumericNotEquals": "Numeric",
    "NumericLessThan": "Numeric",
    "NumericLessThanEquals": "Numeric",
    "NumericGreaterThan": "Numeric",
    "NumericGreaterThanEquals": "Numeric",
    "DateEquals": "Date",
    "DateNotEquals": "Date",
    "DateLessThan": "Date",
    "DateLessThanEquals": "Date",
    "DateGreaterThan": "Date",
    "DateGreaterThanEquals": "Date",
    "Bool": "Bool",
    "BinaryEquals": "Binary",
    "IpAddress": "IP",
    "NotIpAddress": "IP",
    "ArnEquals": "ARN",
    "ArnLike": "ARN",
    "ArnNotEquals": "ARN",
    "ArnNotLike": "ARN",
    "Null": "Null",
}
"""Every base condition operator (IAM-OPS) and the value family it compares."""

NEGATED = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "DateNotEquals",
        "NotIpAddress",
        "ArnNotEquals",
        "ArnNotLike",
    }
)
"""Operators that are true when the key is missing (facts §2 E1/E2)."""

WILDCARD_OPERATORS = frozenset({"StringLike", "StringNotLike", "ArnLike", "ArnNotLike", "ArnEquals", "ArnNotEquals"})
"""Operators for which `*` and `?` in a value are wildcards (ArnEquals behaves like ArnLike, E11)."""

_BY_LOWER = {name.lower(): name for name in OPERATOR_FAMILY}
_OPERATOR = re.compile(r"\A(?:(ForAnyValue|ForAllValues):)?(.+?)(IfExists)?\Z", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Operator:
    """A parsed condition operator such as `ForAnyValue:StringLikeIfExists`."""

    raw: str
    """The text as written."""
    base: str
    """Canonical base operator, e.g. `StringLike`."""
    set_op: str | None
    """`ForAnyValue`, `ForAllValues` or None."""
    if_exists: bool
    """True for the `…IfExists` form."""

    @property
    def family(self) -> str:
        """Value family: String, Numeric, Date, Bool, Binary, IP, ARN or Null."""
        return OPERATOR_FAMILY[self.base]

    @property
    def negated(self) -> bool:
        """True for operators that match when the key is missing (StringNotEquals, NotIpAddress, …)."""
        return self.base in NEGATED

    @property
    def true_when_missing(self) -> bool:
        """What the condition evaluates to when the key is absent (facts §2 E1, E3, E5, E6)."""
        if self.base == "Null":
            return False  # depends on the value; callers handle Null separately
        if self.set_op == "ForAnyValue":
            return self.if_exists
        if self.set_op == "ForAllValues":
            return True
        return self.if_exists or self.negated


def parse_operator(raw: str) -> Operator | None:
    """Parse an operator name (case-insensitive), or None if it is not an IAM condition operator (cached)."""
    try:
        return _parsed[raw]
    except KeyError:
        pass
    op = _parse_operator(raw)
    if len(_parsed) < 4096:
        _parsed[raw] = op
    return op


_parsed: dict[str, Operator | None] = {}


def _parse_operator(raw: str) -> Operator | None:
    m = _OPERATOR.match(raw)
    if m is None:
        return None
    set_op, base, if_exists = m.group(1), m.group(2), m.group(3)
    canonical = _BY_LOWER.get(base.lower())
    if canonical is None:
        # `…IfExists` is optional; a base that itself ends in the letters is handled by the lazy match above.
        canonical = _BY_LOWER.get((base + (if_exists or "")).lower())
        if canonical is None:
            return None
        if_exists = None
    if canonical == "Null" and if_exists:
        return None
    if set_op:
        set_op = "ForAnyValue" if set_op.lower() == "foranyvalue" else "ForAllValues"
    return Operator(raw, canonical, set_op, bool(if_exists))


VARIABLE = re.compile(r"\$\{([^}]*)\}")
"""A policy variable such as `${aws:PrincipalTag/team, 'default'}`."""


def variable_keys(value: str) -> list[str]:
    """Key names referenced by policy variables in `value` (defaults stripped; `${*}`-style literals skipped)."""
    out: list[str] = []
    for m in VARIABLE.finditer(value):
        name = m.group(1).split(",", 1)[0].strip()
        if name and name not in ("*", "?", "$"):
            out.append(name)
    return out


def literal_runs_ok(value: str, minimum: int = 6) -> bool:
    """True when every wildcard has at least `minimum` consecutive literal characters before or after it (E18)."""
    plain = VARIABLE.sub("xxxxxx", value)  # a variable is substituted by a real value, not a wildcard
    runs = re.split(r"([*?])", plain)
    # runs alternates literal, wildcard, literal, …
    for i in range(1, len(runs), 2):
        before, after = runs[i - 1], runs[i + 1]
        if len(before) < minimum and len(after) < minimum:
            return False
    return True


def has_wildcard(value: str) -> bool:
    """True when `value` has `*` or `?` outside policy variables."""
    if "*" not in value and "?" not in value:
        return False
    plain = VARIABLE.sub("", value)
    return "*" in plain or "?" in plain
