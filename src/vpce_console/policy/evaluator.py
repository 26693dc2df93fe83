"""Evaluate a VPC endpoint policy against one request, IAM semantics as facts.md §2 and §3 state them.

Compile once (`compile_policy`), evaluate many (`CompiledPolicy.evaluate` / `evaluate`): wildcard patterns
become regexes, key names are lower-cased, CIDRs and dates are parsed at compile time. The request context is
evaluated exactly as given: nothing is added or inferred (personas.py synthesizes realistic contexts).

Decision (E16/E17): an explicit Deny in any matching statement wins; otherwise an Allow that matches allows;
otherwise the request is implicitly denied ("because no VPC endpoint policy allows …").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vpce_console.policy.conditions import Check, ConditionError, compile_condition
from vpce_console.policy.matching import (
    VARIABLES_VERSION,
    Context,
    Template,
    Variable,
    combined_glob,
    compile_source,
    glob_source,
    parse_template,
    template_pattern,
)

KNOWN_VERSIONS = ("2012-10-17", "2008-10-17")
"""Policy language versions AWS accepts; only the first turns on policy variables (E14)."""

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


# ---------------------------------------------------------------- request principal


@dataclass(frozen=True, slots=True)
class _Caller:
    """The identities a request principal stands for: itself, its role (for sessions) and its account."""

    arn: str
    account: str | None
    """Account id when the caller is an IAM/STS identity in an account."""
    role: tuple[str, str] | None
    """(account, role name) for an assumed-role session."""
    is_root: bool


_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:(?:iam|sts)::(\d{12}):(.*)$", re.DOTALL)
_ACCOUNT_ID = re.compile(r"^\d{12}$")


@lru_cache(maxsize=4096)
def _caller(principal: str) -> _Caller:
    if _ACCOUNT_ID.match(principal):
        return _Caller(principal, principal, None, True)
    match = _ARN_ACCOUNT.match(principal)
    if not match:
        return _Caller(principal, None, None, False)
    account, rest = match.group(1), match.group(2)
    if rest == "root":
        return _Caller(principal, account, None, True)
    if rest.startswith("assumed-role/"):
        pieces = rest.split("/")
        if len(pieces) >= 3 and pieces[1]:
            return _Caller(principal, account, (account, pieces[1]), False)
    return _Caller(principal, account, None, False)


@dataclass(frozen=True, slots=True)
class _PrincipalSet:
    """A compiled Principal / NotPrincipal element."""

    everyone: bool
    exact: frozenset[str]
    """ARNs, service principals, canonical users and federated providers, compared exactly."""
    roots: frozenset[str]
    """Accounts named by id or root ARN: per facts §3 they grant only that account's root user."""
    roles: frozenset[tuple[str, str]]
    """(account, role name) of role ARNs: they also match that role's assumed-role sessions."""

    def matches(self, caller: _Caller) -> bool:
        """Principal semantics: any listed form of the caller matches."""
        if self.everyone or caller.arn in self.exact:
            return True
        if caller.is_root and caller.account in self.roots:
            return True
        return caller.role is not None and caller.role in self.roles

    def excludes(self, caller: _Caller) -> bool:
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


def _compile_principal(value: Any, where: str) -> _PrincipalSet:
    if value == "*":
        return _PrincipalSet(True, frozenset(), frozenset(), frozenset())
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
                elif _ACCOUNT_ID.match(entry):
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
    return _PrincipalSet(everyone, frozenset(exact), frozenset(roots), frozenset(roles))


# ---------------------------------------------------------------- action / resource patterns


@dataclass(frozen=True, slots=True)
class _Patterns:
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


def _compile_actions(value: Any, where: str) -> _Patterns:
    entries = [entry.lower() for entry in _strings(value, where)]
    return _Patterns(combined_glob(entries), ())


def _compile_resources(value: Any, where: str, *, variables: bool) -> _Patterns:
    templates = [parse_template(entry, variables=variables) for entry in _strings(value, where)]
    static = [glob_source(t.text) for t in templates if not t.has_variables]
    pattern = compile_source("|".join(f"(?:{s})" for s in dict.fromkeys(static))) if static else None
    return _Patterns(pattern, tuple(t for t in templates if t.has_variables))


# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """One statement, ready to test against many requests."""

    index: int
    sid: str | None
    effect: str
    principal: _PrincipalSet
    not_principal: bool
    actions: _Patterns
    not_action: bool
    resources: _Patterns
    not_resource: bool
    conditions: tuple[Check, ...]
    matched: MatchedStatement
    """Prebuilt so a matching statement costs no allocation."""
    condition_labels: tuple[tuple[str, str], ...] = ()
    """(operator, key) of each check in `conditions`, as written, for explanations."""

    def trace(self, caller: _Caller, action: str, resource: str, ctx: Context) -> StatementTrace:
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

    def applies(self, caller: _Caller, action: str, resource: str, ctx: Context) -> bool:
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


def _compile_statement(index: int, stmt: Any, *, variables: bool, keys: set[str]) -> CompiledStatement:
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
            keys.update(_variable_keys(values))
            try:
                conditions.append(compile_condition(operator, key, values, variables=variables, where=path))
                labels.append((operator, key))
            except ConditionError as exc:
                raise PolicyError(f"{path}: {exc}") from None
    keys.update(_variable_keys(resource_value))
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


# ---------------------------------------------------------------- context


