"""Tell IAM policy variables (`${aws:username}`) from template placeholders left unresolved (`${ORG_ID}`, `{{org}}`).

A CloudFormation, Terraform or Jinja placeholder that reaches AWS is compared as literal text; linting it as
an IAM value gives misleading errors (a `variables-need-version`, a malformed ARN), so the linter reports it
once as `unresolved-placeholder` and skips the checks that depend on the value.
"""

from __future__ import annotations

import re

_DOLLAR = re.compile(r"\$\{([^}]*)\}")
_BRACES = re.compile(r"\{\{[^{}]*\}\}|%\{[^}]*\}|<[A-Za-z][A-Za-z0-9_ .-]*>|\$[A-Z][A-Z0-9_]+\b")
"""Jinja/Handlebars `{{x}}`, Terraform `%{…}`, documentation `<account-id>`, shell `$ORG_ID`."""
_IAM_VARIABLE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]*:[A-Za-z0-9][^:]*\Z")
"""`aws:username`, `aws:PrincipalTag/team`, `saml:sub`, `www.amazon.com:user_id`: one colon after a prefix."""
_ESCAPES = frozenset({"*", "?", "$"})
"""`${*}`, `${?}`, `${$}` are IAM's escapes for literal `*`, `?` and `$`."""


def is_iam_variable(inner: str) -> bool:
    """True when `${inner}` is an IAM policy variable (a condition key, optionally with a default value)."""
    name = inner.split(",", 1)[0].strip()
    return name in _ESCAPES or bool(_IAM_VARIABLE.match(name))


def placeholders(value: str) -> list[str]:
    """The template placeholders in `value` that are not IAM policy variables, as written."""
    if "{" not in value and "<" not in value and "$" not in value:
        return []
    out = [m.group(0) for m in _DOLLAR.finditer(value) if not is_iam_variable(m.group(1))]
    out += [m.group(0) for m in _BRACES.finditer(value)]
    return out


def has_iam_variable(value: str) -> bool:
    """True when `value` uses at least one real IAM policy variable."""
    return "${" in value and any(is_iam_variable(m.group(1)) for m in _DOLLAR.finditer(value))
