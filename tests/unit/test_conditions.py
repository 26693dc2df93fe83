"""Condition operators, one family at a time, with the facts.md §2 rule each case encodes (E1–E15)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from vpce_console.policy.conditions import parse_date, parse_operator
from vpce_console.policy.evaluator import PolicyError, Request, compile_policy, evaluate


def allowed(condition: dict[str, Any], context: dict[str, Any], *, version: str | None = "2012-10-17") -> bool:
    """Evaluate one Allow statement gated only by `condition` against `context`."""
    doc: dict[str, Any] = {
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": condition}]
    }
    if version:
        doc["Version"] = version
    return evaluate(doc, Request("arn:aws:iam::111122223333:user/u", "sqs:SendMessage", "*", context)).allowed


# ---------------------------------------------------------------- String (E8, E9, E10)


@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "expected"),
    [
        ("StringEquals", "abc", "abc", True),
        ("StringEquals", "abc", "ABC", False),
        ("StringEquals", ["x", "abc"], "abc", True),  # E8: values OR
        ("StringEquals", "a*", "abc", False),  # no wildcards in Equals
        ("StringNotEquals", "abc", "abc", False),
        ("StringNotEquals", ["x", "y"], "abc", True),
        ("StringNotEquals", ["x", "abc"], "abc", False),  # E8: negated values act as AND
        ("StringEqualsIgnoreCase", "AbC", "aBc", True),
        ("StringEqualsIgnoreCase", "abc", "abd", False),
        ("StringNotEqualsIgnoreCase", "AbC", "abc", False),
        ("StringNotEqualsIgnoreCase", "AbC", "xyz", True),
        ("StringLike", "ab*", "abcdef", True),
        ("StringLike", "a?c", "abc", True),
        ("StringLike", "a?c", "abbc", False),
        ("StringLike", "*-prod-*", "team-prod-1", True),
        ("StringLike", "AB*", "abc", False),  # E10: case-sensitive
        ("StringLike", "abc", "abcd", False),  # wildcards required for partial match
        ("StringLike", "a.c", "abc", False),  # regex characters are literal
        ("StringNotLike", "ab*", "abc", False),
        ("StringNotLike", ["x*", "y*"], "abc", True),
        ("StringEquals", 5, "5", True),  # JSON numbers compare as their text
        ("StringEquals", True, "true", True),
        ("StringEquals", "", "", True),
        ("StringLike", "", "", True),
    ],
)
def test_string_operators(operator: str, policy_value: Any, request_value: str, expected: bool) -> None:
    assert (
        allowed({operator: {"aws:PrincipalTag/team": policy_value}}, {"aws:PrincipalTag/team": request_value})
        is expected
    )


def test_key_names_are_case_insensitive_including_tag_key() -> None:
    """E9: key names (and the tag-key part) ignore case; values do not."""
    condition = {"StringEquals": {"AWS:PRINCIPALTAG/Team": "payments"}}
    assert allowed(condition, {"aws:principaltag/team": "payments"})
    assert allowed(condition, {"aws:PrincipalTag/TEAM": "payments"})
    assert not allowed(condition, {"aws:PrincipalTag/team": "Payments"})


def test_multiple_keys_and_operators_are_anded() -> None:
    """E8: several operators, or several keys under one operator, must all hold."""
    condition = {
        "StringEquals": {"aws:PrincipalAccount": "111122223333", "aws:PrincipalOrgID": "o-1"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    full = {"aws:PrincipalAccount": "111122223333", "aws:PrincipalOrgID": "o-1", "aws:SecureTransport": "true"}
    assert allowed(condition, full)
    for missing in full:
        assert not allowed(condition, {k: v for k, v in full.items() if k != missing})


# ---------------------------------------------------------------- missing keys (E1, E2, E3)


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", False),
        ("StringLike", False),
        ("StringEqualsIgnoreCase", False),
        ("NumericEquals", False),
        ("NumericLessThan", False),
        ("DateGreaterThan", False),
        ("Bool", False),
        ("BinaryEquals", False),
        ("IpAddress", False),
        ("ArnLike", False),
        ("ArnEquals", False),
        # E1/E2: negated operators are true when the key is missing
        ("StringNotEquals", True),
        ("StringNotLike", True),
        ("StringNotEqualsIgnoreCase", True),
        ("NumericNotEquals", True),
        ("DateNotEquals", True),
        ("NotIpAddress", True),
        ("ArnNotEquals", True),
        ("ArnNotLike", True),
        # E3: IfExists is true when the key is missing, whatever the operator
        ("StringEqualsIfExists", True),
        ("StringNotEqualsIfExists", True),
        ("NumericLessThanIfExists", True),
        ("IpAddressIfExists", True),
        ("NotIpAddressIfExists", True),
        ("ArnLikeIfExists", True),
        ("BoolIfExists", True),
        ("DateLessThanIfExists", True),
    ],
)
def test_missing_key(operator: str, expected: bool) -> None:
    value = {"Bool": "true", "BinaryEquals": "QQ=="}.get(operator.removesuffix("IfExists"), "1")
    if "Ip" in operator:
        value = "10.0.0.0/8"
    if "Arn" in operator:
        value = "arn:aws:iam::*:role/x"
    assert allowed({operator: {"aws:SomeMissingKey": value}}, {}) is expected


def test_if_exists_evaluates_normally_when_present() -> None:
    """E3: key present -> the operator is applied as usual."""
    assert allowed({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, {"aws:SourceVpc": "vpc-1"})
    assert not allowed({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, {"aws:SourceVpc": "vpc-2"})
    assert not allowed({"StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, {"aws:SourceVpc": "vpc-1"})


def test_negated_missing_key_in_deny_denies_lambda() -> None:
    """DESIGN §1: Deny + StringNotEquals aws:Ec2InstanceSourceVpc denies every caller without the key."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:Ec2InstanceSourceVpc": "vpc-1"}},
            },
        ],
    }
    lambda_request = Request("arn:aws:sts::1:assumed-role/fn/fn", "sqs:SendMessage", "*", {})
    ec2_request = Request(
        "arn:aws:sts::1:assumed-role/r/i-1", "sqs:SendMessage", "*", {"aws:Ec2InstanceSourceVpc": "vpc-1"}
    )
    assert evaluate(doc, lambda_request).kind == "explicit_deny"
    assert evaluate(doc, ec2_request).kind == "allow"


