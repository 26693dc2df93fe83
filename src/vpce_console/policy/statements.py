"""One statement compiled for many requests: its principal set, action and resource patterns and condition checks.

Shared by the two-valued evaluator and the three-valued one (`partial`), so both read a document the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vpce_console.policy.conditions import Check, ConditionError, compile_condition
from vpce_console.policy.decision import (
    ConditionTrace,
    MatchedStatement,
    PolicyError,
    StatementTrace,
)
from vpce_console.policy.matching import (
    Context,
    Template,
    Variable,
    combined_glob,
    compile_source,
    glob_source,
    parse_template,
    template_pattern,
)


@dataclass(frozen=True, slots=True)
class Caller:
    """The identities a request principal stands for: itself, its role (for sessions) and its account."""

    arn: str
    account: str | None
    """Account id when the caller is an IAM/STS identity in an account."""
    role: tuple[str, str] | None
    """(account, role name) for an assumed-role session."""
    is_root: bool


ARN_ACCOUNT_RE = re.compile(r"^arn:[^:]+:(?:iam|sts)::(\d{12}):(.*)$", re.DOTALL)


ACCOUNT_ID_RE = re.compile(r"^\d{12}$")


@lru_cache(maxsize=4096)
def caller_of(principal: str) -> Caller:
    if ACCOUNT_ID_RE.match(principal):
        return Caller(principal, principal, None, True)
    match = ARN_ACCOUNT_RE.match(principal)
    if not match:
        return Caller(principal, None, None, False)
    account, rest = match.group(1), match.group(2)
    if rest == "root":
        return Caller(principal, account, None, True)
    if rest.startswith("assumed-role/"):
        pieces = rest.split("/")
        if len(pieces) >= 3 and pieces[1]:
            return Caller(principal, account, (account, pieces[1]), False)
    return Caller(principal, account, None, False)


@dataclass(frozen=True, slots=True)
class PrincipalSet:
    """A compiled Principal / NotPrincipal element."""

    everyone: bool
    exact: frozenset[str]
    """ARNs, service principals, canonical users and federated providers, compared exactly."""
    roots: frozenset[str]
    """Accounts named by id or root ARN: per facts §3 they grant only that account's root user."""
    roles: frozenset[tuple[str, str]]
    """(account, role name) of role ARNs: they also match that role's assumed-role sessions."""

    def matches(self, caller: Caller) -> bool:
        """Principal semantics: any listed form of the caller matches."""
        if self.everyone or caller.arn in self.exact:
            return True
        if caller.is_root and caller.account in self.roots:
            return True
        return caller.role is not None and caller.role in self.roles

    def excludes(self, caller: Caller) -> bool:
        """NotPrincipal semantics (IAM): a caller is excluded only when every identity it stands for is listed.

        AWS's NotPrincipal guidance asks for the session ARN, the role ARN and the account ARN together, because
        each identity in the chain is checked; listing only one leaves the caller covered by the statement.
        Endpoint-policy support for NotPrincipal is UNCONFIRMED (facts §3); we apply IAM semantics.
        """
        if self.everyone:
            return True
        identities: list[bool] = [caller.arn in self.exact]
        if caller.role is not None:
            identities.append(caller.role in self.roles)
        if caller.account is not None and not caller.is_root:
            identities.append(caller.account in self.roots)
        elif caller.is_root:
            identities = [caller.account in self.roots or caller.arn in self.exact]
        return all(identities)


_ROLE_ARN = re.compile(r"^arn:[^:]+:iam::(\d{12}):role/(?:.*/)?([^/]+)$", re.DOTALL)


_ROOT_ARN = re.compile(r"^arn:[^:]+:iam::(\d{12}):root$")


def _strings(value: Any, where: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise PolicyError(f"{where} must be a string or a list of strings")
    return list(items)


def _compile_principal(value: Any, where: str) -> PrincipalSet:
    if value == "*":
        return PrincipalSet(True, frozenset(), frozenset(), frozenset())
    if isinstance(value, str):
        # Only "*" is valid as a bare string; treat anything else as an AWS principal rather than fail.
        value = {"AWS": value}
    if not isinstance(value, dict) or not value:
        raise PolicyError(f'{where} must be "*" or an object such as {{"AWS": …}}')
    everyone = False
    exact: set[str] = set()
    roots: set[str] = set()
    roles: set[tuple[str, str]] = set()
    for kind, entries in value.items():
        for entry in _strings(entries, f"{where}.{kind}"):
            if kind == "AWS":
                if entry == "*":
                    everyone = True
                elif ACCOUNT_ID_RE.match(entry):
                    roots.add(entry)
                elif root := _ROOT_ARN.match(entry):
                    roots.add(root.group(1))
                else:
                    exact.add(entry)
                    if role := _ROLE_ARN.match(entry):
                        roles.add((role.group(1), role.group(2)))
            else:
                # Service, Federated, CanonicalUser: compared as given. "*" stays literal: only AWS:* means anyone.
                exact.add(entry)
    return PrincipalSet(everyone, frozenset(exact), frozenset(roots), frozenset(roles))


@dataclass(frozen=True, slots=True)
class Patterns:
    """A compiled Action/NotAction or Resource/NotResource list."""

    static: re.Pattern[str] | None
    dynamic: tuple[Template, ...]
    """Entries with policy variables, rendered per request (E14); an unresolved one matches nothing (E15)."""
    memo: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)
    """Answers for variable-free lists: actions and resources repeat, a dict lookup beats a regex."""

    def matches(self, value: str, ctx: Context) -> bool:
        if not self.dynamic:
            known = self.memo.get(value)
            if known is None:
                known = self.static is not None and self.static.fullmatch(value) is not None
                if len(self.memo) >= 4096:
                    self.memo.clear()
                self.memo[value] = known
            return known
        if self.static is not None and self.static.fullmatch(value) is not None:
            return True
        for template in self.dynamic:
            pattern = template_pattern(template, ctx)
            if pattern is not None and pattern.fullmatch(value) is not None:
                return True
        return False


