"""Every lint code fires on a bad policy and stays silent on idiomatic ones (issue 2's table, both ways)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vpce_console.data.knowledge import default_catalog
from vpce_console.policy.findings import Finding, Severity
from vpce_console.policy.linter import MAX_ENDPOINT_POLICY_CHARS, lint

POLICIES = Path(__file__).parent / "policies"

BAD: dict[str, tuple[str, dict[str, Any]]] = {
    "bad_json_syntax.json": ("json-syntax", {}),
    "bad_duplicate_key.json": ("duplicate-key", {}),
    "bad_invalid_structure.json": ("invalid-structure", {}),
    "bad_missing_principal.json": ("missing-principal", {}),
    "bad_policy_too_large.json": ("policy-too-large", {}),
    "bad_unknown_action.json": ("unknown-action", {}),
    "bad_unknown_condition_key.json": ("unknown-condition-key", {}),
    "bad_hub_scoped_key.json": ("hub-scoped-key", {}),
    "bad_key_never_present.json": ("key-never-present", {}),
    "bad_ec2_ip_unpaired.json": ("ec2-ip-unpaired", {}),
    "bad_credential_scoped_key.json": ("credential-scoped-key", {}),
    "bad_negated_missing_key.json": ("negated-missing-key", {}),
    "bad_operator_type_mismatch.json": ("operator-type-mismatch", {}),
    "bad_wildcard_on_sensitive_key.json": ("wildcard-on-sensitive-key", {}),
    "bad_set_operator_mismatch.json": ("set-operator-mismatch", {}),
    "bad_forallvalues_vacuous.json": ("forallvalues-vacuous", {}),
    "bad_variables_need_version.json": ("variables-need-version", {}),
    "bad_default_full_access.json": ("default-full-access", {}),
    "bad_action_other_service.json": ("action-other-service", {"service": "sqs"}),
    "bad_ec2_ip_primary_eni_only.json": ("ec2-ip-primary-eni-only", {}),
    "bad_principal_account_root.json": ("principal-account-root", {}),
    "bad_unconfirmed_notprincipal.json": ("unconfirmed-notprincipal", {}),
    "bad_unconfirmed_vpcsourceip_path.json": ("unconfirmed-vpcsourceip-path", {}),
    "bad_no_allow.json": ("no-allow", {}),
    "bad_no_effective_allow.json": ("no-effective-allow", {"service": "s3"}),
    "bad_invalid_principal.json": ("invalid-principal", {}),
    "bad_value_shape_mismatch.json": ("value-shape-mismatch", {}),
    "bad_action_resource_mismatch.json": ("action-resource-mismatch", {}),
    "bad_unresolved_placeholder.json": ("unresolved-placeholder", {}),
    "bad_policy_json_string.json": ("policy-json-string", {}),
}
"""One minimal bad policy per code, with the lint options it needs."""

CLEAN = sorted(p.name for p in POLICIES.glob("clean_*.json"))
ALLOWED_IN_CLEAN = {"unconfirmed-vpcsourceip-path"}
"""Info findings that state a documented doubt; clean policies may carry them."""


def _read(name: str) -> str:
    return (POLICIES / name).read_text(encoding="utf-8")


def _codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def _policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    doc: dict[str, Any] = {} if version is None else {"Version": version}
    doc["Statement"] = list(statements)
    return json.dumps(doc, indent=2)


def _st(
    condition: dict[str, Any] | None = None,
    *,
    effect: str = "Allow",
    action: Any = "sqs:SendMessage",
    resource: Any = "*",
    principal: Any = "*",
) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": action, "Resource": resource}
    if condition is not None:
        st["Condition"] = condition
    return st


ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_policy_fires_its_code(name: str) -> None:
    code, options = BAD[name]
    findings = lint(_read(name), **options)
    assert code in _codes(findings)
    hit = next(f for f in findings if f.code == code)
    assert hit.line >= 1 and hit.column >= 1
    assert hit.message and hit.hint
    assert hit.severity == Severity(default_catalog().severity(code))


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_policy_fires_nothing_else_that_is_a_problem(name: str) -> None:
    """Each fixture is minimal, so a finding from another rule would be a false positive."""
    code, options = BAD[name]
    others = {f.code for f in lint(_read(name), **options)} - {code} - ALLOWED_IN_CLEAN
    assert others == set()


@pytest.mark.parametrize("name", CLEAN)
def test_clean_policies_have_no_problem_findings(name: str) -> None:
    findings = lint(_read(name))
    assert set(_codes(findings)) <= ALLOWED_IN_CLEAN, [(f.code, f.line, f.message) for f in findings]
    assert all(f.severity is Severity.INFO for f in findings)


def test_clean_policies_cover_the_idioms_of_the_issue() -> None:
    texts = "".join(_read(name) for name in CLEAN)
    for idiom in (
        '"aws:PrincipalOrgID"',
        '"aws:ResourceOrgID"',
        '"aws:PrincipalIsAWSService"',
        '"ec2:SourceInstanceARN": "false"',
        '"aws:PrincipalTag/',
        '"aws:VpcSourceIp"',
        '"aws:SourceVpce"',
        '"ForAnyValue:StringLike"',
        '"aws:PrincipalOrgPaths"',
    ):
        assert idiom in texts


def test_catalog_both_directions() -> None:
    """Every code the fixtures make is in the catalog, and every catalog code is made by some fixture."""
    catalog = default_catalog()
    emitted: set[str] = set()
    for name, (_, options) in BAD.items():
        emitted |= set(_codes(lint(_read(name), **options)))
    for name in CLEAN:
        emitted |= set(_codes(lint(_read(name))))
    assert emitted <= set(catalog.entries)
    assert set(catalog.entries) <= emitted
    for entry in catalog.entries.values():
        assert entry.source.startswith("https://") and entry.why and entry.title


def test_finding_points_at_the_key_with_a_json_path() -> None:
    text = _read("bad_hub_scoped_key.json")
    hit = next(f for f in lint(text) if f.code == "hub-scoped-key")
    assert hit.path == "Statement[0].Condition.StringEquals.aws:SourceVpc"
    line = text.splitlines()[hit.line - 1]
    assert line[hit.column - 1 :].startswith('"aws:SourceVpc"')
    assert "one value per endpoint" in hit.message and "the hub's for every spoke" in hit.message
    assert "aws:VpcSourceIp" in hit.hint and "aws:Ec2InstanceSourceVpc" in hit.hint


def test_findings_are_sorted_by_position() -> None:
    text = _policy(
        _st({"StringEquals": {"aws:SourceVpc": "vpc-0a1b2c3d4e5f60001"}}, action="sqs:SendMesage"),
        _st({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
    )
    findings = lint(text)
    assert [(f.line, f.column) for f in findings] == sorted((f.line, f.column) for f in findings)
    assert {"unknown-action", "hub-scoped-key", "key-never-present"} <= set(_codes(findings))


CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # hub-scoped-key
    ("hub-scoped-key", _policy(_st({"StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}})), {}, True),
    ("hub-scoped-key", _policy(_st({"StringEquals": {"AWS:SOURCEVPC": "vpc-0a1b2c3d4e5f60001"}})), {}, True),
    ("hub-scoped-key", _policy(_st({"StringEquals": {"aws:VpceOrgID": "o-a1b2c3d4e5"}})), {}, True),
    (
        "hub-scoped-key",
        _policy(
            _st(
                {
                    "Null": {"ec2:SourceInstanceARN": "false"},
                    "StringNotEquals": {"aws:Ec2InstanceSourceVpc": "${aws:SourceVpc}"},
                },
                effect="Deny",
            )
        ),
        {},
        True,
    ),
    (
        "hub-scoped-key",
        _policy(
            _st(
                {
                    "IpAddress": {"aws:VpcSourceIp": ["10.20.0.0/16"]},
                    "StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"},
                }
            )
        ),
        {},
        False,
    ),
    (
        "hub-scoped-key",
        _policy(_st({"StringEquals": {"aws:SourceVpc": "vpc-0a1b2c3d4e5f60001"}})),
        {"policy_type": "identity"},
        False,
    ),
    # key-never-present
    ("key-never-present", _policy(_st({"NotIpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}})), {}, True),
    ("key-never-present", _policy(_st(ORG)), {}, False),
    (
        "key-never-present",
        _policy(_st({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
        {"policy_type": "identity"},
        False,
    ),
    # ec2-ip-unpaired
    (
        "ec2-ip-unpaired",
        _policy(
            _st({"Null": {"ec2:SourceInstanceARN": "false"}, "StringEquals": {"aws:Ec2InstanceSourceVpc": "vpc-1"}}),
            _st(
                {
                    "Null": {"ec2:SourceInstanceARN": "false"},
                    "IpAddress": {"aws:Ec2InstanceSourcePrivateIPv4": "10.1.2.3"},
                }
            ),
        ),
        {},
        True,
    ),
    (
        "ec2-ip-unpaired",
        _policy(
            _st(
                {
                    "Null": {"ec2:SourceInstanceARN": "false"},
                    "StringNotEquals": {
                        "aws:Ec2InstanceSourcePrivateIPv4": "${aws:VpcSourceIp}",
                        "aws:Ec2InstanceSourceVpc": "vpc-0a1b2c3d4e5f60001",
                    },
                },
                effect="Deny",
            )
        ),
        {},
        False,
    ),
    # credential-scoped-key
    ("credential-scoped-key", _policy(_st({"ArnLike": {"lambda:SourceFunctionArn": "arn:aws:lambda:*"}})), {}, True),
    (
        "credential-scoped-key",
        _policy(_st({"StringEquals": {"ec2:SourceInstanceARN": "arn:aws:ec2:us-east-1:111122223333:instance/i-1"}})),
        {},
        True,
    ),
    (
        "credential-scoped-key",
        _policy(
            _st(
                {
                    "Null": {"lambda:SourceFunctionArn": "false"},
                    "ArnLike": {"lambda:SourceFunctionArn": "arn:aws:lambda:us-east-1:111122223333:function:app-*"},
                }
            )
        ),
        {},
        False,
    ),
    (
        "credential-scoped-key",
        _policy(_st({"StringEqualsIfExists": {"aws:Ec2InstanceSourceVpc": "vpc-0a1b2c3d4e5f60001"}})),
        {},
        False,
    ),
    # negated-missing-key
    (
        "negated-missing-key",
        _policy(_st({"StringEqualsIfExists": {"aws:PrincipalTag/environment": "prod"}}, effect="Deny")),
        {},
        True,
    ),
    (
        "negated-missing-key",
        _policy(_st({"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, effect="Deny")),
        {},
        True,
    ),
    (
        "negated-missing-key",
        _policy(
            _st(
                {
                    "StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
                    "Bool": {"aws:PrincipalIsAWSService": "false"},
                },
                effect="Deny",
            )
        ),
        {},
        False,
    ),
    (
        "negated-missing-key",
        _policy(
            _st(
                {
                    "Null": {"aws:Ec2InstanceSourceVpc": "false"},
                    "StringNotEquals": {"aws:Ec2InstanceSourceVpc": "vpc-0a1b2c3d4e5f60001"},
                },
                effect="Deny",
            )
        ),
        {},
        False,
    ),
    (
        "negated-missing-key",
        _policy(
            _st(
                {"ForAnyValue:StringNotLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}},
                effect="Deny",
            )
        ),
        {},
        False,
    ),
    (
        "negated-missing-key",
        _policy(_st({"StringNotEquals": {"aws:Ec2InstanceSourceVpc": "vpc-0a1b2c3d4e5f60001"}})),
        {},
        False,
    ),
    # operator-type-mismatch
    ("operator-type-mismatch", _policy(_st({"IpAddress": {"aws:PrincipalAccount": "10.0.0.0/8"}})), {}, True),
    ("operator-type-mismatch", _policy(_st({"Bool": {"aws:SecureTransport": "yes"}})), {}, True),
    ("operator-type-mismatch", _policy(_st({"IpAddress": {"aws:VpcSourceIp": "vpc-0a1b2c3d4e5f60001"}})), {}, True),
    ("operator-type-mismatch", _policy(_st({"ArnLike": {"aws:PrincipalOrgID": "arn:aws:x"}})), {}, True),
    (
        "operator-type-mismatch",
        _policy(
            _st(
                {
                    "StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/payments-*"},
                    "ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic"},
                    "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
                    "DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                    "Bool": {"aws:SecureTransport": True},
                }
            )
        ),
        {},
        False,
    ),
    # wildcard-on-sensitive-key
    ("wildcard-on-sensitive-key", _policy(_st({"StringEquals": {"aws:ResourceAccount": "1111*"}})), {}, True),
    ("wildcard-on-sensitive-key", _policy(_st({"StringLike": {"aws:PrincipalTag/team": "pay*"}})), {}, True),
    ("wildcard-on-sensitive-key", _policy(_st({"NumericEquals": {"aws:PrincipalAccount": "1"}})), {}, True),
    (
        "wildcard-on-sensitive-key",
        _policy(_st(ORG, resource="arn:aws:sqs:us-east-1:1111*:orders")),
        {},
        True,
    ),
    (
        "wildcard-on-sensitive-key",
        _policy(_st({"StringLike": {"aws:PrincipalTag/team": "payments-*"}}, principal={"AWS": "arn:aws:iam::1*"})),
        {},
        True,
    ),
    (
        "wildcard-on-sensitive-key",
        _policy(_st({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}})),
        {},
        False,
    ),
    (
        "wildcard-on-sensitive-key",
        _policy(_st({"StringLike": {"aws:PrincipalTag/team": "pay*"}})),
        {"policy_type": "identity"},
        False,
    ),
    # set-operator-mismatch
    (
        "set-operator-mismatch",
        _policy(_st({"StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/*"}})),
        {},
        True,
    ),
    ("set-operator-mismatch", _policy(_st({"ForAllValues:StringEquals": {"aws:PrincipalAccount": "1"}})), {}, True),
    (
        "set-operator-mismatch",
        _policy(_st({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/*"}})),
        {},
        False,
    ),
    # forallvalues-vacuous
    (
        "forallvalues-vacuous",
        _policy(_st({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, action="sqs:TagQueue")),
        {},
        True,
    ),
    (
        "forallvalues-vacuous",
        _policy(
            _st(
                {"Null": {"aws:TagKeys": "false"}, "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}},
                action="sqs:TagQueue",
            )
        ),
        {},
        False,
    ),
    (
        "forallvalues-vacuous",
        _policy(_st({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, effect="Deny", action="sqs:TagQueue")),
        {},
        False,
    ),
    # variables-need-version
    (
        "variables-need-version",
        _policy(_st({"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}), version="2008-10-17"),
        {},
        True,
    ),
    (
        "variables-need-version",
        _policy(_st({"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}})),
        {},
        False,
    ),
    # default-full-access
    ("default-full-access", _policy(_st(action="*", principal={"AWS": "*"})), {}, True),
    ("default-full-access", _policy(_st(ORG, action="*")), {}, False),
    ("default-full-access", _policy(_st(action="*", effect="Deny")), {}, False),
    # missing-principal
    (
        "missing-principal",
        _policy({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}),
        {"policy_type": "identity"},
        False,
    ),
    # unknown-action
    ("unknown-action", _policy(_st(ORG, action=["sqs:Sned*"])), {}, True),
    ("unknown-action", _policy(_st(ORG, action=["sqqs:SendMessage"])), {}, True),
    (
        "unknown-action",
        _policy({"Effect": "Deny", "Principal": "*", "NotAction": ["sqs:DeleteQeue"], "Resource": "*"}),
        {},
        True,
    ),
    ("unknown-action", _policy(_st(ORG, action=["SQS:sendmessage", "sqs:Send*", "sqs:*", "kms:Decrypt"])), {}, False),
    # unknown-condition-key
    ("unknown-condition-key", _policy(_st({"StringEquals": {"kms:CallerAccount": "111122223333"}})), {}, True),
    ("unknown-condition-key", _policy(_st({"StringEquals": {"aws:PrincipalTag": "x"}})), {}, True),
    (
        "unknown-condition-key",
        _policy(_st({"StringEquals": {"kms:CallerAccount": "111122223333"}}, action="*")),
        {"service": "sqs"},
        True,
    ),
    (
        "unknown-condition-key",
        _policy(
            _st(
                {
                    "StringEquals": {"kms:CallerAccount": "111122223333", "aws:principaltag/Team": "payments"},
                    "StringLike": {"kms:EncryptionContext:aws:sqs:arn": "arn:aws:sqs:us-east-1:111122223333:*"},
                },
                action="kms:Decrypt",
            )
        ),
        {},
        False,
    ),
    (
        "unknown-condition-key",
        _policy(_st({"StringEquals": {"kms:CallerAccount": "111122223333"}}, action="*")),
        {},
        False,
    ),
    # invalid-structure
    ("invalid-structure", _policy({**_st(ORG), "NotAction": "sqs:DeleteQueue"}), {}, True),
    ("invalid-structure", json.dumps({"Version": "2012-10-17", "Statement": "allow all"}), {}, True),
    ("invalid-structure", _policy(_st({"StringEqual": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})), {}, True),
    ("invalid-structure", json.dumps({"Version": "2012-10-17", "statement": [_st(ORG)]}), {}, True),
    ("invalid-structure", _policy(_st({"Null": {"aws:PrincipalOrgID": "maybe"}})), {}, True),
    ("invalid-structure", _policy(_st(ORG, resource="sqs-queue")), {}, True),
    ("invalid-structure", _policy(_st(ORG), version="2012-10-18"), {}, True),
    # principal-account-root
    ("principal-account-root", _policy(_st(ORG, principal={"AWS": "111122223333"})), {}, True),
    (
        "principal-account-root",
        _policy(_st(ORG, principal={"AWS": "arn:aws:iam::111122223333:role/app"})),
        {},
        False,
    ),
    # action-other-service
    ("action-other-service", _policy(_st(ORG, action=["s3:GetObject"])), {}, False),
    ("action-other-service", _policy(_st(ORG, action=["sqs:SendMessage"])), {"service": "sqs"}, False),
    # unconfirmed-notprincipal
    (
        "unconfirmed-notprincipal",
        _policy(
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "*",
                "Resource": "*",
            }
        ),
        {"policy_type": "identity"},
        False,
    ),
    # policy-too-large
    ("policy-too-large", _policy(_st(ORG)) + " " * (MAX_ENDPOINT_POLICY_CHARS - len(_policy(_st(ORG)))), {}, False),
    ("policy-too-large", _policy(_st(ORG)) + " " * (MAX_ENDPOINT_POLICY_CHARS + 1 - len(_policy(_st(ORG)))), {}, True),
]


@pytest.mark.parametrize(("code", "text", "options", "fires"), CASES)
def test_rule_fires_or_not(code: str, text: str, options: dict[str, Any], fires: bool) -> None:
    codes = _codes(lint(text, **options))
    assert (code in codes) is fires, codes


def test_negated_missing_key_names_the_workloads() -> None:
    hit = next(f for f in lint(_read("bad_negated_missing_key.json")) if f.code == "negated-missing-key")
    assert "Lambda functions" in hit.message and "ECS task roles" in hit.message
    assert "TRUE" in hit.message
    assert '"Null": {"ec2:SourceInstanceARN": "false"}' in hit.hint


def test_credential_scoped_key_names_who_loses_access() -> None:
    hit = next(f for f in lint(_read("bad_credential_scoped_key.json")) if f.code == "credential-scoped-key")
    assert "Lambda functions" in hit.message and "EKS pods using IRSA" in hit.message
    assert "EC2 instance-role" in hit.message


@pytest.mark.parametrize(
    ("operator", "words"),
    [("IpAddress", "always FALSE"), ("NotIpAddress", "always TRUE"), ("IpAddressIfExists", "always TRUE")],
)
def test_key_never_present_says_what_the_operator_does(operator: str, words: str) -> None:
    text = _policy(_st({operator: {"aws:SourceIp": "203.0.113.0/24"}}))
    hit = next(f for f in lint(text) if f.code == "key-never-present")
    assert words in hit.message


def test_lint_never_raises_on_odd_shapes() -> None:
    odd = [
        "[]",
        "null",
        '{"Statement": [1, "x", null, [], {}]}',
        '{"Statement": {"Effect": "Allow", "Principal": {"AWS": 5}, "Action": [], "Resource": [1]}}',
        '{"Statement": [{"Condition": {"StringEquals": {"aws:SourceVpc": [{"a": 1}]}}}]}',
        '{"Statement": [{"Condition": {"StringEquals": []}, "Effect": 1}]}',
        '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:", "Resource": "*"}]}',
        '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": ":", "Resource": "*",'
        ' "Condition": {"StringEquals": {"nocolon": "x", "": "y"}}}]}',
    ]
    for text in odd:
        findings = lint(text)
        assert findings and all(f.code in default_catalog() for f in findings)


@pytest.mark.parametrize(
    ("service", "prefixes"),
    [
        ("sqs", {"sqs"}),
        ("SQS", {"sqs"}),
        ("ecr.api", {"ecr"}),
        ("ecr.dkr", {"ecr"}),
        ("com.amazonaws.us-east-1.sqs", {"sqs"}),
        ("com.amazonaws.eu-west-1.monitoring", {"cloudwatch"}),
        ("s3", {"s3", "s3express"}),
        ("no-such-endpoint", None),
    ],
)
def test_endpoint_service_names_map_to_iam_prefixes(service: str, prefixes: set[str] | None) -> None:
    from vpce_console.data.knowledge import default_knowledge
    from vpce_console.policy.linter import endpoint_prefixes

    found = endpoint_prefixes(service, default_knowledge())
    assert (None if found is None else set(found)) == prefixes


def test_unknown_endpoint_service_disables_service_rules() -> None:
    text = _policy(_st(ORG, action=["s3:GetObject"]))
    sqs = lint(text, service="com.amazonaws.us-east-1.sqs")
    assert _codes(sqs) == ["no-effective-allow"]  # the other-service action is its cause, reported inside it
    assert [r.code for r in sqs[0].related] == ["action-other-service"]
    assert "an sqs endpoint" in sqs[0].message
    extra = _st(ORG, action=["sqs:SendMessage"])
    assert "action-other-service" in _codes(lint(_policy(_st(ORG, action=["s3:GetObject"]), extra), service="sqs"))
    assert "action-other-service" not in _codes(lint(text, service="com.amazonaws.us-east-1.s3"))
    assert "action-other-service" not in _codes(lint(text, service="custom-partner-service"))


def test_lint_restores_the_garbage_collector_state() -> None:
    import gc

    assert gc.isenabled()
    lint(_read("clean_orgpaths.json"))
    assert gc.isenabled()
    gc.disable()
    try:
        lint(_read("clean_orgpaths.json"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_unknown_policy_type_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="policy_type"):
        lint("{}", policy_type="scp")