# ---------------------------------------------------------------- Null (E4)


@pytest.mark.parametrize(
    ("value", "context", "expected"),
    [
        ("true", {}, True),
        ("true", {"ec2:SourceInstanceARN": "arn:x"}, False),
        ("false", {"ec2:SourceInstanceARN": "arn:x"}, True),
        ("false", {}, False),
        (False, {"ec2:SourceInstanceARN": "arn:x"}, True),
        (["true", "false"], {}, True),
        ("false", {"ec2:SourceInstanceARN": []}, False),  # an empty list is no value
        ("false", {"EC2:SOURCEINSTANCEARN": "arn:x"}, True),
    ],
)
def test_null(value: Any, context: dict[str, Any], expected: bool) -> None:
    assert allowed({"Null": {"ec2:SourceInstanceARN": value}}, context) is expected


def test_null_takes_no_variables() -> None:
    """E4: policy variables cannot be used with Null; `${…}` is not resolved there."""
    assert not allowed({"Null": {"aws:x": "${aws:y}"}}, {"aws:y": "true"})


# ---------------------------------------------------------------- Numeric


@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "expected"),
    [
        ("NumericEquals", "10", "10", True),
        ("NumericEquals", "10", "10.0", True),
        ("NumericEquals", 10, "11", False),
        ("NumericNotEquals", "10", "11", True),
        ("NumericNotEquals", ["10", "11"], "11", False),
        ("NumericLessThan", "10", "9", True),
        ("NumericLessThan", "10", "10", False),
        ("NumericLessThanEquals", "10", "10", True),
        ("NumericGreaterThan", "10", "10.5", True),
        ("NumericGreaterThan", "10", "10", False),
        ("NumericGreaterThanEquals", "-1", "-1", True),
        ("NumericEquals", "10", "ten", False),  # unparsable request value never matches
        ("NumericNotEquals", "10", "ten", True),
        ("NumericEquals", "ten", "10", False),  # unparsable policy value never matches
    ],
)
def test_numeric(operator: str, policy_value: Any, request_value: str, expected: bool) -> None:
    assert allowed({operator: {"s3:max-keys": policy_value}}, {"s3:max-keys": request_value}) is expected


