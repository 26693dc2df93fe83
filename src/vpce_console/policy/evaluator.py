"""Evaluate a VPC endpoint policy against one request, IAM semantics as facts.md §2 and §3 state them.

Compile once (`compile_policy`), evaluate many (`CompiledPolicy.evaluate` / `evaluate`): wildcard patterns
become regexes, key names are lower-cased, CIDRs and dates are parsed at compile time. The request context is
evaluated exactly as given: nothing is added or inferred (personas.py synthesizes realistic contexts).

Decision (E16/E17): an explicit Deny in any matching statement wins; otherwise an Allow that matches allows;
otherwise the request is implicitly denied ("because no VPC endpoint policy allows …").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vpce_console.policy.decision import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    ConditionTrace,
    Decision,
    MatchedStatement,
    PolicyError,
    Request,
    StatementTrace,
)
from vpce_console.policy.matching import VARIABLES_VERSION
from vpce_console.policy.statements import CompiledStatement, caller_of, compile_statement

__all__ = [
    "ALLOW",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "KNOWN_VERSIONS",
    "CompiledPolicy",
    "CompiledStatement",
    "ConditionTrace",
    "Decision",
    "MatchedStatement",
    "PolicyError",
    "Request",
    "StatementTrace",
    "compile_policy",
    "document_of",
    "evaluate",
    "normalize_context",
]
"""The request and decision types live in `decision`, the compiled statement in `statements`; callers import them
from here."""


KNOWN_VERSIONS = ("2012-10-17", "2008-10-17")
"""Policy language versions AWS accepts; only the first turns on policy variables (E14)."""


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
        caller = caller_of(request.principal)
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
        caller = caller_of(request.principal)
        action = request.action.lower()
        return tuple(s.trace(caller, action, request.resource, ctx) for s in self.statements)


def document_of(doc: str | Mapping[str, Any]) -> Any:
    """The parsed document of JSON text (PolicyError when it is not JSON), or the object itself."""
    if not isinstance(doc, str):
        return doc
    try:
        return json.loads(doc)
    except (ValueError, RecursionError) as exc:
        raise PolicyError(f"not valid JSON: {exc}") from None


def compile_policy(doc: str | Mapping[str, Any]) -> CompiledPolicy:
    """Compile a policy (JSON text or parsed object); raise PolicyError when it cannot be evaluated."""
    parsed = document_of(doc)
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
        compiled = tuple(compile_statement(i, s, variables=variables, keys=keys) for i, s in enumerate(statements))
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
