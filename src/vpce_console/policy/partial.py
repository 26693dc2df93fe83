"""Three-valued evaluation: decide a request when some of its context is unknown, and say which keys it hinges on.

A replayed call from the trail knows some keys (the caller's account, the endpoint, the source IP) and not
others (a principal tag, an ARN AWS redacted). Each condition, principal and resource test comes out true,
false or *unknown*; IAM's rules (facts.md §2 E1–E17) apply unchanged to what is known, and an unknown key
never makes a test pass or fail by default — not through `IfExists`, `Null`, a negated operator or a set
prefix. Unknown tests are treated as independent facts; the decision is every outcome some assignment of them
reaches, and the keys it depends on are those of the tests whose truth can change the outcome (minimal at the
level of tests: a test that cannot flip the result adds nothing, even when its key is unknown).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vpce_console.policy.conditions import parse_operator
from vpce_console.policy.decision import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, MatchedStatement
from vpce_console.policy.evaluator import CompiledPolicy, compile_policy, document_of, normalize_context
from vpce_console.policy.matching import Template, Variable
from vpce_console.policy.partial_match import (
    CondTest,
    StatementTests,
    principal_account,
    statement_needs,
)
from vpce_console.policy.statements import (
    ACCOUNT_ID_RE,
    ARN_ACCOUNT_RE,
    PrincipalSet,
    caller_of,
)

UNDETERMINED = "undetermined"


PRINCIPAL = "Principal"
"""Pseudo-key of the caller's identity when it is unknown (a redacted cross-account record)."""


RESOURCE = "Resource"
"""Pseudo-key of the resource ARN when the record does not name it."""


MAX_ATOMS = 14
"""Above this many unknown tests in play, outcomes are over-approximated instead of enumerated (2**n)."""


@dataclass(frozen=True, slots=True)
class PartialRequest:
    """A call whose principal, resource or context keys may be unknown."""

    principal: str | None
    """Caller ARN as `Request.principal`; None when unknown (then `aws:PrincipalAccount` narrows it if known)."""
    action: str
    resource: str | None
    """Resource ARN or `*`; None when unknown."""
    context: Mapping[str, str | Sequence[str] | None] = field(default_factory=dict)
    """Known keys: a value (or list) means present; None means known to be absent."""
    unknown: frozenset[str] | None = None
    """Lower- or any-case keys that are unknown; None means every key not in `context` is unknown. With a set,
    keys outside both `context` and the set are absent (as in a full request)."""
    absent_prefixes: tuple[str, ...] = ()
    """Lower-case key prefixes whose keys not in `context` are absent (a role whose complete tag set is known:
    `aws:principaltag/`)."""


@dataclass(frozen=True, slots=True)
class PartialDecision:
    """The endpoint policy's answer when some facts are unknown."""

    kind: str
    """`allow`, `explicit_deny`, `implicit_deny`, or `undetermined` when more than one is possible."""
    possible: frozenset[str]
    """Every outcome some value of the unknown facts leads to (one element unless undetermined)."""
    depends_on: frozenset[str]
    """Unknown keys (as the policy spells them; `Principal`, `Resource` for those elements) the kind hinges on."""
    allow_depends_on: frozenset[str]
    """Unknown keys that decide allowed versus denied (empty when that much is certain)."""
    matched: tuple[MatchedStatement, ...] = ()
    """Statements that certainly apply."""
    undecided: tuple[MatchedStatement, ...] = ()
    """Statements that apply or not depending on unknown facts."""
    exact: bool = True
    """False when too many unknown tests were in play to enumerate: then `depends_on` may hold extra keys."""

    @property
    def allowed(self) -> bool | None:
        """True or False when certain, None when it depends on unknown keys."""
        if self.possible == {ALLOW}:
            return True
        return None if ALLOW in self.possible else False


