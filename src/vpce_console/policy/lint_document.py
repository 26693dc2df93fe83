"""Rules about an endpoint policy as a whole: no Allow at all (`no-allow`), nothing the endpoint's service can use
(`no-effective-allow`), unresolved template placeholders, and which service the actions imply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vpce_console.policy.findings import Related
from vpce_console.policy.lint_conditions import has_wildcard

if TYPE_CHECKING:
    from vpce_console.policy.lint_context import LintContext, _Statement
    from vpce_console.policy.parse import Node


def check_document(linter: LintContext, root: Node) -> None:
    """Document-level findings, emitted after every statement has been seen."""
    if linter.placeholders:
        names = list(linter.placeholders)
        node, path = linter.placeholders[names[0]]
        shown = ", ".join(names[:4]) + (", …" if len(names) > 4 else "")
        many = len(names) > 1
        linter.emit(
            "unresolved-placeholder",
            node,
            path,
            f"{shown} {'are' if many else 'is'} not {'IAM policy variables' if many else 'an IAM policy variable'} "
            "(those name a condition key, like ${aws:username}): "
            f"{'they are' if many else 'it is a'} template or documentation placeholder{'s' if many else ''} "
            "(CloudFormation, Terraform, Jinja, <…>), filled in when the template is rendered; if "
            f"{'they' if many else 'it'} reached AWS as is, {'they' if many else 'it'} would be compared as literal "
            "text. Checks that depend on these values were skipped"
            + (f" ({len(names)} placeholders, the first here)." if many else "."),
            "Lint the rendered policy too (the Terraform plan JSON, or the deployed policy via "
            "describe-vpc-endpoints) to check the real values.",
        )
    if not linter.vpce or not linter.statements or linter.bad_effect:
        return
    allows = [st for st in linter.statements if st.effect == "Allow"]
    if not allows:
        linter.emit(
            "no-allow",
            root,
            (),
            f"The policy has {len(linter.statements)} statement{'s' if len(linter.statements) != 1 else ''} and no "
            "Allow: an endpoint policy only lets through what an Allow matches, so every request through the "
            "endpoint is implicitly denied.",
            'Add an Allow statement (e.g. "Effect": "Allow", "Principal": "*", the actions your workloads use, '
            "narrowed with aws:PrincipalOrgID), and keep the Deny statements as guardrails.",
        )
        return
    if linter.prefixes is None:
        return
    if any(_may_match_service(linter, st) for st in allows):
        return
    at = allows[0]
    others = [f for f in linter.findings if f.code == "action-other-service"]
    linter.findings[:] = [f for f in linter.findings if f.code != "action-other-service"]
    related = tuple(Related(f.code, f.line, f.column, f.path, f.message) for f in others)
    linter.emit(
        "no-effective-allow",
        at.node,
        at.path,
        f"This is the policy of {_article(linter.service_label or '')} {linter.service_label} endpoint (IAM prefix "
        f"{', '.join(sorted(linter.prefixes))}), but no Allow statement names an action of that service "
        f"(they name {', '.join(sorted({s for st in allows for s in st.services})) or 'other services'}): every "
        "request through the endpoint is implicitly denied.",
        "Allow the actions of the endpoint's own service; actions of other services never pass through it. "
        "If the service is wrong, pass the right one with --service.",
        related=related,
    )


def _may_match_service(linter: LintContext, st: _Statement) -> bool:
    prefixes = linter.prefixes or frozenset()
    if st.any_service or st.services & prefixes:
        return True
    for node, _ in st.action_items or ():
        prefix = str(node.value).partition(":")[0].lower()
        if has_wildcard(prefix) or linter.knowledge.service(prefix) is None:
            return True  # a pattern over prefixes, or a typo that has its own finding
    return False


def inferred_service(linter: LintContext) -> str | None:
    """The one service every action of the policy belongs to, or None (any `*`, NotAction, mixed, placeholders)."""
    prefixes: set[str] = set()
    for st in linter.statements:
        if st.action_items is None:
            return None
        for node, _ in st.action_items:
            prefix, sep, _name = str(node.value).partition(":")
            if not sep or has_wildcard(prefix) or "{" in prefix:
                return None
            prefixes.add(prefix.lower())
    if len(prefixes) != 1:
        return None
    (prefix,) = prefixes
    return prefix if linter.knowledge.service(prefix) is not None else None


def _article(word: str) -> str:
    from vpce_console.policy.lint_resources import _an

    return _an(word)
