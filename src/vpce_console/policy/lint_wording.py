"""How lint findings are worded and the small value tests the rules share (pure functions, no state)."""

from __future__ import annotations

import re

from vpce_console.data.knowledge import KeyInfo
from vpce_console.policy.endpoint_context import EndpointContext
from vpce_console.policy.lint_conditions import (
    OPERATOR_FAMILY,
    WILDCARD_OPERATORS,
    Operator,
    variable_keys,
)
from vpce_console.policy.lint_context import (
    HUB_WORDS,
    LintContext,
    _Cond,
)
from vpce_console.policy.lint_placeholders import placeholders
from vpce_console.policy.parse import Node

_ALL_OPERATOR_NAMES = list(OPERATOR_FAMILY)


def _strings_or_list(value: Node, path: tuple[str | int, ...]) -> list[tuple[Node | None, tuple[str | int, ...]]]:
    if value.kind == "string":
        return [(value, path)]
    if value.kind == "array" and value.items and all(item.kind == "string" for item in value.items):
        return [(item, (*path, index)) for index, item in enumerate(value.items)]
    return [(None, path)]


def _is_false(values: list[Node]) -> bool:
    return len(values) == 1 and values[0].value in ("false", False)


def _is_bool_text(node: Node) -> bool:
    return node.value in ("true", "false", True, False)


def _is_star(node: Node) -> bool:
    if node.kind == "string":
        return bool(node.value == "*")
    return node.kind == "array" and any(item.value == "*" for item in node.items)


def _is_star_map(node: Node) -> bool:
    aws = node.get("AWS") if node.kind == "object" else None
    return aws is not None and _is_star(aws.value)


_ACCOUNT_ROOT = re.compile(r"\A(?:[0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:root)\Z")


_IP = re.compile(r"\A[0-9a-fA-F:.]+(/[0-9]{1,3})?\Z")


_NUMERIC = re.compile(r"\A-?[0-9]+(\.[0-9]+)?\Z")


_DATE = re.compile(r"\A([0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9:]+)?)?|[0-9]+)\Z")


def _value_fits(family: str, node: Node) -> bool:
    value = node.value
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return True
    if isinstance(value, str) and placeholders(value):
        return True
    if family == "Bool":
        return value in ("true", "false", True, False) or (
            isinstance(value, str) and value.lower() in ("true", "false")
        )
    if family == "IP":
        return isinstance(value, str) and bool(_IP.match(value)) and ("." in value or ":" in value)
    if family == "Numeric":
        return (isinstance(value, int | float) and not isinstance(value, bool)) or (
            isinstance(value, str) and bool(_NUMERIC.match(value))
        )
    if family == "Date":
        return isinstance(value, int) or (isinstance(value, str) and bool(_DATE.match(value)))
    return True


def _value_hint(family: str) -> str:
    return {
        "Bool": 'Use "true" or "false".',
        "IP": 'Use CIDR notation such as "10.20.0.0/16" (IPv4) or "2001:db8::/32" (IPv6).',
        "Numeric": 'Use a number such as "3600".',
        "Date": 'Use an ISO 8601 date such as "2026-01-31T00:00:00Z" or epoch seconds.',
    }.get(family, "Fix the value.")


def _is_variable_of_type(node: Node, ktype: str, linter: LintContext) -> bool:
    value = node.value
    if not isinstance(value, str) or not (value.startswith("${") and value.endswith("}")):
        return False
    refs = variable_keys(value)
    if len(refs) != 1:
        return False
    info = linter.resolve_key(refs[0])
    return info is not None and info.type == ktype


def _a(ktype: str) -> str:
    return {"IP": "an IP-address", "ARN": "an ARN"}.get(ktype, f"a {ktype}")


def _operator_for(ktype: str) -> str:
    return {
        "String": "a String operator (StringEquals, StringLike, …)",
        "ARN": "ArnEquals/ArnLike (or a String operator)",
        "IP": "IpAddress/NotIpAddress with CIDRs",
        "Bool": 'Bool with "true"/"false"',
        "Numeric": "a Numeric operator (NumericLessThan, …)",
        "Date": "a Date operator (DateGreaterThan, …)",
        "Binary": "BinaryEquals",
    }.get(ktype, "an operator of the key's type")


def _mismatch_effect(family: str, ktype: str) -> str:
    if family == "String" and ktype == "IP":
        return "a CIDR written as a string only matches that exact text, never the addresses in the range"
    if family == "IP":
        return "the key's value is not an IP address, so it never falls in the range"
    if family == "ARN":
        return "the key's value is not an ARN, so ARN matching never succeeds"
    return "values of the wrong type never compare as intended"


