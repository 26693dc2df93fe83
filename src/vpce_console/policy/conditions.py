"""Condition operators compiled to small closures over a normalised request context (facts.md §2, E1–E15).

Each condition (one operator, one key, its values) becomes `check(ctx) -> bool`. The positive form of the
operator answers "does one request value match any policy value" (values OR, E8); negated operators are the
negation of that (values AND, E8); the set prefixes apply the single-value test per request value (E5/E6).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from vpce_console.policy.matching import (
    Context,
    Template,
    Token,
    arn_component_sources,
    compile_source,
    glob_source,
    parse_template,
    render_literal,
    template_pattern,
    template_tokens,
)

Check = Callable[[Context], bool]
ValueTest = Callable[[str, Context], bool]
"""Does one request value match any of the policy values (the positive sense of the operator)?"""


class ConditionError(ValueError):
    """A condition block the evaluator cannot use (unknown operator, wrong value types)."""


# Negated operator -> its positive partner. E1/E2: a missing key makes these true.
_NEGATED: dict[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}

_POSITIVE = (
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "NumericEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "ArnEquals",
    "ArnLike",
)

BASE_OPERATORS: frozenset[str] = frozenset((*_POSITIVE, *_NEGATED, "Null"))
"""Every operator name without prefix or `IfExists` suffix, in AWS casing."""

_BY_LOWER = {name.lower(): name for name in BASE_OPERATORS}

# Operators whose values may hold policy variables (IAM-VARS: string and ARN operators; E13: Bool).
_VARIABLE_FAMILIES = ("String", "Arn", "Bool")


@dataclass(frozen=True, slots=True)
class Operator:
    """A parsed operator name such as `ForAnyValue:StringNotLikeIfExists`."""

    name: str
    """As written in the policy."""
    base: str
    """AWS casing of the base operator, e.g. `StringNotLike`."""
    set_prefix: str | None
    """`ForAnyValue`, `ForAllValues` or None."""
    if_exists: bool
    negated: bool


def parse_operator(name: str) -> Operator:
    """Split an operator name into set prefix, base operator and IfExists; unknown names raise ConditionError."""
    rest = name
    prefix: str | None = None
    lowered = name.lower()
    if lowered.startswith("foranyvalue:"):
        prefix, rest = "ForAnyValue", name[len("ForAnyValue:") :]
    elif lowered.startswith("forallvalues:"):
        prefix, rest = "ForAllValues", name[len("ForAllValues:") :]
    if_exists = False
    base = _BY_LOWER.get(rest.lower())
    if base is None and rest.lower().endswith("ifexists"):
        base = _BY_LOWER.get(rest.lower()[: -len("ifexists")])
        if_exists = True
    if base is None:
        raise ConditionError(f"unknown condition operator {name!r}")
    if base == "Null" and (if_exists or prefix):
        # E4: Null stands alone; AWS has no NullIfExists and no set form of it.
        raise ConditionError(f"operator {name!r} is not valid: Null takes no IfExists suffix or set prefix")
    return Operator(name, base, prefix, if_exists, base in _NEGATED)


def policy_values(raw: Any, where: str) -> list[str]:
    """The values of one condition key as strings: a scalar or a list of scalars (JSON true -> "true")."""
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str):
            out.append(item)
        elif isinstance(item, int):
            out.append(str(item))
        elif isinstance(item, float):
            out.append(repr(item) if math.isfinite(item) else str(item))
        else:
            raise ConditionError(f"{where}: condition values must be strings, numbers or booleans")
    return out


# ---------------------------------------------------------------- value parsers


def _parse_number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@lru_cache(maxsize=4096)
def parse_date(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 date/time or an epoch number (E13: no wildcards), else None."""
    stripped = text.strip()
    if not stripped:
        return None
    if re.fullmatch(r"-?\d+(\.\d+)?", stripped):
        number = float(stripped)
        return number if math.isfinite(number) else None
    candidate = stripped[:-1] + "+00:00" if stripped[-1:] in ("Z", "z") else stripped
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