# ---------------------------------------------------------------- Date (E13)


@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "expected"),
    [
        ("DateLessThan", "2026-06-01T00:00:00Z", "2026-01-01T12:00:00Z", True),
        ("DateLessThan", "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z", False),
        ("DateGreaterThan", "2026-01-01", "2026-01-01T00:00:01Z", True),
        ("DateEquals", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", True),  # offsets honoured
        ("DateEquals", "1767225600", "2026-01-01T00:00:00Z", True),  # epoch seconds
        ("DateNotEquals", "1767225600", "2026-01-01T00:00:00Z", False),
        ("DateLessThanEquals", "2026-01-01T00:00:00Z", "1767225600", True),
        ("DateGreaterThanEquals", "2026-01-01T00:00:00.500Z", "2026-01-01T00:00:00Z", False),
        ("DateEquals", "2026-01-*", "2026-01-01T00:00:00Z", False),  # E13: no wildcards in dates
        ("DateEquals", "2026-01-01T00:00:00Z", "garbage", False),
    ],
)
def test_date(operator: str, policy_value: str, request_value: str, expected: bool) -> None:
    assert allowed({operator: {"aws:CurrentTime": policy_value}}, {"aws:CurrentTime": request_value}) is expected


def test_parse_date_forms() -> None:
    assert parse_date("1970-01-01T00:00:00Z") == 0
    assert parse_date("0") == 0
    assert parse_date("2026-01-01") == parse_date("2026-01-01T00:00:00Z")
    assert parse_date("not a date") is None
    assert parse_date("") is None


# ---------------------------------------------------------------- Bool (E13) and Binary


@pytest.mark.parametrize(
    ("policy_value", "request_value", "expected"),
    [
        ("true", "true", True),
        ("true", "TRUE", True),
        (True, "true", True),
        ("false", "true", False),
        ("false", "false", True),
        ("true", "yes", False),
    ],
)
def test_bool(policy_value: Any, request_value: str, expected: bool) -> None:
    assert allowed({"Bool": {"aws:SecureTransport": policy_value}}, {"aws:SecureTransport": request_value}) is expected


def test_bool_with_variable() -> None:
    """E13: policy variables are allowed with Bool."""
    condition = {"Bool": {"aws:SecureTransport": "${aws:PrincipalTag/needs-tls}"}}
    assert allowed(condition, {"aws:SecureTransport": "true", "aws:PrincipalTag/needs-tls": "true"})
    assert not allowed(condition, {"aws:SecureTransport": "false", "aws:PrincipalTag/needs-tls": "true"})


def test_binary_equals() -> None:
    value = base64.b64encode(b"\x00\x01secret").decode()
    assert allowed({"BinaryEquals": {"x:blob": value}}, {"x:blob": value})
    assert not allowed({"BinaryEquals": {"x:blob": value}}, {"x:blob": base64.b64encode(b"other").decode()})


# ---------------------------------------------------------------- IP (E12)


@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "expected"),
    [
        ("IpAddress", "10.20.0.0/16", "10.20.1.15", True),
        ("IpAddress", "10.20.0.0/16", "10.21.1.15", False),
        ("IpAddress", ["192.168.0.0/16", "10.20.0.0/16"], "10.20.1.15", True),
        ("IpAddress", "10.20.1.15", "10.20.1.15", True),  # a bare address is a /32
        ("IpAddress", "10.20.1.1/24", "10.20.1.200", True),  # host bits ignored
        ("IpAddress", "2001:db8::/32", "2001:db8:1::5", True),
        ("IpAddress", "2001:db8::/32", "2001:db9::5", False),
        ("IpAddress", "10.0.0.0/8", "2001:db8::1", False),  # families never mix
        ("IpAddress", "10.0.0.0/8", "not-an-ip", False),
        ("NotIpAddress", "10.0.0.0/8", "10.1.2.3", False),
        ("NotIpAddress", ["172.16.0.0/12", "192.168.0.0/16"], "10.1.2.3", True),
        ("NotIpAddress", "2001:db8::/32", "2001:db8::1", False),
    ],
)
def test_ip(operator: str, policy_value: Any, request_value: str, expected: bool) -> None:
    assert allowed({operator: {"aws:VpcSourceIp": policy_value}}, {"aws:VpcSourceIp": request_value}) is expected