def _compile_actions(value: Any, where: str) -> Patterns:
    entries = [entry.lower() for entry in _strings(value, where)]
    return Patterns(combined_glob(entries), ())


def _compile_resources(value: Any, where: str, *, variables: bool) -> Patterns:
    templates = [parse_template(entry, variables=variables) for entry in _strings(value, where)]
    static = [glob_source(t.text) for t in templates if not t.has_variables]
    pattern = compile_source("|".join(f"(?:{s})" for s in dict.fromkeys(static))) if static else None
    return Patterns(pattern, tuple(t for t in templates if t.has_variables))


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """One statement, ready to test against many requests."""

    index: int
    sid: str | None
    effect: str
    principal: PrincipalSet
    not_principal: bool
    actions: Patterns
    not_action: bool
    resources: Patterns
    not_resource: bool
    conditions: tuple[Check, ...]
    matched: MatchedStatement
    """Prebuilt so a matching statement costs no allocation."""
    condition_labels: tuple[tuple[str, str], ...] = ()
    """(operator, key) of each check in `conditions`, as written, for explanations."""

    def trace(self, caller: Caller, action: str, resource: str, ctx: Context) -> StatementTrace:
        """Every element's result (not short-circuited), so a person can see why a statement did or did not match."""
        action_ok = self.actions.matches(action, ctx) != self.not_action
        principal_ok = not self.principal.excludes(caller) if self.not_principal else self.principal.matches(caller)
        resource_ok = self.resources.matches(resource, ctx) != self.not_resource
        conditions = tuple(
            ConditionTrace(operator, key, check(ctx), key.lower() in ctx)
            for (operator, key), check in zip(self.condition_labels, self.conditions, strict=True)
        )
        applies = action_ok and principal_ok and resource_ok and all(c.result for c in conditions)
        return StatementTrace(
            self.index, self.sid, self.effect, applies, action_ok, principal_ok, resource_ok, conditions
        )

    def applies(self, caller: Caller, action: str, resource: str, ctx: Context) -> bool:
        """True when every element matches (cheapest first: action, principal, resource, conditions)."""
        if self.actions.matches(action, ctx) == self.not_action:
            return False
        if self.not_principal:
            if self.principal.excludes(caller):
                return False
        elif not self.principal.matches(caller):
            return False
        if self.resources.matches(resource, ctx) == self.not_resource:
            return False
        for check in self.conditions:  # noqa: SIM110 - a plain loop; all(genexpr) costs more on the hot path
            if not check(ctx):
                return False
        return True


def _pick(stmt: Mapping[str, Any], name: str, negated: str, where: str) -> tuple[Any, bool]:
    has, has_not = name in stmt, negated in stmt
    if has and has_not:
        raise PolicyError(f"{where} has both {name} and {negated}")
    if not has and not has_not:
        raise PolicyError(f"{where} needs {name} or {negated}")
    return (stmt[name], False) if has else (stmt[negated], True)


def compile_statement(index: int, stmt: Any, *, variables: bool, keys: set[str]) -> CompiledStatement:
    where = f"Statement[{index}]"
    if not isinstance(stmt, dict):
        raise PolicyError(f"{where} must be an object")
    effect = stmt.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f'{where}.Effect must be "Allow" or "Deny"')
    sid = stmt.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}.Sid must be a string")
    principal_value, not_principal = _pick(stmt, "Principal", "NotPrincipal", where)
    action_value, not_action = _pick(stmt, "Action", "NotAction", where)
    resource_value, not_resource = _pick(stmt, "Resource", "NotResource", where)
    conditions: list[Check] = []
    labels: list[tuple[str, str]] = []
    block = stmt.get("Condition", {})
    if not isinstance(block, dict):
        raise PolicyError(f"{where}.Condition must be an object")
    for operator, entries in block.items():
        if not isinstance(entries, dict):
            raise PolicyError(f"{where}.Condition.{operator} must be an object of keys to values")
        for key, values in entries.items():
            path = f"{where}.Condition.{operator}.{key}"
            if isinstance(key, str):
                keys.add(key.lower())
            keys.update(variable_keys(values))
            try:
                conditions.append(compile_condition(operator, key, values, variables=variables, where=path))
                labels.append((operator, key))
            except ConditionError as exc:
                raise PolicyError(f"{path}: {exc}") from None
    keys.update(variable_keys(resource_value))
    return CompiledStatement(
        index=index,
        sid=sid,
        effect=effect,
        principal=_compile_principal(principal_value, f"{where}.{'NotPrincipal' if not_principal else 'Principal'}"),
        not_principal=not_principal,
        actions=_compile_actions(action_value, f"{where}.{'NotAction' if not_action else 'Action'}"),
        not_action=not_action,
        resources=_compile_resources(
            resource_value, f"{where}.{'NotResource' if not_resource else 'Resource'}", variables=variables
        ),
        not_resource=not_resource,
        conditions=tuple(conditions),
        condition_labels=tuple(labels),
        matched=MatchedStatement(index, sid, effect),
    )


def variable_keys(values: Any) -> set[str]:
    """Lower-case keys of every `${key}` in a string or list of strings (a superset is harmless)."""
    found: set[str] = set()
    for value in values if isinstance(values, list) else [values]:
        if isinstance(value, str) and "${" in value:
            template = parse_template(value, variables=True)
            found.update(part.key for part in template.parts if isinstance(part, Variable))
    return found
