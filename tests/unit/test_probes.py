"""Deriving discriminating probes from a change, and reading probe answers as endpoint decisions."""

from __future__ import annotations

import json

import pytest

from vpce_console.policy.evaluator import compile_policy
from vpce_console.policy.personas import HubEndpoint, Persona
from vpce_console.services.classify import classify
from vpce_console.services.probes import (
    ProbeAnswer,
    derive_probes,
    outcome_of,
    passive_phase,
    role_identity,
    self_identity,
)
from vpce_console.services.watch import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, INCONCLUSIVE, Phase

HUB = HubEndpoint(account_id="111122223333", vpc_id="vpc-0hub", endpoint_id="vpce-0sqs", region="us-east-1")
OPEN = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
QUEUE = "arn:aws:sqs:us-east-1:111122223333:orders"
DENY_UNTAGGED_READS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:GetQueueAttributes",
                "Resource": QUEUE,
                "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "payments"}},
            },
        ],
    }
)
ONLY_PAYMENTS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": "payments"}},
            }
        ],
    }
)


def _identities():  # type: ignore[no-untyped-def]
    me = self_identity("arn:aws:sts::111122223333:assumed-role/bastion/i-0123456789abcdef0", "111122223333")
    payments = role_identity("payments", "arn:aws:iam::444455556666:role/probe", session_tags={"team": "payments"})
    return me, payments


def test_self_identity_recognises_instance_roles() -> None:
    me, _ = _identities()
    assert me.persona.kind == "ec2-instance"
    assert me.persona.role_arn == "arn:aws:iam::111122223333:role/bastion"
    assert me.role_arn is None
    user = self_identity("arn:aws:iam::111122223333:user/alice", "111122223333")
    assert user.persona.kind == "iam-user"
    sso = self_identity("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin/alice", "111122223333")
    assert sso.persona.kind == "assumed-role"


def test_discriminating_probes_are_the_ones_whose_decision_changes() -> None:
    me, payments = _identities()
    probes, evaluated = derive_probes(OPEN, DENY_UNTAGGED_READS, service="sqs", hub=HUB, identities=[me, payments])
    assert {(p.identity.name, p.action, p.resource) for p in probes} == {("self", "sqs:GetQueueAttributes", QUEUE)}
    (probe,) = probes
    assert (probe.before, probe.after) == (ALLOW, EXPLICIT_DENY)
    # every identity × action × resource was evaluated: ListQueues, and GetQueueAttributes on orders + a synthetic queue
    assert len(evaluated) == 2 * 3
    assert "self → sqs:GetQueueAttributes on orders" in probe.label


def test_implicit_deny_probes_and_session_tags() -> None:
    me, payments = _identities()
    probes, _ = derive_probes(OPEN, ONLY_PAYMENTS, service="sqs", hub=HUB, identities=[me, payments])
    assert probes and all(p.identity.name == "self" for p in probes)
    assert all((p.before, p.after) == (ALLOW, IMPLICIT_DENY) for p in probes)
    assert {p.watch_probe().probe_id for p in probes} == {p.probe_id for p in probes}


def test_no_discriminating_probe_when_change_only_affects_others() -> None:
    me, payments = _identities()
    probes, evaluated = derive_probes(
        OPEN, OPEN.replace('*"}]', '*", "Sid": "x"}]'), service="sqs", hub=HUB, identities=[me, payments]
    )
    assert probes == [] and evaluated


def test_unknown_service_has_no_probes() -> None:
    me, _ = _identities()
    assert derive_probes(OPEN, ONLY_PAYMENTS, service="ecr.api", hub=HUB, identities=[me]) == ([], [])


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (ProbeAnswer(ok=True), ALLOW),
        (ProbeAnswer(False, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."), ALLOW),
        (ProbeAnswer(False, "QueueDoesNotExist", "The specified queue does not exist."), ALLOW),
        (ProbeAnswer(False, "NotFoundException", "Key does not exist"), ALLOW),
        (
            ProbeAnswer(
                False, "AccessDenied", "User: x is not authorized … with an explicit deny in a VPC endpoint policy"
            ),
            EXPLICIT_DENY,
        ),
        (
            ProbeAnswer(
                False, "AccessDeniedException", "… because no VPC endpoint policy allows the kms:DescribeKey action"
            ),
            IMPLICIT_DENY,
        ),
        (
            ProbeAnswer(False, "AccessDenied", "… because no identity-based policy allows the sqs:ListQueues action"),
            INCONCLUSIVE,
        ),
        (ProbeAnswer(False, "ThrottlingException", "Rate exceeded", kind="throttled"), INCONCLUSIVE),
        (ProbeAnswer(False, None, "connection reset", kind="connection"), INCONCLUSIVE),
    ],
)
def test_outcome_of(answer: ProbeAnswer, expected: str) -> None:
    assert outcome_of(answer)[0] == expected


def _network_denial(account: str, ip: str, name: str = "GetQueueAttributes"):  # type: ignore[no-untyped-def]
    denial = classify(
        {
            "eventID": "e1",
            "eventTime": "2026-11-28T10:00:00Z",
            "eventSource": "sqs.amazonaws.com",
            "eventName": name,
            "errorCode": "VpceAccessDenied",
            "errorMessage": "The request was denied due to a VPC endpoint policy",
            "userIdentity": {"type": "AWSAccount", "accountId": account, "principalId": "AROAX"},
            "sourceIPAddress": ip,
            "vpcEndpointId": "vpce-0sqs",
            "eventCategory": "NetworkActivity",
        }
    )
    assert denial is not None
    return denial


def test_passive_evidence_matches_the_new_policy_for_a_configured_persona() -> None:
    persona = Persona(
        name="lambda",
        kind="lambda",
        account_id="444455556666",
        role_arn="arn:aws:iam::444455556666:role/fn",
        private_ip="10.20.0.5",
        tags={"team": "web"},
    )
    before, after = compile_policy(OPEN), compile_policy(ONLY_PAYMENTS)
    assert passive_phase(_network_denial("444455556666", "10.20.0.5"), before, after, HUB, [persona]) is Phase.NEW
    # the reverse change: a denial the new policy would not produce looks old
    assert passive_phase(_network_denial("444455556666", "10.20.0.5"), after, before, HUB, [persona]) is Phase.OLD
    # an account without personas is judged as its root: denied under both → inconclusive
    assert passive_phase(_network_denial("777788889999", "10.9.9.9"), after, after, HUB, []) is Phase.INCONCLUSIVE