# ---------------------------------------------------------------- ARN (E11)


@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "expected"),
    [
        ("ArnEquals", "arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/app", True),
        ("ArnEquals", "arn:aws:iam::*:role/app", "arn:aws:iam::111122223333:role/app", True),  # same as ArnLike
        ("ArnLike", "arn:aws:iam::*:role/app-*", "arn:aws:iam::111122223333:role/app-blue", True),
        ("ArnLike", "arn:aws:iam::*:role/APP", "arn:aws:iam::111122223333:role/app", False),  # case-sensitive
        # E11: each component separately; `*` in one component does not swallow a colon
        ("ArnLike", "arn:aws:*:111122223333:role/app", "arn:aws:iam::111122223333:role/app", False),
        ("ArnLike", "arn:aws:iam::*:*", "arn:aws:iam::111122223333:role/app", True),
        ("ArnLike", "arn:aws:sqs:*:*:q:with:colons", "arn:aws:sqs:us-east-1:1:q:with:colons", True),
        ("ArnLike", "arn:aws:iam::*", "arn:aws:iam::111122223333:role/app", False),  # fewer than six parts
        ("ArnLike", "arn:aws:iam::*:role/app", "not-an-arn", False),
        ("ArnNotLike", "arn:aws:iam::*:role/admin-*", "arn:aws:iam::1:role/app", True),
        ("ArnNotEquals", "arn:aws:iam::*:role/app", "arn:aws:iam::1:role/app", False),
        ("ArnLike", "arn:aws:ec2:us-east-1:*:vpc/vpc-?", "arn:aws:ec2:us-east-1:1:vpc/vpc-a", True),
    ],
)
def test_arn(operator: str, policy_value: str, request_value: str, expected: bool) -> None:
    assert allowed({operator: {"aws:PrincipalArn": policy_value}}, {"aws:PrincipalArn": request_value}) is expected


# ---------------------------------------------------------------- set operators (E5, E6, E7)


PATHS = ["o-1/r-1/ou-a/", "o-1/r-1/ou-b/"]


@pytest.mark.parametrize(
    ("operator", "policy_value", "context_value", "expected"),
    [
        ("ForAnyValue:StringLike", "o-1/r-1/ou-a/*", PATHS, True),
        ("ForAnyValue:StringLike", "o-1/r-1/ou-c/*", PATHS, False),
        ("ForAnyValue:StringEquals", "o-1/r-1/ou-b/", PATHS, True),
        ("ForAnyValue:StringLike", "o-1/*", None, False),  # E6: no key -> false
        ("ForAnyValue:StringLike", "o-1/*", [], False),
        ("ForAnyValue:StringNotEquals", "o-1/r-1/ou-a/", PATHS, True),  # ou-b differs
        ("ForAnyValue:StringNotEquals", PATHS, PATHS, False),
        ("ForAllValues:StringLike", "o-1/r-1/*", PATHS, True),
        ("ForAllValues:StringLike", "o-1/r-1/ou-a/*", PATHS, False),
        ("ForAllValues:StringEquals", PATHS, PATHS, True),
        ("ForAllValues:StringEquals", "anything", None, True),  # E5: vacuous truth
        ("ForAllValues:StringEquals", "anything", [], True),
        ("ForAllValues:StringNotEquals", "o-9/", PATHS, True),
        ("ForAllValues:StringNotEquals", "o-1/r-1/ou-a/", PATHS, False),
        ("ForAnyValue:StringLikeIfExists", "o-1/*", None, True),  # E3 on a set operator
        ("forallvalues:stringequals", PATHS, PATHS, True),  # operator names tolerate case
    ],
)
def test_set_operators(operator: str, policy_value: Any, context_value: Any, expected: bool) -> None:
    context = {} if context_value is None else {"aws:PrincipalOrgPaths": context_value}
    assert allowed({operator: {"aws:PrincipalOrgPaths": policy_value}}, context) is expected


