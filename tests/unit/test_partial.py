"""Three-valued evaluation: unknown keys never decide by default, and the dependency set is minimal.

Every operator family with its key unknown, `…IfExists`, `Null`, negated operators, the set prefixes, variables
whose key is unknown, the Principal and Resource elements when the record does not name them, and the
Deny/Allow interplay. With every key known it must agree with the ordinary evaluator (fuzz corpus + personas).
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from vpce_console.policy.evaluator import PolicyError, Request, compile_policy, evaluate
from vpce_console.policy.partial import (
    PRINCIPAL,
    RESOURCE,
    UNDETERMINED,
    PartialDecision,
    PartialRequest,
    compile_partial,
    evaluate_partial,
)

SESSION = "arn:aws:sts::111122223333:assumed-role/app/i-0abc"
QUEUE = "arn:aws:sqs:us-east-1:111122223333:orders"
ALLOW_ALL = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}


def stmt(effect: str = "Allow", condition: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect, "Principal": "*", "Action": "*", "Resource": "*", **kw}
    if condition:
        out["Condition"] = condition
    return out


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def run(
    policy: dict[str, Any],
    principal: str | None = SESSION,
    resource: str | None = QUEUE,
    unknown: frozenset[str] | None = None,
    **context: Any,
) -> PartialDecision:
    ctx = {k.replace("__", ":").replace("_SL_", "/"): v for k, v in context.items()}
    return evaluate_partial(policy, PartialRequest(principal, "sqs:SendMessage", resource, ctx, unknown))


def undetermined(
    decision: PartialDecision, possible: set[str], keys: set[str], allow_keys: set[str] | None = None
) -> None:
    assert decision.kind == UNDETERMINED, decision
    assert decision.possible == possible, decision
    assert decision.depends_on == keys, decision
    assert decision.allow_depends_on == (keys if allow_keys is None else allow_keys), decision


def certain(decision: PartialDecision, kind: str) -> None:
    assert decision.kind == kind, decision
    assert decision.possible == {kind}
    assert decision.depends_on == frozenset() and decision.allow_depends_on == frozenset()


# ---------------------------------------------------------------- every operator family, key unknown

FAMILIES = [
    ("StringEquals", "aws:PrincipalTag/team", "orders", "orders"),
    ("StringNotEquals", "aws:PrincipalTag/team", "orders", "ledger"),
    ("StringEqualsIgnoreCase", "aws:PrincipalTag/team", "ORDERS", "orders"),
    ("StringNotEqualsIgnoreCase", "aws:PrincipalTag/team", "ORDERS", "ledger"),
    ("StringLike", "aws:PrincipalTag/team", "ord*", "orders"),
    ("StringNotLike", "aws:PrincipalTag/team", "ord*", "ledger"),
    ("NumericEquals", "s3:max-keys", "10", "10"),
    ("NumericNotEquals", "s3:max-keys", "10", "11"),
    ("NumericLessThan", "s3:max-keys", "10", "9"),
    ("NumericLessThanEquals", "s3:max-keys", "10", "10"),
    ("NumericGreaterThan", "s3:max-keys", "10", "11"),
    ("NumericGreaterThanEquals", "s3:max-keys", "10", "10"),
    ("DateEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
    ("DateNotEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
    ("DateLessThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ("DateLessThanEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ("DateGreaterThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
    ("DateGreaterThanEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
    ("Bool", "aws:SecureTransport", "true", "true"),
    ("BinaryEquals", "x:blob", "QmluYXJ5", "QmluYXJ5"),
    ("IpAddress", "aws:VpcSourceIp", "10.1.0.0/16", "10.1.2.3"),
    ("NotIpAddress", "aws:VpcSourceIp", "10.1.0.0/16", "10.9.2.3"),
    ("ArnEquals", "aws:PrincipalArn", "arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/app"),
    ("ArnNotEquals", "aws:PrincipalArn", "arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/x"),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/app", "arn:aws:iam::111122223333:role/app"),
    ("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::*:role/app", "arn:aws:iam::111122223333:role/x"),
]
SUFFIXES = ["", "IfExists"]
PREFIXES = ["", "ForAnyValue:", "ForAllValues:"]


@pytest.mark.parametrize(("operator", "key", "value", "matching"), FAMILIES)
@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_unknown_key_never_decides_an_allow(
    operator: str, key: str, value: str, matching: str, suffix: str, prefix: str
) -> None:
    """Allow gated on the key: unknown -> allow or implicit deny, hinging on exactly that key."""
    op = f"{prefix}{operator}{suffix}"
    policy = doc(stmt(condition={op: {key: value}}))
    undetermined(run(policy), {"allow", "implicit_deny"}, {key})
    # known: exactly what the ordinary evaluator says (the value that matches allows)
    full = evaluate(policy, Request(SESSION, "sqs:SendMessage", QUEUE, {key: matching}))
    certain(run(policy, **{key.replace(":", "__").replace("/", "_SL_"): matching}), full.kind)
    assert full.kind == "allow"


@pytest.mark.parametrize(("operator", "key", "value", "matching"), FAMILIES)
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_unknown_key_never_decides_a_deny(operator: str, key: str, value: str, matching: str, suffix: str) -> None:
    """Deny gated on the key next to an allow-all: unknown -> explicit deny or allow, hinging on that key."""
    policy = doc(ALLOW_ALL, stmt("Deny", condition={f"{operator}{suffix}": {key: value}}))
    undetermined(run(policy), {"explicit_deny", "allow"}, {key})


def test_ifexists_known_absent_is_iam_and_unknown_is_not() -> None:
    policy = doc(stmt(condition={"StringEqualsIfExists": {"aws:PrincipalTag/team": "orders"}}))
    certain(run(policy, unknown=frozenset()), "allow")  # E3: absent -> true
    certain(run(policy, aws__PrincipalTag_SL_team=None), "allow")
    certain(run(policy, aws__PrincipalTag_SL_team="ledger"), "implicit_deny")
    undetermined(run(policy), {"allow", "implicit_deny"}, {"aws:PrincipalTag/team"})


def test_null_unknown_is_undetermined_known_follows_e4() -> None:
    policy = doc(ALLOW_ALL, stmt("Deny", condition={"Null": {"aws:PrincipalOrgID": "true"}}))
    undetermined(run(policy), {"explicit_deny", "allow"}, {"aws:PrincipalOrgID"})
    certain(run(policy, aws__PrincipalOrgID=None), "explicit_deny")
    certain(run(policy, aws__PrincipalOrgID="o-abc"), "allow")


def test_negated_operator_is_not_true_for_an_unknown_key() -> None:
    policy = doc(ALLOW_ALL, stmt("Deny", condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}))
    undetermined(run(policy), {"explicit_deny", "allow"}, {"aws:PrincipalOrgID"})
    certain(run(policy, aws__PrincipalOrgID=None), "explicit_deny")  # E1: missing key -> negated true
    certain(run(policy, aws__PrincipalOrgID="o-abc"), "allow")


def test_set_prefixes_known_and_unknown() -> None:
    all_values = doc(stmt(condition={"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": "o-abc/*"}}))
    undetermined(run(all_values), {"allow", "implicit_deny"}, {"aws:PrincipalOrgPaths"})
    certain(run(all_values, aws__PrincipalOrgPaths=None), "allow")  # E5 vacuous truth, only when known absent
    certain(run(all_values, aws__PrincipalOrgPaths=["o-abc/r/", "o-x/r/"]), "implicit_deny")
    any_value = doc(stmt(condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc/*"}}))
    undetermined(run(any_value), {"allow", "implicit_deny"}, {"aws:PrincipalOrgPaths"})
    certain(run(any_value, aws__PrincipalOrgPaths=None), "implicit_deny")
    certain(run(any_value, aws__PrincipalOrgPaths=["o-x/r/", "o-abc/r/"]), "allow")


# ---------------------------------------------------------------- variables


def test_variable_whose_key_is_unknown() -> None:
    policy = doc(stmt(condition={"StringEquals": {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"}}))
    d = run(policy, aws__PrincipalTag_SL_team="orders")
    undetermined(d, {"allow", "implicit_deny"}, {"aws:ResourceTag/team"})  # the condition key is known
    # key known absent: decided without the variable (E1)
    certain(run(policy, aws__PrincipalTag_SL_team=None), "implicit_deny")
    # both unknown: both named
    undetermined(run(policy), {"allow", "implicit_deny"}, {"aws:PrincipalTag/team", "aws:ResourceTag/team"})
    certain(run(policy, aws__PrincipalTag_SL_team="orders", aws__ResourceTag_SL_team="orders"), "allow")


def test_static_value_decides_despite_an_unknown_variable() -> None:
    positive = doc(stmt(condition={"StringEquals": {"aws:PrincipalTag/team": ["platform", "${aws:ResourceTag/team}"]}}))
    certain(run(positive, aws__PrincipalTag_SL_team="platform"), "allow")
    undetermined(
        run(positive, aws__PrincipalTag_SL_team="orders"), {"allow", "implicit_deny"}, {"aws:ResourceTag/team"}
    )
    negated = doc(
        stmt(condition={"StringNotEquals": {"aws:PrincipalTag/team": ["platform", "${aws:ResourceTag/team}"]}})
    )
    certain(run(negated, aws__PrincipalTag_SL_team="platform"), "implicit_deny")
    undetermined(run(negated, aws__PrincipalTag_SL_team="orders"), {"allow", "implicit_deny"}, {"aws:ResourceTag/team"})


def test_variable_with_default_stays_open() -> None:
    policy = doc(stmt(condition={"StringNotEquals": {"aws:PrincipalTag/team": "${aws:ResourceTag/team, 'none'}"}}))
    undetermined(run(policy, aws__PrincipalTag_SL_team="orders"), {"allow", "implicit_deny"}, {"aws:ResourceTag/team"})


def test_resource_variable_unknown_names_the_variable_not_the_resource() -> None:
    policy = doc(stmt(Resource="arn:aws:sqs:us-east-1:111122223333:${aws:PrincipalTag/team}-*"))
    undetermined(run(policy), {"allow", "implicit_deny"}, {"aws:PrincipalTag/team"})
    certain(run(policy, aws__PrincipalTag_SL_team="orders", resource=QUEUE + "-in"), "allow")
    certain(run(policy, aws__PrincipalTag_SL_team="ledger", resource=QUEUE + "-in"), "implicit_deny")


# ---------------------------------------------------------------- principal and resource not in the record


def test_redacted_principal() -> None:
    named = doc(stmt(Principal={"AWS": "arn:aws:iam::222233334444:role/app"}))
    # another account's role cannot be the caller from 111122223333: decided without the ARN
    certain(run(named, principal=None, aws__PrincipalAccount="111122223333"), "implicit_deny")
    undetermined(
        run(named, principal=None, aws__PrincipalAccount="222233334444"), {"allow", "implicit_deny"}, {PRINCIPAL}
    )
    certain(run(doc(ALLOW_ALL), principal=None), "allow")
    not_principal = doc(ALLOW_ALL, stmt("Deny", NotPrincipal={"AWS": "arn:aws:iam::222233334444:role/app"}))
    del not_principal["Statement"][1]["Principal"]
    certain(run(not_principal, principal=None, aws__PrincipalAccount="111122223333"), "explicit_deny")


def test_unknown_resource() -> None:
    certain(run(doc(ALLOW_ALL), resource=None), "allow")
    policy = doc(stmt(Resource="arn:aws:sqs:*:111122223333:*"))
    undetermined(run(policy, resource=None), {"allow", "implicit_deny"}, {RESOURCE})
    not_resource = stmt(NotResource="*")
    del not_resource["Resource"]
    certain(run(doc(not_resource), resource=None), "implicit_deny")


# ---------------------------------------------------------------- Deny / Allow interplay, minimality

TAG = {"StringEquals": {"aws:PrincipalTag/team": "orders"}}
ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}


def test_known_deny_wins_over_anything_unknown() -> None:
    policy = doc(
        stmt(condition=TAG), stmt("Deny", condition={"StringEquals": {"aws:PrincipalAccount": "111122223333"}})
    )
    certain(run(policy, aws__PrincipalAccount="111122223333"), "explicit_deny")


def test_known_allow_makes_other_allows_irrelevant() -> None:
    policy = doc(stmt(condition=ORG), stmt(condition=TAG))
    certain(run(policy, aws__PrincipalOrgID="o-abc"), "allow")
    undetermined(run(policy, aws__PrincipalOrgID="o-other"), {"allow", "implicit_deny"}, {"aws:PrincipalTag/team"})


def test_unknown_deny_with_unknown_allow_depends_on_both() -> None:
    policy = doc(stmt(condition=TAG), stmt("Deny", condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}))
    undetermined(
        run(policy), {"allow", "explicit_deny", "implicit_deny"}, {"aws:PrincipalTag/team", "aws:PrincipalOrgID"}
    )


def test_deny_either_way_leaves_allowed_certain() -> None:
    policy = doc(stmt("Deny", condition=TAG))  # no allow at all
    d = run(policy)
    undetermined(d, {"explicit_deny", "implicit_deny"}, {"aws:PrincipalTag/team"}, allow_keys=set())
    assert d.allowed is False


def test_a_known_false_test_closes_the_statement() -> None:
    policy = doc(stmt(condition={**TAG, "Bool": {"aws:SecureTransport": "true"}}))
    certain(run(policy, aws__SecureTransport="false"), "implicit_deny")


def test_subsumed_test_is_not_a_dependency() -> None:
    """Allow if A; Allow if A and B: B can never change the outcome, so only A is named."""
    both = {"StringEquals": {"aws:PrincipalOrgID": "o-abc", "aws:PrincipalTag/team": "orders"}}
    policy = doc(stmt(condition=ORG), stmt(condition=both))
    undetermined(run(policy), {"allow", "implicit_deny"}, {"aws:PrincipalOrgID"})


def test_same_test_in_two_statements_is_one_fact() -> None:
    """Deny if A, Allow if A: never allowed (allowed certain), the kind still hinges on A."""
    policy = doc(stmt(condition=TAG), stmt("Deny", condition=TAG))
    d = run(policy)
    undetermined(d, {"explicit_deny", "implicit_deny"}, {"aws:PrincipalTag/team"}, allow_keys=set())
    assert d.allowed is False


def test_unknown_keys_the_policy_never_reads_do_not_matter() -> None:
    certain(run(doc(stmt(condition=ORG)), aws__PrincipalOrgID="o-abc"), "allow")


def test_many_unknowns_over_approximate_but_stay_sound() -> None:
    statements = [stmt(condition={"StringEquals": {f"aws:PrincipalTag/t{i}": "x"}}) for i in range(20)]
    d = run(doc(*statements))
    assert d.kind == UNDETERMINED and d.possible == {"allow", "implicit_deny"} and not d.exact
    assert len(d.depends_on) == 20


# ---------------------------------------------------------------- agreement with the full evaluator


def _fuzz() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz.py"
    spec = importlib.util.spec_from_file_location("vpce_fuzz_partial", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _agree(text: Any, request: Request) -> None:
    full = evaluate(compile_policy(text), request)
    part = compile_partial(text).evaluate(
        PartialRequest(request.principal, request.action, request.resource, request.context, frozenset())
    )
    assert part.kind == full.kind and part.possible == {full.kind}
    assert part.matched == full.matched and part.undecided == ()
    assert part.depends_on == frozenset()


def test_everything_known_agrees_with_the_evaluator_on_the_fuzz_corpus() -> None:
    fuzz = _fuzz()
    rng = random.Random(20261130)
    compared = 0
    for _ in range(3000):
        text = fuzz.generate(rng)
        try:
            compile_policy(text)
        except PolicyError:
            continue
        for _ in range(3):
            _agree(text, fuzz.random_request(rng))
            compared += 1
    assert compared > 600


def test_everything_known_agrees_on_personas() -> None:
    from vpce_console.policy.persona_file import load_persona_file
    from vpce_console.policy.personas import persona_request

    root = Path(__file__).resolve().parents[2]
    personas = load_persona_file((root / "examples" / "personas.yaml").read_text())
    assert personas.hub is not None
    policies = [root / "examples" / "policy-deployed.json", root / "examples" / "policy-draft.json"]
    policies += sorted((root / "tests" / "unit" / "policies").glob("clean_*.json"))
    actions = ["sqs:SendMessage", "kms:Decrypt", "s3:GetObject", "ec2:DescribeInstances"]
    compared = 0
    for path in policies:
        text = path.read_text()
        for persona in personas.personas:
            for action in actions:
                for through in (True, False):
                    request = persona_request(persona, personas.hub, action, "*", through_endpoint=through)
                    _agree(text, request)
                    compared += 1
    assert compared >= 100
