"""`action-resource-mismatch`: actions and resource ARNs that can never meet (per the IAM data's resource types).

An action without resource-level permissions (`kms:ListKeys`) only ever matches `"Resource": "*"`; an ARN
whose type none of the statement's actions acts on (`s3:GetObject` on a bucket ARN) never matches a request.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vpce_console.policy.lint_conditions import has_wildcard
from vpce_console.policy.lint_placeholders import has_iam_variable, placeholders

if TYPE_CHECKING:
    from vpce_console.policy.lint_context import LintContext, _Statement
    from vpce_console.policy.parse import Node

_SAR = "the Service Authorization Reference (Resource types column)"


def _matches_everything(value: object) -> bool:
    """`*`, or an ARN whose resource part is only a wildcard (`arn:aws:s3:::*`, `arn:aws:kms:*:*:*`): AWS's own
    examples allow "*"-only actions such as s3:ListAllMyBuckets with `arn:aws:s3:::*`, so these are not flagged."""
    if not isinstance(value, str):
        return True
    if value == "*":
        return True
    parts = value.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and parts[5] in ("*", "*/*")


def _exact_action(text: str) -> tuple[str, str] | None:
    prefix, sep, name = text.partition(":")
    if not sep or not prefix or not name or has_wildcard(text):
        return None
    return prefix.lower(), name


def check_star_only_actions(linter: LintContext, statements: list[_Statement]) -> None:
    """An action that takes only `Resource: "*"` and appears only in Allow statements listing specific ARNs."""
    star_ok: set[str] = set()
    specific: dict[str, tuple[Node, tuple[str | int, ...]]] = {}
    for st in statements:
        if st.effect != "Allow" or st.resource_items is None or st.action_items is None:
            continue
        star = any(_matches_everything(node.value) for node, _ in st.resource_items)
        for node, path in st.action_items:
            parsed = _exact_action(str(node.value))
            if parsed is None:
                continue
            found = linter.knowledge.action_resource_types(*parsed)
            if found is None or found[0] or not found[1]:
                continue  # unknown, or the action has resource-level permissions
            key = f"{parsed[0]}:{parsed[1].lower()}"
            if star:
                star_ok.add(key)
            else:
                specific.setdefault(key, (node, path))
    for key, (node, path) in specific.items():
        if key in star_ok:
            continue
        linter.emit(
            "action-resource-mismatch",
            node,
            path,
            f'{node.value} has no resource-level permissions: it only matches "Resource": "*", but every statement '
            "that allows it lists specific ARNs, so it is never allowed by this policy.",
            f'Allow it in a statement with "Resource": "*" (narrow it with conditions), as {_SAR} says.',
        )


_FIT_CACHE: dict[tuple[int, tuple[str, ...]], tuple[tuple[re.Pattern[str], ...], frozenset[str]] | None] = {}


def _fit_patterns(
    linter: LintContext, actions: tuple[str, ...]
) -> tuple[tuple[re.Pattern[str], ...], frozenset[str]] | None:
    """ARN patterns (and their services) the actions act on; None when they cannot be judged (cached)."""
    cache_key = (id(linter.knowledge), actions)
    if cache_key in _FIT_CACHE:
        return _FIT_CACHE[cache_key]
    result = _compute_fit(linter, actions)
    if len(_FIT_CACHE) < 4096:
        _FIT_CACHE[cache_key] = result
    return result


def _compute_fit(
    linter: LintContext, actions: tuple[str, ...]
) -> tuple[tuple[re.Pattern[str], ...], frozenset[str]] | None:
    types_by_service: dict[str, set[str]] = {}
    for text in actions:
        if text == "*" or _opaque(text):
            return None
        prefix, sep, name = text.partition(":")
        if not sep or has_wildcard(prefix):
            return None
        found = linter.knowledge.action_resource_types(prefix, name)
        if found is None:
            return None  # an unknown action has its own finding; do not guess around it
        types_by_service.setdefault(prefix.lower(), set()).update(found[0])
    if not any(types_by_service.values()):
        return None  # only star-only actions: check_star_only_actions speaks for them
    patterns: list[re.Pattern[str]] = []
    for prefix, types in types_by_service.items():
        known = linter.knowledge.resource_types(prefix)
        patterns += [known[t] for t in sorted(types) if t in known]
    services = frozenset(p.pattern.split(":", 3)[2] for p in patterns if p.pattern.count(":") >= 3)
    return tuple(patterns), services


def check_resource_fit(linter: LintContext, st: _Statement) -> None:
    """A Resource ARN whose service and type fit none of the statement's actions never matches a request."""
    if st.action_items is None or st.resource_items is None:
        return
    if all(node.value == "*" for node, _ in st.resource_items):
        return
    fit = _fit_patterns(linter, tuple(str(node.value) for node, _ in st.action_items))
    if fit is None:
        return
    patterns, services = fit
    bad: list[tuple[Node, tuple[str | int, ...], str]] = []
    for node, path in st.resource_items:
        value = node.value
        if not isinstance(value, str) or not value.startswith("arn:") or _opaque(value):
            continue
        parts = value.split(":", 5)
        if len(parts) < 6 or has_wildcard(parts[2]):
            continue
        lower = value.lower()
        if has_wildcard(value):
            if parts[2].lower() in services or not services:
                continue
        elif any(p.match(lower) for p in patterns):
            continue
        bad.append((node, path, _resource_kind(linter, parts[2].lower(), lower)))
    if not bad:
        return
    node, path, kind = bad[0]
    actions = ", ".join(str(n.value) for n, _ in st.action_items[:4]) + (" …" if len(st.action_items) > 4 else "")
    more = len(bad) - 1
    also = f" (and {more} more ARN{'s' if more != 1 else ''} of this Resource list: {_few([b[0] for b in bad[1:]])})"
    linter.emit(
        "action-resource-mismatch",
        node,
        path,
        f"{node.value} is {kind}{also if more else ''}, but none of this statement's actions ({actions}) acts on "
        f"that kind of resource, so {'these entries never match' if more else 'this entry never matches'} a "
        + (
            f"request and nothing else in Resource does: this {_grants(st.effect)}."
            if len(bad) == len(st.resource_items)
            else "request (the other Resource entries still do; if an action on it was meant to be allowed, that "
            "action is missing)."
        ),
        f"Use the ARN type the actions take (e.g. arn:aws:s3:::bucket/* for S3 objects, the bucket ARN for "
        f"ListBucket); see {_SAR}.",
    )


def _grants(effect: str | None) -> str:
    return "Deny never applies" if effect == "Deny" else "Allow grants nothing"


def _few(nodes: list[Node]) -> str:
    shown = ", ".join(str(n.value) for n in nodes[:2])
    return shown + (", …" if len(nodes) > 2 else "")


def _resource_kind(linter: LintContext, service: str, arn: str) -> str:
    for name, pattern in linter.knowledge.resource_types(service).items():
        if pattern.match(arn):
            return f"{_an(service)} {service} {name} ARN"
    return f"{_an(service)} {service} ARN"


def _opaque(value: str) -> bool:
    return has_iam_variable(value) or bool(placeholders(value))


def _an(word: str) -> str:
    """`a`/`an` for a service name as people say it: "an s3", "an sqs", "an ecr.api", "a kms", "a logs"."""
    head = word.replace("-", ".").split(".", 1)[0].lower()
    if head[:1] in ("a", "e", "i", "o"):
        return "an"
    spelled = not any(c in "aeiouy" for c in head)  # s3, sqs, sns, ssm, sts, rds: said letter by letter
    return "an" if spelled and head[:1] in "fhlmnrsx" else "a"