def test_single_valued_operator_on_list_matches_any_value() -> None:
    """Without a set operator a positive operator holds if any request value matches; a negated one if none do."""
    assert allowed(
        {"StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}}, {"aws:CalledVia": ["x", "athena.amazonaws.com"]}
    )
    assert not allowed(
        {"StringNotEquals": {"aws:CalledVia": "athena.amazonaws.com"}}, {"aws:CalledVia": ["x", "athena.amazonaws.com"]}
    )


# ---------------------------------------------------------------- policy variables (E14, E15)


def test_variable_in_string_equals() -> None:
    condition = {"StringEquals": {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"}}
    assert allowed(condition, {"aws:PrincipalTag/team": "blue", "aws:ResourceTag/team": "blue"})
    assert not allowed(condition, {"aws:PrincipalTag/team": "blue", "aws:ResourceTag/team": "red"})


def test_variable_key_names_are_case_insensitive() -> None:
    condition = {"StringEquals": {"aws:Ec2InstanceSourcePrivateIPv4": "${AWS:VPCSOURCEIP}"}}
    assert allowed(condition, {"aws:Ec2InstanceSourcePrivateIPv4": "10.0.0.5", "aws:VpcSourceIp": "10.0.0.5"})


def test_variable_default_value() -> None:
    condition = {"StringEquals": {"aws:PrincipalTag/team": "${aws:ResourceTag/team, 'company-wide'}"}}
    assert allowed(condition, {"aws:PrincipalTag/team": "company-wide"})
    assert not allowed(condition, {"aws:PrincipalTag/team": "blue"})
    assert allowed(condition, {"aws:PrincipalTag/team": "blue", "aws:ResourceTag/team": "blue"})


@pytest.mark.parametrize(
    ("operator", "expected"),
    [("StringEquals", False), ("StringLike", False), ("StringNotEquals", True), ("StringNotLike", True)],
)
def test_missing_variable_is_effectively_null(operator: str, expected: bool) -> None:
    """E15: positive operators do not match a null variable; negated ones do."""
    condition = {operator: {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"}}
    assert allowed(condition, {"aws:PrincipalTag/team": "blue"}) is expected


def test_variable_values_are_literal_in_like_but_text_is_wildcard() -> None:
    condition = {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}
    assert allowed(condition, {"s3:prefix": "home/bob/docs", "aws:username": "bob"})
    assert not allowed(condition, {"s3:prefix": "home/alice/docs", "aws:username": "bob"})
    assert not allowed(condition, {"s3:prefix": "home/bob/docs", "aws:username": "b*"})  # value is literal


@pytest.mark.parametrize(("escape", "literal"), [("${*}", "*"), ("${?}", "?"), ("${$}", "$")])
def test_special_literals(escape: str, literal: str) -> None:
    condition = {"StringLike": {"x:k": f"a{escape}b"}}
    assert allowed(condition, {"x:k": f"a{literal}b"})
    if literal != "$":
        assert not allowed(condition, {"x:k": "aXb"})


def test_variables_need_2012_version() -> None:
    """E14: with no Version (or 2008-10-17) `${…}` is literal text."""
    condition = {"StringEquals": {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"}}
    context = {"aws:PrincipalTag/team": "blue", "aws:ResourceTag/team": "blue"}
    assert not allowed(condition, context, version=None)
    assert not allowed(condition, context, version="2008-10-17")
    assert allowed(condition, {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"}, version=None)


def test_multivalued_key_as_variable_counts_as_missing() -> None:
    """E7: multivalued keys cannot be policy variables."""
    condition = {"StringEquals": {"x:k": "${aws:PrincipalOrgPaths}"}}
    assert not allowed(condition, {"x:k": "a", "aws:PrincipalOrgPaths": ["a", "b"]})


def test_variable_in_arn_condition() -> None:
    condition = {"ArnLike": {"aws:SourceArn": "arn:aws:sqs:*:${aws:PrincipalAccount}:*"}}
    assert allowed(condition, {"aws:SourceArn": "arn:aws:sqs:us-east-1:111:q", "aws:PrincipalAccount": "111"})
    assert not allowed(condition, {"aws:SourceArn": "arn:aws:sqs:us-east-1:222:q", "aws:PrincipalAccount": "111"})


def test_malformed_variable_stays_literal() -> None:
    assert allowed({"StringEquals": {"x:k": "${unterminated"}}, {"x:k": "${unterminated"})
    assert allowed({"StringEquals": {"x:k": "${}"}}, {"x:k": "${}"})


# ---------------------------------------------------------------- operator parsing


def test_parse_operator() -> None:
    op = parse_operator("ForAnyValue:StringNotLikeIfExists")
    assert (op.set_prefix, op.base, op.if_exists, op.negated) == ("ForAnyValue", "StringNotLike", True, True)
    op = parse_operator("Null")
    assert (op.set_prefix, op.base, op.if_exists, op.negated) == (None, "Null", False, False)


@pytest.mark.parametrize(
    "operator", ["StringEqual", "ForSomeValues:StringEquals", "NullIfExists", "ForAnyValue:Null", ""]
)
def test_unknown_operators_are_policy_errors(operator: str) -> None:
    doc = {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {operator: {"k": "v"}}}
        ]
    }
    with pytest.raises(PolicyError):
        compile_policy(doc)


# ---------------------------------------------------------------- wildcard engine vs a reference


def _reference_glob(pattern: str, text: str) -> bool:
    """Textbook dynamic-programming wildcard match (`*` any run, `?` one character)."""
    rows, cols = len(pattern), len(text)
    table = [[False] * (cols + 1) for _ in range(rows + 1)]
    table[0][0] = True
    for i in range(1, rows + 1):
        if pattern[i - 1] == "*":
            table[i][0] = table[i - 1][0]
        for j in range(1, cols + 1):
            if pattern[i - 1] == "*":
                table[i][j] = table[i - 1][j] or table[i][j - 1]
            else:
                table[i][j] = table[i - 1][j - 1] and pattern[i - 1] in ("?", text[j - 1])
    return table[rows][cols]


def test_glob_engine_agrees_with_reference() -> None:
    import random

    from vpce_console.policy.matching import compile_source, glob_source

    rng = random.Random(20261128)
    for _ in range(4000):
        pattern = "".join(rng.choice("ab*?.") for _ in range(rng.randint(0, 8)))
        text = "".join(rng.choice("ab.") for _ in range(rng.randint(0, 9)))
        got = compile_source(glob_source(pattern)).fullmatch(text) is not None
        assert got == _reference_glob(pattern, text), (pattern, text)


def test_arn_like_agrees_with_component_reference() -> None:
    import random

    rng = random.Random(7)
    for _ in range(1500):
        pattern = ":".join("".join(rng.choice("ab*?") for _ in range(rng.randint(0, 3))) for _ in range(6))
        value = ":".join("".join(rng.choice("ab:") for _ in range(rng.randint(0, 3))) for _ in range(6))
        p_parts, v_parts = pattern.split(":", 5), value.split(":", 5)
        expected = len(v_parts) == 6 and all(_reference_glob(p, v) for p, v in zip(p_parts, v_parts, strict=True))
        assert allowed({"ArnLike": {"x:arn": pattern}}, {"x:arn": value}) is expected, (pattern, value)


def test_many_wildcards_do_not_backtrack_catastrophically() -> None:
    """Thirty stars against a long non-matching value must still answer (this hung before atomic segments)."""
    pattern = "*a" * 30 + "*b"
    assert not allowed({"StringLike": {"x:k": pattern}}, {"x:k": "a" * 3000})
    assert allowed({"StringLike": {"x:k": pattern}}, {"x:k": "a" * 3000 + "b"})