@lru_cache(maxsize=4096)
def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _binary(text: str) -> bytes:
    """BinaryEquals compares bytes: decode base64 when it is valid, else compare the text itself."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- positive value tests


def _string_test(base: str, templates: list[Template]) -> ValueTest:
    """StringEquals / StringEqualsIgnoreCase / StringLike and the ARN operators (E9, E10, E11, E15)."""
    static = [t for t in templates if not t.has_variables]
    dynamic = [t for t in templates if t.has_variables]
    if base == "StringEquals":
        literals = frozenset(t.text for t in static)
        if not dynamic:
            return lambda value, ctx: value in literals

        def equals(value: str, ctx: Context) -> bool:
            if value in literals:
                return True
            return any(render_literal(t, ctx) == value for t in dynamic)

        return equals
    if base == "StringEqualsIgnoreCase":
        folded = frozenset(t.text.casefold() for t in static)

        def equals_ic(value: str, ctx: Context) -> bool:
            v = value.casefold()
            if v in folded:
                return True
            for t in dynamic:
                rendered = render_literal(t, ctx)
                if rendered is not None and rendered.casefold() == v:
                    return True
            return False

        return equals_ic
    if base in ("ArnEquals", "ArnLike"):
        return _arn_test(static, dynamic)
    sources = [glob_source(t.text) for t in static]
    combined = compile_source("|".join(f"(?:{s})" for s in dict.fromkeys(sources))) if static else None
    matcher = combined.fullmatch if combined is not None else None

    def like(value: str, ctx: Context) -> bool:
        if matcher is not None and matcher(value) is not None:
            return True
        for t in dynamic:
            pattern = template_pattern(t, ctx)
            if pattern is not None and pattern.fullmatch(value) is not None:
                return True
        return False

    return like


def _arn_components(tokens: list[Token]) -> tuple[re.Pattern[str], ...] | None:
    sources = arn_component_sources(tokens)
    return None if sources is None else tuple(compile_source(source) for source in sources)


def _arn_test(static: list[Template], dynamic: list[Template]) -> ValueTest:
    """ArnEquals/ArnLike (identical, E11): the six colon-separated components are matched one by one."""
    compiled = [c for c in (_arn_components([(ch, True) for ch in t.text]) for t in static) if c is not None]

    def test(value: str, ctx: Context) -> bool:
        parts = value.split(":", 5)
        if len(parts) != 6:
            return False
        for components in compiled:
            if all(pattern.fullmatch(part) is not None for pattern, part in zip(components, parts, strict=True)):
                return True
        for template in dynamic:
            tokens = template_tokens(template, ctx)
            components_or_none = None if tokens is None else _arn_components(tokens)
            if components_or_none is not None and all(
                pattern.fullmatch(part) is not None for pattern, part in zip(components_or_none, parts, strict=True)
            ):
                return True
        return False

    return test


def _numeric_test(base: str, values: list[str]) -> ValueTest:
    numbers = [n for n in (_parse_number(v) for v in values) if n is not None]
    compare = _COMPARE[base.removeprefix("Numeric")]

    def test(value: str, ctx: Context) -> bool:
        number = _parse_number(value)
        return number is not None and any(compare(number, p) for p in numbers)

    return test


def _date_test(base: str, values: list[str]) -> ValueTest:
    moments = [m for m in (parse_date(v) for v in values) if m is not None]
    compare = _COMPARE[base.removeprefix("Date")]

    def test(value: str, ctx: Context) -> bool:
        moment = parse_date(value)
        return moment is not None and any(compare(moment, p) for p in moments)

    return test


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}


def _bool_test(templates: list[Template]) -> ValueTest:
    """Bool compares to "true"/"false" without regard to case; variables are allowed (E13)."""
    static = frozenset(t.text.lower() for t in templates if not t.has_variables)
    dynamic = [t for t in templates if t.has_variables]

    def test(value: str, ctx: Context) -> bool:
        v = value.lower()
        if v in static:
            return True
        for t in dynamic:
            rendered = render_literal(t, ctx)
            if rendered is not None and rendered.lower() == v:
                return True
        return False

    return test


def _binary_test(values: list[str]) -> ValueTest:
    wanted = frozenset(_binary(v) for v in values)
    return lambda value, ctx: _binary(value) in wanted


def _ip_test(values: list[str]) -> ValueTest:
    """IpAddress: IPv4 and IPv6 CIDRs (a bare address is a /32 or /128), E12."""
    networks = [n for n in (_parse_network(v) for v in values) if n is not None]
    v4 = [n for n in networks if n.version == 4]
    v6 = [n for n in networks if n.version == 6]

    def test(value: str, ctx: Context) -> bool:
        address = _parse_ip(value)
        if address is None:
            return False
        pool = v4 if address.version == 4 else v6
        return any(address in net for net in pool)

    return test


def _value_test(base: str, values: list[str], *, variables: bool) -> ValueTest:
    family_allows_vars = variables and base.startswith(_VARIABLE_FAMILIES)
    if base.startswith(("String", "Arn")):
        templates = [parse_template(v, variables=family_allows_vars) for v in values]
        return _string_test(base, templates)
    if base.startswith("Numeric"):
        return _numeric_test(base, values)
    if base.startswith("Date"):
        return _date_test(base, values)
    if base == "Bool":
        return _bool_test([parse_template(v, variables=family_allows_vars) for v in values])
    if base == "BinaryEquals":
        return _binary_test(values)
    if base == "IpAddress":
        return _ip_test(values)
    raise ConditionError(f"unsupported operator {base}")  # pragma: no cover - BASE_OPERATORS is exhaustive


# ---------------------------------------------------------------- whole conditions


def _null_check(key: str, values: list[str]) -> Check:
    """E4: `"true"` matches a missing key, `"false"` a present one; several values are ORed (E8)."""
    wants = {v.strip().lower() for v in values}
    want_missing = "true" in wants
    want_present = "false" in wants

    def check(ctx: Context) -> bool:
        present = key in ctx
        return (want_present and present) or (want_missing and not present)

    return check


def compile_condition(operator_name: str, key: str, raw_values: Any, *, variables: bool, where: str) -> Check:
    """Compile one `operator: {key: values}` entry into a check over a normalised context."""
    op = parse_operator(operator_name)
    values = policy_values(raw_values, where)
    lkey = key.lower()  # E9: key names (including the tag-key part) are case-insensitive
    if op.base == "Null":
        return _null_check(lkey, values)
    positive = _NEGATED.get(op.base, op.base)
    test = _value_test(positive, values, variables=variables)
    negated = op.negated
    if_exists = op.if_exists

    if op.set_prefix is None:

        def single(ctx: Context) -> bool:
            request_values = ctx.get(lkey)
            if request_values is None:
                # E3: IfExists -> true; E1/E2: positive -> false, negated -> true.
                return True if if_exists else negated
            hit = any(test(v, ctx) for v in request_values)
            return not hit if negated else hit

        return single

    if op.set_prefix == "ForAnyValue":

        def for_any(ctx: Context) -> bool:
            request_values = ctx.get(lkey)
            if request_values is None:
                return if_exists  # E6: no key -> false (E3 makes IfExists true)
            if negated:
                return any(not test(v, ctx) for v in request_values)
            return any(test(v, ctx) for v in request_values)

        return for_any

    def for_all(ctx: Context) -> bool:
        request_values = ctx.get(lkey)
        if request_values is None:
            return True  # E5: vacuous truth when the key is missing
        if negated:
            return all(not test(v, ctx) for v in request_values)
        return all(test(v, ctx) for v in request_values)

    return for_all