@dataclass(frozen=True, slots=True)
class PartialPolicy:
    """A policy compiled for partial evaluation (wraps the ordinary compiled policy)."""

    full: CompiledPolicy
    statements: tuple[StatementTests, ...]
    atom_keys: tuple[frozenset[str], ...]
    spelling: Mapping[str, str]
    """Lower-case key -> as the policy first spells it."""

    @property
    def keys(self) -> frozenset[str]:
        """Lower-case condition and variable keys the policy reads."""
        return self.full.keys

    def evaluate(self, request: PartialRequest) -> PartialDecision:
        """Decide with unknowns: certain outcomes as IAM would, otherwise the possible outcomes and their keys."""
        known: dict[str, Any] = {}
        absent: set[str] = set()
        for key, value in request.context.items():
            if value is None or (isinstance(value, (list, tuple)) and not value):
                absent.add(key.lower())
            else:
                known[key] = value
        ctx = normalize_context(known, self.full.keys)
        if request.unknown is None:
            prefixes = request.absent_prefixes
            unknown = frozenset(
                k for k in self.full.keys if k not in ctx and k not in absent and not k.startswith(prefixes)
            )
        else:
            unknown = frozenset(k.lower() for k in request.unknown) - ctx.keys()
        caller = caller_of(request.principal) if request.principal is not None else None
        account = principal_account(request.context) if caller is None else None
        action = request.action.lower()
        deny_known = False
        allow_known = False
        deny_maybe: list[tuple[int, ...]] = []
        allow_maybe: list[tuple[int, ...]] = []
        matched: list[MatchedStatement] = []
        undecided: list[MatchedStatement] = []
        for st in self.statements:
            atoms = statement_needs(st, caller, account, action, request.resource, ctx, unknown)
            if atoms is None:
                continue
            if not atoms:
                matched.append(st.base.matched)
                if st.base.effect == "Deny":
                    deny_known = True
                else:
                    allow_known = True
            else:
                undecided.append(st.base.matched)
                (deny_maybe if st.base.effect == "Deny" else allow_maybe).append(atoms)
        if deny_known or not (deny_maybe or allow_maybe):
            kind = EXPLICIT_DENY if deny_known else ALLOW if allow_known else IMPLICIT_DENY
            return PartialDecision(kind, frozenset((kind,)), frozenset(), frozenset(), tuple(matched), tuple(undecided))
        open_keys = set(unknown)
        if caller is None:
            open_keys.add("principal")
        if request.resource is None:
            open_keys.add("resource")
        return self._enumerate(
            deny_maybe, allow_maybe, allow_known, tuple(matched), tuple(undecided), frozenset(open_keys)
        )

    def _enumerate(
        self,
        deny_maybe: list[tuple[int, ...]],
        allow_maybe: list[tuple[int, ...]],
        allow_known: bool,
        matched: tuple[MatchedStatement, ...],
        undecided: tuple[MatchedStatement, ...],
        open_keys: frozenset[str],
    ) -> PartialDecision:
        atoms = sorted({a for group in (*deny_maybe, *allow_maybe) for a in group})
        if len(atoms) > MAX_ATOMS:
            possible = {EXPLICIT_DENY} if deny_maybe else set()
            possible.add(ALLOW if allow_known or allow_maybe else IMPLICIT_DENY)
            if not allow_known:
                possible.add(IMPLICIT_DENY)
            keys = self._names((self.atom_keys[a] for a in atoms), open_keys)
            kind = next(iter(possible)) if len(possible) == 1 else UNDETERMINED
            allow_keys = keys if ALLOW in possible and len(possible) > 1 else frozenset()
            return PartialDecision(kind, frozenset(possible), keys, allow_keys, matched, undecided, exact=False)
        bit = {a: 1 << i for i, a in enumerate(atoms)}
        deny_masks = [sum(bit[a] for a in set(g)) for g in deny_maybe]
        allow_masks = [sum(bit[a] for a in set(g)) for g in allow_maybe]
        n = len(atoms)
        outcomes: list[str] = []
        for assign in range(1 << n):
            if any(assign & m == m for m in deny_masks):
                outcomes.append(EXPLICIT_DENY)
            elif allow_known or any(assign & m == m for m in allow_masks):
                outcomes.append(ALLOW)
            else:
                outcomes.append(IMPLICIT_DENY)
        kind_atoms: set[int] = set()
        allow_atoms: set[int] = set()
        for i, a in enumerate(atoms):
            b = 1 << i
            for assign in range(1 << n):
                if assign & b:
                    continue
                first, second = outcomes[assign], outcomes[assign | b]
                if first != second:
                    kind_atoms.add(a)
                    if (first == ALLOW) != (second == ALLOW):
                        allow_atoms.add(a)
                        break
        reached = frozenset(outcomes)
        kind = next(iter(reached)) if len(reached) == 1 else UNDETERMINED
        return PartialDecision(
            kind,
            reached,
            self._names((self.atom_keys[a] for a in kind_atoms), open_keys),
            self._names((self.atom_keys[a] for a in allow_atoms), open_keys),
            matched,
            undecided,
        )

    def _names(self, groups: Iterable[frozenset[str]], open_keys: frozenset[str]) -> frozenset[str]:
        """The unknown keys among the tests' keys, as the policy spells them."""
        return frozenset(self.spelling.get(k, k) for g in groups for k in g if k in open_keys)


def _templates(values: Any) -> list[Template]:
    from vpce_console.policy.matching import parse_template

    out = []
    for value in values if isinstance(values, list) else [values]:
        if isinstance(value, str) and "${" in value:
            out.append(parse_template(value, variables=True))
    return out


