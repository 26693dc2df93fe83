"""A trail record as a partial request: what it shows is known, what it proves absent is absent, the rest unknown."""

from __future__ import annotations

from typing import Any

import pytest

from vpce_console.config import ConfigError, config_from_dict
from vpce_console.policy.partial import PRINCIPAL, UNDETERMINED, compile_partial
from vpce_console.policy.record import AccountFacts, ContextMap, action_of, record_request

HUB = "111111111111"
SPOKE = "222233334444"
ROLE = f"arn:aws:iam::{HUB}:role/tools/network-tools"
SESSION = f"arn:aws:sts::{HUB}:assumed-role/network-tools/i-0abc"


def full_record(**over: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:i-0abc",
            "arn": SESSION,
            "accountId": HUB,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE, "accountId": HUB}},
        },
        "eventTime": "2026-11-30T10:00:00Z",
        "eventSource": "sqs.amazonaws.com",
        "eventName": "SendMessage",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "10.0.8.20",
        "vpcEndpointId": "vpce-0sqs",
        "vpcEndpointAccountId": HUB,
        "eventCategory": "NetworkActivity",
    }
    record.update(over)
    return record


def redacted_record() -> dict[str, Any]:
    return full_record(userIdentity={"type": "AWSAccount", "principalId": "AROAX:s", "accountId": SPOKE})


def test_full_identity_record() -> None:
    r = record_request(full_record(), endpoint_vpc="vpc-0hub")
    assert r.principal == SESSION and r.action == "sqs:SendMessage" and r.resource is None
    assert r.context["aws:PrincipalArn"] == ROLE  # from sessionIssuer: the role with its path
    assert r.context["aws:PrincipalAccount"] == HUB
    assert r.context["aws:PrincipalType"] == "AssumedRole"
    assert r.context["aws:SourceVpce"] == "vpce-0sqs"
    assert r.context["aws:SourceVpc"] == "vpc-0hub"
    assert r.context["aws:VpcSourceIp"] == "10.0.8.20"
    assert r.context["aws:SourceIp"] is None  # absent through an endpoint
    assert "aws:PrincipalOrgID" not in r.context and "aws:PrincipalTag/team" not in r.context
    assert r.unknown is None  # everything else unknown


def test_redacted_identity_keeps_only_the_account() -> None:
    r = record_request(redacted_record())
    assert r.principal is None
    assert r.context["aws:PrincipalAccount"] == SPOKE
    for key in ("aws:PrincipalArn", "aws:PrincipalType", "aws:SourceVpc"):
        assert key not in r.context


def test_config_supplies_org_and_role_tags() -> None:
    facts = ContextMap(
        {HUB: AccountFacts("o-abcdefghij", ("o-abcdefghij/r-ab12/ou-ab12-net/",))}, {ROLE: {"team": "net"}}
    )
    r = record_request(full_record(), facts=facts)
    assert r.context["aws:PrincipalOrgID"] == "o-abcdefghij"
    assert r.context["aws:PrincipalOrgPaths"] == ["o-abcdefghij/r-ab12/ou-ab12-net/"]
    assert r.context["aws:PrincipalTag/team"] == "net"
    # a role's listed tags are its complete set: another tag key is absent, not unknown
    policy = compile_partial(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
                        "Condition": {"StringEquals": {"aws:PrincipalTag/cost": "42"}}}]}
    )  # fmt: skip
    assert policy.evaluate(r).kind == "implicit_deny"
    other = record_request(redacted_record(), facts=facts)
    assert policy.evaluate(other).depends_on == {"aws:PrincipalTag/cost"}


def test_actions_and_resources() -> None:
    assert action_of("monitoring.amazonaws.com", "PutMetricData") == "cloudwatch:PutMetricData"
    assert action_of("kms.amazonaws.com", "Decrypt") == "kms:Decrypt"
    key = "arn:aws:kms:us-east-1:222233334444:key/1234"
    r = record_request(full_record(resources=[{"ARN": key, "accountId": SPOKE}]))
    assert r.resource == key and r.context["aws:ResourceAccount"] == SPOKE
    assert record_request(full_record(requestParameters={"keyId": key})).resource == key
    assert record_request(full_record(requestParameters={"keyId": "alias/x"})).resource is None


def test_principal_gated_policy_on_a_redacted_record() -> None:
    policy = compile_partial(
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SPOKE}:role/app"},
                        "Action": "*", "Resource": "*"}]}
    )  # fmt: skip
    d = policy.evaluate(record_request(redacted_record()))
    assert d.kind == UNDETERMINED and d.depends_on == {PRINCIPAL}
    assert policy.evaluate(record_request(full_record())).kind == "implicit_deny"


def test_replay_config_is_strict() -> None:
    with pytest.raises(ConfigError) as exc:
        config_from_dict({"replay": {"accounts": {"12": {"org_id": "x", "oops": 1}}, "role_tags": {"arn:x": {}}}})
    text = str(exc.value)
    for part in ("12-digit", "org_id: expected o-", "oops: unknown key", "role ARNs"):
        assert part in text
    ok = config_from_dict(
        {"replay": {"accounts": {SPOKE: {"org_id": "o-abcdefghij"}}, "role_tags": {ROLE: {"a": "b"}}}}
    )
    assert ok.replay.context_map().accounts[SPOKE].org_id == "o-abcdefghij"