def _variable_keys(values: Any) -> set[str]:
    """Lower-case keys of every `${key}` in a string or list of strings (a superset is harmless)."""
    found: set[str] = set()
    for value in values if isinstance(values, list) else [values]:
        if isinstance(value, str) and "${" in value:
            template = parse_template(value, variables=True)
            found.update(part.key for part in template.parts if isinstance(part, Variable))
    return found


def normalize_context(context: Mapping[str, Any], keys: frozenset[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Lower-case key names (E9) and turn every value into a tuple of strings; None and [] mean absent.

    With `keys` (lower-case names a policy refers to) every other key is skipped: a key the policy never
    reads cannot change its decision, and skipping it is most of the per-request cost.
    """
    out: dict[str, tuple[str, ...]] = {}
    for key, value in context.items():
        lkey = key.lower()
        if value is None or (keys is not None and lkey not in keys):
            continue
        if isinstance(value, str):
            out[lkey] = (value,)
            continue
        if isinstance(value, (list, tuple)):
            values = tuple(_scalar(v) for v in value if v is not None)
            if values:
                out[lkey] = values
            continue
        out[lkey] = (_scalar(value),)
    return out


def _normalize_planned(context: Mapping[str, Any], plan: tuple[tuple[str, str], ...]) -> dict[str, tuple[str, ...]]:
    """`normalize_context` for a precomputed (original key, lower-case key) plan: only the keys a policy reads."""
    out: dict[str, tuple[str, ...]] = {}
    for key, lkey in plan:
        value = context[key]
        if value is None:
            continue
        if isinstance(value, str):
            out[lkey] = (value,)
        elif isinstance(value, (list, tuple)):
            values = tuple(_scalar(v) for v in value if v is not None)
            if values:
                out[lkey] = values
        else:
            out[lkey] = (_scalar(value),)
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


# ---------------------------------------------------------------- policy


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy document compiled for fast repeated evaluation."""

    version: str | None
    statements: tuple[CompiledStatement, ...]
    keys: frozenset[str] = frozenset()
    """Lower-case context keys the policy reads (condition keys and variable references)."""
    _plans: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = field(default_factory=dict, compare=False, repr=False)
    """Per context key-set: which of its keys this policy reads. Requests from one kind of caller share key sets,
    so normalising a context costs a tuple() and a lookup instead of lower-casing every key."""

    def _context(self, context: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        names = tuple(context)
        plan = self._plans.get(names)
        if plan is None:
            plan = tuple((name, name.lower()) for name in names if name.lower() in self.keys)
            if len(self._plans) >= 1024:
                self._plans.clear()  # bounded: a stream of ever-new key sets must not grow memory
            self._plans[names] = plan
        return _normalize_planned(context, plan)

    @property
    def variables(self) -> bool:
        """True when `${…}` is a policy variable in this document (Version 2012-10-17, E14)."""
        return self.version == VARIABLES_VERSION

    def evaluate(self, request: Request) -> Decision:
        """Decide one request: explicit deny wins, then any allow, else implicit deny (E16/E17)."""
        ctx = self._context(request.context)
        caller = _caller(request.principal)
        action = request.action.lower()
        resource = request.resource
        matched: list[MatchedStatement] = []
        deny = allow = False
        for statement in self.statements:
            if statement.applies(caller, action, resource, ctx):
                matched.append(statement.matched)
                if statement.effect == "Deny":
                    deny = True
                else:
                    allow = True
        kind = EXPLICIT_DENY if deny else ALLOW if allow else IMPLICIT_DENY
        return Decision(kind, tuple(matched))

    def explain(self, request: Request) -> tuple[StatementTrace, ...]:
        """Per-statement traces for one request (slower than `evaluate`; for people, not for the hot path)."""
        ctx = self._context(request.context)
        caller = _caller(request.principal)
        action = request.action.lower()
        return tuple(s.trace(caller, action, request.resource, ctx) for s in self.statements)


def compile_policy(doc: str | Mapping[str, Any]) -> CompiledPolicy:
    """Compile a policy (JSON text or parsed object); raise PolicyError when it cannot be evaluated."""
    if isinstance(doc, str):
        try:
            parsed = json.loads(doc)
        except (ValueError, RecursionError) as exc:
            raise PolicyError(f"not valid JSON: {exc}") from None
    else:
        parsed = doc
    if not isinstance(parsed, Mapping):
        raise PolicyError("a policy must be a JSON object")
    version = parsed.get("Version")
    if version is not None and version not in KNOWN_VERSIONS:
        raise PolicyError(f"Version must be one of {', '.join(KNOWN_VERSIONS)}")
    statements = parsed.get("Statement")
    if statements is None:
        raise PolicyError("a policy needs a Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyError("Statement must be an object or a list of objects")
    variables = version == VARIABLES_VERSION
    keys: set[str] = set()
    try:
        compiled = tuple(_compile_statement(i, s, variables=variables, keys=keys) for i, s in enumerate(statements))
    except RecursionError:
        raise PolicyError("policy nests too deeply") from None
    return CompiledPolicy(version, compiled, frozenset(keys))


def evaluate(policy: CompiledPolicy | str | Mapping[str, Any], request: Request) -> Decision:
    """Evaluate one request; pass a CompiledPolicy when evaluating many requests against the same document."""
    if isinstance(policy, CompiledPolicy):
        compiled = policy
    elif isinstance(policy, str):
        compiled = _compile_text(policy)
    else:
        compiled = compile_policy(policy)
    return compiled.evaluate(request)


@lru_cache(maxsize=256)
def _compile_text(text: str) -> CompiledPolicy:
    """Compiled policies by text, so callers that pass the same document string pay compilation once."""
    return compile_policy(text)
