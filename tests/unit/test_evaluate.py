"""Evaluator: statement elements, decision logic and policy-level errors (facts.md §2 E16/E17, §3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vpce_console.policy.evaluator import (
    Decision,
    MatchedStatement,
    PolicyError,
    Request,
    compile_policy,
    evaluate,
)

ROLE = "arn:aws:iam::111122223333:role/app"
SESSION = "arn:aws:sts::111122223333:assumed-role/app/i-0abc"
QUEUE = "arn:aws:sqs:us-east-1:111122223333:orders"


def stmt(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version:
        doc["Version"] = version
    return doc


def req(principal: str = SESSION, action: str = "sqs:SendMessage", resource: str = QUEUE, **ctx: Any) -> Request:
    return Request(principal, action, resource, ctx)


def kind(doc: dict[str, Any], request: Request) -> str:
    return evaluate(doc, request).kind


# ---------------------------------------------------------------- decision (E16/E17)


def test_default_endpoint_policy_allows_everything() -> None:
    default = '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
    decision = evaluate(default, req())
    assert decision == Decision("allow", (MatchedStatement(0, None, "Allow"),))
    assert decision.allowed


def test_no_matching_statement_is_implicit_deny() -> None:
    decision = evaluate(policy(stmt(Action="kms:Decrypt")), req())
    assert decision.kind == "implicit_deny"
    assert decision.matched == ()
    assert not decision.allowed


def test_explicit_deny_wins_over_allow_and_lists_both() -> None:
    doc = policy(stmt(Sid="AllowAll"), stmt(Sid="DenySend", Effect="Deny", Action="sqs:SendMessage"))
    decision = evaluate(doc, req())
    assert decision.kind == "explicit_deny"
    assert decision.matched == (MatchedStatement(0, "AllowAll", "Allow"), MatchedStatement(1, "DenySend", "Deny"))
    assert not decision.allowed


def test_single_statement_object_is_accepted() -> None:
    doc = {"Version": "2012-10-17", "Statement": stmt(Sid="one")}
    assert evaluate(doc, req()).matched == (MatchedStatement(0, "one", "Allow"),)


def test_compiled_policy_is_reusable_and_equals_uncompiled() -> None:
    doc = policy(stmt(Action="sqs:Send*"), stmt(Effect="Deny", Resource="arn:aws:sqs:*:*:secret*"))
    compiled = compile_policy(json.dumps(doc))
    secret = "arn:aws:sqs:us-east-1:111122223333:secret-q"
    expected = {
        (QUEUE, "sqs:SendMessage"): "allow",
        (QUEUE, "sqs:ReceiveMessage"): "implicit_deny",
        (secret, "sqs:SendMessage"): "explicit_deny",
        (secret, "sqs:ReceiveMessage"): "explicit_deny",
    }
    for _ in range(2):  # a compiled policy is reused: the second pass must decide exactly as the first
        for (resource, action), decision in expected.items():
            request = req(action=action, resource=resource)
            assert compiled.evaluate(request).kind == decision, (resource, action)
            assert evaluate(doc, request).kind == decision, (resource, action)


# ---------------------------------------------------------------- Action / NotAction


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("sqs:SendMessage", "sqs:SendMessage", "allow"),
        ("SQS:sendmessage", "sqs:SendMessage", "allow"),  # actions are case-insensitive
        ("sqs:Send*", "sqs:SendMessageBatch", "allow"),
        ("sqs:?endMessage", "sqs:SendMessage", "allow"),
        ("sqs:?endMessage", "sqs:XXendMessage", "implicit_deny"),
        ("sqs:*", "kms:Decrypt", "implicit_deny"),
        ("*", "kms:Decrypt", "allow"),
        (["kms:Decrypt", "sqs:Get*"], "sqs:GetQueueUrl", "allow"),
        ("sqs:Send", "sqs:SendMessage", "implicit_deny"),  # no partial match without a wildcard
    ],
)
def test_action_patterns(pattern: Any, action: str, expected: str) -> None:
    assert kind(policy(stmt(Action=pattern)), req(action=action)) == expected


def test_not_action_matches_everything_else() -> None:
    doc = policy(stmt(Action=None, NotAction=["sqs:Delete*", "sqs:Purge*"]))
    assert kind(doc, req(action="sqs:SendMessage")) == "allow"
    assert kind(doc, req(action="sqs:deletequeue")) == "implicit_deny"


def test_deny_with_not_action_denies_all_but_listed() -> None:
    doc = policy(stmt(), stmt(Effect="Deny", Action=None, NotAction="sqs:Get*"))
    assert kind(doc, req(action="sqs:GetQueueAttributes")) == "allow"
    assert kind(doc, req(action="sqs:SendMessage")) == "explicit_deny"


# ---------------------------------------------------------------- Resource / NotResource


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        (QUEUE, QUEUE, "allow"),
        ("arn:aws:sqs:us-east-1:111122223333:ORDERS", QUEUE, "implicit_deny"),  # resources are case-sensitive
        ("arn:aws:sqs:*:111122223333:*", QUEUE, "allow"),
        ("arn:aws:sqs:us-east-1:111122223333:order?", QUEUE, "allow"),
        ("arn:aws:sqs:us-east-1:111122223333:order", QUEUE, "implicit_deny"),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c.txt", "allow"),
        ("arn:aws:sqs:*", "*", "implicit_deny"),
        ("*", "*", "allow"),
    ],
)
def test_resource_patterns(pattern: str, resource: str, expected: str) -> None:
    assert kind(policy(stmt(Resource=pattern)), req(resource=resource)) == expected


def test_not_resource() -> None:
    doc = policy(stmt(Resource=None, NotResource="arn:aws:sqs:*:*:secret-*"))
    assert kind(doc, req()) == "allow"
    assert kind(doc, req(resource="arn:aws:sqs:us-east-1:1:secret-x")) == "implicit_deny"


def test_resource_variable_resolves_from_context() -> None:
    doc = policy(stmt(Resource="arn:aws:sqs:*:${aws:PrincipalAccount}:*"))
    assert kind(doc, req(**{"aws:PrincipalAccount": "111122223333"})) == "allow"
    assert kind(doc, req(**{"aws:PrincipalAccount": "999999999999"})) == "implicit_deny"


def test_resource_variable_missing_matches_no_resource() -> None:
    """E15: in Resource a variable with no value makes that entry match nothing."""
    doc = policy(stmt(Resource=["arn:aws:sqs:*:${aws:PrincipalAccount}:*"]))
    assert kind(doc, req()) == "implicit_deny"
    doc_default = policy(stmt(Resource=["arn:aws:sqs:*:${aws:PrincipalAccount, '111122223333'}:*"]))
    assert kind(doc_default, req()) == "allow"


def test_resource_variable_is_literal_without_2012_version() -> None:
    """E14: without Version 2012-10-17 `${…}` is plain text."""
    doc = policy(stmt(Resource="arn:aws:sqs:*:${aws:PrincipalAccount}:*"), version="2008-10-17")
    assert kind(doc, req(**{"aws:PrincipalAccount": "111122223333"})) == "implicit_deny"
    assert kind(doc, req(resource="arn:aws:sqs:x:${aws:PrincipalAccount}:q")) == "allow"


def test_escaped_wildcard_in_resource_is_literal() -> None:
    doc = policy(stmt(Resource="arn:aws:s3:::bucket/${*}"))
    assert kind(doc, req(resource="arn:aws:s3:::bucket/*")) == "allow"
    assert kind(doc, req(resource="arn:aws:s3:::bucket/x")) == "implicit_deny"


# ---------------------------------------------------------------- Principal (facts §3)


@pytest.mark.parametrize(
    ("principal", "caller", "expected"),
    [
        ("*", SESSION, "allow"),
        ("*", "anonymous", "allow"),
        ({"AWS": "*"}, SESSION, "allow"),
        ({"AWS": ROLE}, SESSION, "allow"),  # a role ARN matches its assumed-role sessions
        ({"AWS": ROLE}, ROLE, "allow"),
        ({"AWS": "arn:aws:iam::111122223333:role/other"}, SESSION, "implicit_deny"),
        ({"AWS": "arn:aws:iam::111122223333:role/team/app"}, SESSION, "allow"),  # session ARNs carry no path
        ({"AWS": "arn:aws:iam::444455556666:role/app"}, SESSION, "implicit_deny"),
        ({"AWS": SESSION}, SESSION, "allow"),
        ({"AWS": "arn:aws:sts::111122223333:assumed-role/app/other"}, SESSION, "implicit_deny"),
        # an account id grants only the account root user in an endpoint policy (facts §3)
        ({"AWS": "111122223333"}, SESSION, "implicit_deny"),
        ({"AWS": "111122223333"}, "arn:aws:iam::111122223333:root", "allow"),
        ({"AWS": "arn:aws:iam::111122223333:root"}, "arn:aws:iam::111122223333:root", "allow"),
        ({"AWS": "arn:aws:iam::111122223333:root"}, "arn:aws:iam::111122223333:user/bob", "implicit_deny"),
        ({"AWS": "arn:aws:iam::111122223333:user/bob"}, "arn:aws:iam::111122223333:user/bob", "allow"),
        (
            {"AWS": ["arn:aws:iam::1:user/x", "arn:aws:iam::111122223333:user/bob"]},
            "arn:aws:iam::111122223333:user/bob",
            "allow",
        ),
        ({"Service": "lambda.amazonaws.com"}, "lambda.amazonaws.com", "allow"),
        ({"Service": "lambda.amazonaws.com"}, SESSION, "implicit_deny"),
        ({"Service": "*"}, SESSION, "implicit_deny"),  # only AWS:* means everyone
    ],
)
def test_principal_forms(principal: Any, caller: str, expected: str) -> None:
    assert kind(policy(stmt(Principal=principal)), req(principal=caller)) == expected


def test_not_principal_excludes_only_when_every_identity_is_listed() -> None:
    """IAM NotPrincipal semantics (UNCONFIRMED in endpoint policies, facts §3): session, role and account."""
    deny_all_but = [SESSION, ROLE, "arn:aws:iam::111122223333:root"]
    doc = policy(stmt(), stmt(Effect="Deny", Principal=None, NotPrincipal={"AWS": deny_all_but}))
    assert kind(doc, req()) == "allow"
    assert kind(doc, req(principal="arn:aws:sts::111122223333:assumed-role/app/other")) == "explicit_deny"
    only_role = policy(stmt(), stmt(Effect="Deny", Principal=None, NotPrincipal={"AWS": ROLE}))
    assert kind(only_role, req()) == "explicit_deny"
    assert kind(only_role, req(principal="arn:aws:iam::999988887777:user/x")) == "explicit_deny"


# ---------------------------------------------------------------- unusable documents


@pytest.mark.parametrize(
    "doc",
    [
        "not json",
        "[]",
        "{}",
        '{"Statement": 3}',
        '{"Statement": [3]}',
        '{"Version": "2020-01-01", "Statement": []}',
        json.dumps(policy(stmt(Effect="Permit"))),
        json.dumps(policy(stmt(Principal=None))),
        json.dumps(policy(stmt(Action=None))),
        json.dumps(policy(stmt(NotAction="sqs:*"))),
        json.dumps(policy(stmt(Resource=None))),
        json.dumps(policy(stmt(Action=[1]))),
        json.dumps(policy(stmt(Condition={"StringEquls": {"aws:x": "y"}}))),
        json.dumps(policy(stmt(Condition={"NullIfExists": {"aws:x": "true"}}))),
        json.dumps(policy(stmt(Condition={"StringEquals": {"aws:x": {"a": 1}}}))),
        json.dumps(policy(stmt(Condition={"StringEquals": "x"}))),
        json.dumps(policy(stmt(Condition=[]))),
        json.dumps(policy(stmt(Sid=5))),
        "[" * 5000,
    ],
)
def test_unusable_documents_raise_policy_error(doc: str) -> None:
    with pytest.raises(PolicyError):
        compile_policy(doc)


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


def test_empty_statement_list_denies_implicitly() -> None:
    assert kind({"Statement": []}, req()) == "implicit_deny"


def test_context_values_are_used_exactly_as_given() -> None:
    """Nothing is invented: a request without context has no aws:SecureTransport, so Bool true fails."""
    doc = policy(stmt(Condition={"Bool": {"aws:SecureTransport": "true"}}))
    assert kind(doc, req()) == "implicit_deny"
    assert kind(doc, req(**{"aws:SecureTransport": "true"})) == "allow"
    assert kind(doc, req(**{"aws:SecureTransport": True})) == "allow"


def test_not_resource_entry_with_missing_variable_excludes_nothing() -> None:
    """E15: an entry whose variable has no value matches no resource — in NotResource it then excludes nothing."""
    doc = policy(stmt(Resource=None, NotResource="arn:aws:sqs:*:${aws:PrincipalAccount}:*"))
    assert kind(doc, req()) == "allow"
    assert kind(doc, req(**{"aws:PrincipalAccount": "111122223333"})) == "implicit_deny"


def test_string_policies_are_compiled_once() -> None:
    text = json.dumps(policy(stmt()))
    evaluate(text, req())
    from vpce_console.policy.evaluator import _compile_text

    hits = _compile_text.cache_info().hits
    evaluate(text, req())
    assert _compile_text.cache_info().hits == hits + 1


def test_package_exports_resolve_lazily() -> None:
    import importlib

    policy_package = importlib.import_module("vpce_console.policy")
    assert policy_package.PolicyError is PolicyError
    assert policy_package.compile_policy is compile_policy
    assert policy_package.CREDENTIAL_KINDS[0] == "ec2-instance"


def test_explain_reports_every_element_without_short_circuit() -> None:
    doc = policy(
        stmt(Sid="A", Action="kms:*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}}),
        stmt(Sid="B", Effect="Deny", Condition={"Null": {"aws:SourceVpc": "true"}, "Bool": {"aws:X": "true"}}),
    )
    compiled = compile_policy(doc)
    request = req(**{"aws:PrincipalOrgID": "o-1"})
    first, second = compiled.explain(request)
    assert (first.sid, first.applies, first.action, first.principal, first.resource) == ("A", False, False, True, True)
    assert first.conditions[0].result is True and first.conditions[0].key_present
    assert second.applies is False
    assert [(c.operator, c.key, c.result, c.key_present) for c in second.conditions] == [
        ("Null", "aws:SourceVpc", True, False),
        ("Bool", "aws:X", False, False),
    ]
    assert compiled.evaluate(request).kind == "implicit_deny"
