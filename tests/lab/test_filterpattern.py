"""CloudWatch Logs JSON filter patterns (pure matcher; the HTTP path is covered in test_enforce)."""

from __future__ import annotations

import json

import pytest

from vpce_console.lab.filterpattern import PatternError, compile_json_pattern, message_matcher

RECORD = {
    "eventName": "GetQueueAttributes",
    "errorCode": "VpceAccessDenied",
    "eventSource": "sqs.amazonaws.com",
    "userIdentity": {"type": "AWSAccount", "accountId": "222222222222"},
    "count": 7,
    "ratio": 0.5,
    "readOnly": True,
    "nothing": None,
    "resources": [{"ARN": "arn:aws:sqs:us-east-1:222222222222:orders"}],
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.errorCode = "VpceAccessDenied" }', True),
        ('{ $.errorCode = "AccessDenied" }', False),
        ("{ $.errorCode = VpceAccessDenied }", True),
        ('{ $.errorCode != "AccessDenied" }', True),
        ('{ $.missing != "x" }', False),
        ('{ $.eventSource = "sqs.*" }', True),
        ('{ $.eventSource = "*.amazonaws.com" }', True),
        ('{ $.eventSource = "kms*" }', False),
        ('{ $.userIdentity.accountId = "222222222222" }', True),
        ('{ $.resources[0].ARN = "*:orders" }', True),
        ('{ $.resources[1].ARN = "*" }', False),
        ("{ $.count > 5 }", True),
        ("{ $.count >= 7 && $.count <= 7 }", True),
        ("{ $.count < 7 }", False),
        ("{ $.count = 7 }", True),
        ("{ $.ratio != 0.5 }", False),
        ('{ $.errorCode = "x" || $.count > 6 }', True),
        ('{ ($.errorCode = "x" || $.count > 6) && $.eventName = "Get*" }', True),
        ('{ ($.errorCode = "x" || $.count > 60) && $.eventName = "Get*" }', False),
        ("{ $.errorCode EXISTS }", True),
        ("{ $.vpcEndpointId NOT EXISTS }", True),
        ("{ $.errorCode NOT EXISTS }", False),
        ("{ $.nothing IS NULL }", True),
        ("{ $.readOnly IS TRUE }", True),
        ("{ $.readOnly IS FALSE }", False),
    ],
)
def test_json_patterns(pattern: str, expected: bool) -> None:
    assert compile_json_pattern(pattern)(RECORD) is expected
    assert message_matcher(pattern)(json.dumps(RECORD)) is expected


@pytest.mark.parametrize("pattern", ["{ $.a = }", "{ = 1 }", "{ $.a = 1 && }", '{ $.a > "x" }', "$.a = 1"])
def test_bad_patterns_are_rejected(pattern: str) -> None:
    with pytest.raises(PatternError):
        compile_json_pattern(pattern)(RECORD)


def test_term_patterns_and_non_json_messages() -> None:
    assert message_matcher("VpceAccessDenied sqs")(json.dumps(RECORD))
    assert not message_matcher("VpceAccessDenied kms")(json.dumps(RECORD))
    assert message_matcher("?kms ?sqs")(json.dumps(RECORD))
    assert not message_matcher("-GetQueueAttributes")(json.dumps(RECORD))
    assert not message_matcher('{ $.a = "b" }')("not json at all")
    assert message_matcher("")("anything")