def _var_keys(templates: Sequence[Template]) -> tuple[frozenset[str], frozenset[str]]:
    keys: set[str] = set()
    defaulted: set[str] = set()
    for t in templates:
        for part in t.parts:
            if isinstance(part, Variable):
                keys.add(part.key)
                if part.default is not None:
                    defaulted.add(part.key)
    return frozenset(keys), frozenset(defaulted)


def _principal_accounts(principals: PrincipalSet) -> frozenset[str] | None:
    if principals.everyone:
        return None
    accounts: set[str] = set(principals.roots)
    accounts.update(account for account, _ in principals.roles)
    for entry in principals.exact:
        match = ARN_ACCOUNT_RE.match(entry)
        if match:
            accounts.add(match.group(1))
        elif ACCOUNT_ID_RE.match(entry):
            accounts.add(entry)
        # service, federated and canonical-user principals never are an IAM principal of an account
    return frozenset(accounts)


def compile_partial(doc: str | Mapping[str, Any]) -> PartialPolicy:
    """Compile a policy for partial evaluation; raises PolicyError like `compile_policy`."""
    parsed = document_of(doc)
    full = compile_policy(parsed)
    raw = parsed.get("Statement") if isinstance(parsed, Mapping) else None
    raw_list: list[Any] = [raw] if isinstance(raw, dict) else list(raw or [])
    variables = full.variables
    atoms: dict[Any, int] = {}
    atom_keys: list[frozenset[str]] = []
    spelling: dict[str, str] = {"principal": PRINCIPAL, "resource": RESOURCE}

    def atom(identity: Any, keys: frozenset[str]) -> int:
        index = atoms.get(identity)
        if index is None:
            index = atoms[identity] = len(atom_keys)
            atom_keys.append(keys)
        return index

    statements: list[StatementTests] = []
    for st in full.statements:
        stmt_raw = raw_list[st.index]
        conds: list[CondTest] = []
        checks = iter(st.conditions)
        for operator, entries in (stmt_raw.get("Condition") or {}).items():
            op = parse_operator(operator)
            for key, values in entries.items():
                check = next(checks)
                lkey = key.lower()
                spelling.setdefault(lkey, key)
                templates = _templates(values) if variables and op.base.startswith(("String", "Arn", "Bool")) else []
                var_keys, defaulted = _var_keys(templates)
                for t in templates:
                    for part in t.parts:
                        if isinstance(part, Variable):
                            spelling.setdefault(part.key, _spelled(t.text, part.key))
                identity = ("c", op.name.lower(), lkey, json.dumps(values, sort_keys=True))
                conds.append(
                    CondTest(
                        check,
                        lkey,
                        var_keys,
                        defaulted,
                        not op.negated,
                        atom(identity, frozenset({lkey, *var_keys})),
                    )
                )
        resource_vars = []
        for template in st.resources.dynamic:
            keys, _ = _var_keys([template])
            resource_vars.append((template, keys))
            for k in keys:
                spelling.setdefault(k, _spelled(template.text, k))
        # identical elements in two statements are one fact about the request, not two independent ones
        principal_atom = atom(("p", st.principal, st.not_principal), frozenset({"principal"}))
        resource_keys = frozenset({"resource"}).union(*(k for _, k in resource_vars))
        static = st.resources.static.pattern if st.resources.static is not None else None
        resource_atom = atom(("r", static, st.resources.dynamic, st.not_resource), resource_keys)
        statements.append(
            StatementTests(
                st,
                tuple(conds),
                tuple(resource_vars),
                principal_atom,
                resource_atom,
                _principal_accounts(st.principal),
            )
        )
    return PartialPolicy(full, tuple(statements), tuple(atom_keys), spelling)


def _spelled(text: str, lkey: str) -> str:
    """The key as written inside `${…}` in `text` (falls back to the lower-case name)."""
    index = text.lower().find(lkey)
    return text[index : index + len(lkey)] if index >= 0 else lkey


@lru_cache(maxsize=256)
def _compile_text(text: str) -> PartialPolicy:
    return compile_partial(text)


def evaluate_partial(policy: PartialPolicy | str | Mapping[str, Any], request: PartialRequest) -> PartialDecision:
    """Partially evaluate one request (pass a PartialPolicy when evaluating many)."""
    if isinstance(policy, PartialPolicy):
        compiled = policy
    elif isinstance(policy, str):
        compiled = _compile_text(policy)
    else:
        compiled = compile_partial(policy)
    return compiled.evaluate(request)


def unknown_keys(policy: PartialPolicy, known: Collection[str]) -> frozenset[str]:
    """Keys the policy reads that are not among `known` (as the policy spells them)."""
    lowered = {k.lower() for k in known}
    return frozenset(policy.spelling.get(k, k) for k in policy.keys if k not in lowered)
