"""Three-valued matching of one compiled statement: each element is true, false or unknown for a partly known request.

An unknown answer names the test (atom) it waits on, so the evaluator can enumerate only the tests in play.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpce_console.policy.conditions import Check
from vpce_console.policy.matching import Context, Template, template_pattern
from vpce_console.policy.statements import (
    Caller,
    CompiledStatement,
    Patterns,
    PrincipalSet,
)

YES, NO, MAYBE = 1, 0, -1
"""An element's three values: it matches, it does not, or it waits on an unknown key."""


@dataclass(frozen=True, slots=True)
class CondTest:
    """One condition test with what it reads: its key and the keys of the variables in its values."""

    check: Check
    key: str
    var_keys: frozenset[str]
    defaulted: frozenset[str]
    """Variable keys that carry a `${key, 'default'}` (their absence is not "null", so no shortcut applies)."""
    increasing: bool
    """True when resolving a variable can only turn the test from false to true (positive operators)."""
    atom: int


@dataclass(frozen=True, slots=True)
class StatementTests:
    base: CompiledStatement
    conds: tuple[CondTest, ...]
    resource_vars: tuple[tuple[Template, frozenset[str]], ...]
    principal_atom: int
    resource_atom: int
    principal_accounts: frozenset[str] | None
    """Accounts the Principal element can match (None when it can match any, e.g. `*`)."""


def principal_account(context: Mapping[str, Any]) -> str | None:
    """`aws:PrincipalAccount` from the request, whatever the key's case (the policy may never read it)."""
    for key, value in context.items():
        if key.lower() == "aws:principalaccount":
            return value if isinstance(value, str) else None
    return None


def statement_needs(
    st: StatementTests,
    caller: Caller | None,
    account: str | None,
    action: str,
    resource: str | None,
    ctx: Context,
    unknown: frozenset[str],
) -> tuple[int, ...] | None:
    """None when the statement certainly does not apply, else the unknown tests it needs (empty: it applies)."""
    base = st.base
    if base.actions.matches(action, ctx) == base.not_action:
        return None
    pending: list[int] = []
    p = _principal(st, caller, account)
    if p == NO:
        return None
    if p == MAYBE:
        pending.append(st.principal_atom)
    r = _resource(st, resource, ctx, unknown)
    if r == NO:
        return None
    if r == MAYBE:
        pending.append(st.resource_atom)
    for cond in st.conds:
        c = _condition(cond, ctx, unknown)
        if c == NO:
            return None
        if c == MAYBE:
            pending.append(cond.atom)
    return tuple(pending)


def _principal(st: StatementTests, caller: Caller | None, account: str | None) -> int:
    base = st.base
    principals: PrincipalSet = base.principal
    if caller is not None:
        if base.not_principal:
            return NO if principals.excludes(caller) else YES
        return YES if principals.matches(caller) else NO
    if principals.everyone:
        return NO if base.not_principal else YES
    if account is not None and st.principal_accounts is not None and account not in st.principal_accounts:
        # nothing listed belongs to the caller's account: Principal cannot match, NotPrincipal cannot exclude
        return YES if base.not_principal else NO
    return MAYBE


def _resource(st: StatementTests, resource: str | None, ctx: Context, unknown: frozenset[str]) -> int:
    base = st.base
    patterns: Patterns = base.resources
    if resource is None:
        hit = patterns.static is not None and patterns.static.fullmatch("") is not None  # a `*`-only entry
        if hit:
            return NO if base.not_resource else YES
        return MAYBE
    if not st.resource_vars or not any(keys & unknown for _, keys in st.resource_vars):
        return YES if patterns.matches(resource, ctx) != base.not_resource else NO
    # Some entries render from unknown keys: a match among the others is final, otherwise it is open.
    if patterns.static is not None and patterns.static.fullmatch(resource) is not None:
        return NO if base.not_resource else YES
    for template, keys in st.resource_vars:
        if keys & unknown:
            continue
        pattern = template_pattern(template, ctx)
        if pattern is not None and pattern.fullmatch(resource) is not None:
            return NO if base.not_resource else YES
    return MAYBE


def _condition(cond: CondTest, ctx: Context, unknown: frozenset[str]) -> int:
    if cond.key in unknown:
        return MAYBE
    open_vars = cond.var_keys & unknown
    if not open_vars:
        return YES if cond.check(ctx) else NO
    if cond.key not in ctx:
        # a missing key decides without reading any value (E1–E6): variables do not matter
        return YES if cond.check(ctx) else NO
    if open_vars & cond.defaulted:
        return MAYBE
    # Unknown variables render as null here (E15): knowing them can only add policy values, so the result
    # is final when it already is true for a positive operator or false for a negated one.
    result = cond.check(ctx)
    if result == cond.increasing:
        return YES if result else NO
    return MAYBE