def _constant_truth(op: Operator, values: list[Node], known: str | None) -> bool | None:
    """What the condition evaluates to for every request when the endpoint's value is known, else None."""
    if known is None or op.set_op or op.family not in ("String", "ARN"):
        return None
    texts = [v.value for v in values]
    if not all(isinstance(t, str) and "${" not in t and "{{" not in t for t in texts):
        return None
    import fnmatch

    ignore = op.base.endswith("IgnoreCase")
    subject = known.lower() if ignore else known
    wild = op.base in WILDCARD_OPERATORS
    hit = any(
        fnmatch.fnmatchcase(subject, t.lower() if ignore else t) if wild else subject == (t.lower() if ignore else t)
        for t in texts
    )
    return hit != op.negated


def _statement_outcome(effect: str | None, truth: bool | None) -> str:
    if truth is None:
        if effect == "Deny":
            return "this Deny either applies to every request through the endpoint or never applies"
        return "this Allow either admits every caller through the endpoint or none of them"
    if effect == "Deny":
        return "this Deny applies to every request through the endpoint" if truth else "this Deny never applies"
    return (
        "the condition restricts nothing: this Allow admits every caller the rest of the statement admits"
        if truth
        else "this Allow grants nothing"
    )


def _shared_words(name: str, endpoint: EndpointContext | None, subject: str = "the condition") -> str:
    """The consequence on a centralized endpoint: named when the endpoint is known to be shared."""
    if endpoint is not None and endpoint.shared:
        where = ", ".join(
            part
            for part in (
                f"hub VPC {endpoint.vpc_id}" if endpoint.vpc_id else "",
                f"endpoint {endpoint.endpoint_id}" if endpoint.endpoint_id else "",
            )
            if part
        )
        value = endpoint.value_of(name)
        carried = f" carries {value}" if value else " carries the same value"
        return (
            f"This endpoint is shared by spokes ({where or 'centralized'}): every spoke's request{carried}, so "
            f"{subject} cannot tell spokes apart."
        )
    return (
        f"On a centralized endpoint shared by spokes that one value is the hub's for every spoke, so {subject} "
        "cannot tell spokes apart."
    )


def _same_as_endpoint_words(name: str, endpoint: EndpointContext | None) -> str:
    """AWS's RequireSameVPC-style comparison: fine per VPC, fails for every spoke of a shared endpoint."""
    value = endpoint.value_of(name) if endpoint is not None else None
    if endpoint is not None and endpoint.shared:
        return (
            f"This endpoint is shared by spokes, so the endpoint's value is the hub's ({value or 'the hub VPC'}) "
            "and no spoke caller matches: the comparison fails for every spoke."
        )
    return (
        "That works for an endpoint in the caller's own VPC; on a centralized endpoint shared by spokes the "
        "endpoint's value is the hub's, so it fails for every spoke caller (AWS's RequireSameVPC pattern)."
    )


def hub_message(
    key: str, name: str, effect: str | None, op: Operator, values: list[Node], endpoint: EndpointContext | None
) -> str:
    """`hub-scoped-key` in words that hold on a per-VPC endpoint and on a shared one."""
    known = endpoint.value_of(name) if endpoint is not None else None
    truth = _constant_truth(op, values, known)
    what = HUB_WORDS.get(name.lower(), "a property of the endpoint")
    mine = f" ({known} here)" if known else ""
    verdict = (
        f"so {op.raw} is {'TRUE' if truth else 'FALSE'} for every request"
        if truth is not None
        else "so the condition has the same result for every caller"
    )
    return (
        f"{key} has one value per endpoint: {what}{mine}. Every request through this endpoint carries that same "
        f"value, {verdict}: {_statement_outcome(effect, truth)}. {_shared_words(name, endpoint)}"
    )


def _missing_effect(effect: str | None, cond: _Cond) -> str:
    if cond.op.true_when_missing:
        verdict = "always TRUE"
        result = "this Deny denies every request" if effect == "Deny" else "this Allow matches every caller"
    else:
        verdict = "always FALSE"
        result = "this Deny never fires" if effect == "Deny" else "this Allow never grants anything"
    return f"With {cond.op.raw} a missing key makes the condition {verdict}, so {result}."


def _scoping_key(info: KeyInfo) -> str:
    if info.scope_group == "ec2-role-credential":
        return "ec2:SourceInstanceARN"
    if info.prefix:
        return info.name + "<tag-key>"
    return info.name


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
