"""The denial classifier: every reason code from records with CloudTrail's real shapes (facts §4a, §4b)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from vpce_console.services.classify import (
    REASON_CODES,
    classify,
    is_denial_code,
    patterns,
    reason_for_message,
)

RECORDS = Path(__file__).resolve().parents[1] / "data" / "cloudtrail"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDS / f"{name}.json").read_text())
    return data


@pytest.mark.parametrize("code", [c for c in REASON_CODES])
def test_every_reason_code_from_a_real_shaped_record(code: str) -> None:
    denial = classify(_load(code))
    assert denial is not None
    assert denial.reason == code


@pytest.mark.parametrize("path", sorted(RECORDS.glob("variant-*.json")), ids=lambda p: p.stem)
def test_wording_variants(path: Path) -> None:
    record = json.loads(path.read_text())
    denial = classify(record)
    assert denial is not None
    assert denial.reason == record["_expect"]


@pytest.mark.parametrize("path", sorted(RECORDS.glob("nondenial-*.json")), ids=lambda p: p.stem)
def test_non_denials_are_not_rows(path: Path) -> None:
    assert classify(json.loads(path.read_text())) is None


def test_data_file_defines_exactly_the_reason_codes() -> None:
    assert sorted(patterns().declared_codes) == sorted(REASON_CODES)
    assert len(set(patterns().declared_codes)) == len(REASON_CODES)


def test_every_data_entry_has_source_and_why() -> None:
    from importlib import resources

    data = yaml.safe_load(resources.files("vpce_console.data").joinpath("denial_patterns.yaml").read_text())
    entries = [*data["reasons"], data["network_event"], data["other"], data["denial_error_codes"]]
    for entry in entries:
        assert str(entry["source"]).startswith("https://"), entry
        assert entry["why"].strip(), entry


def test_network_event_fields_and_redacted_principal() -> None:
    denial = classify(_load("vpce-network-event"))
    assert denial is not None
    assert denial.principal is None  # identity redacted to the account on network events
    assert denial.account_id == "444455556666"  # the caller's account, not the hub
    assert denial.endpoint_account_id == "111122223333"
    assert denial.endpoint_id == "vpce-0a1b2c3d4e5f60718"
    assert denial.service == "kms"
    assert denial.event_category == "NetworkActivity"
    row = denial.to_row()
    for key in (
        "event_time",
        "event_id",
        "reason",
        "endpoint_id",
        "service",
        "account_id",
        "source_ip",
        "principal",
        "event_name",
        "policy_version",
    ):
        assert key in row


def test_policy_arn_suffixes_are_captured() -> None:
    scp = classify(_load("scp-explicit"))
    assert scp is not None
    assert scp.policy_arn is not None and scp.policy_arn.startswith("arn:aws:organizations::999988887777:policy/")
    rcp = classify(_load("rcp-explicit"))
    assert rcp is not None and rcp.policy_arn is not None and "resource_control_policy" in rcp.policy_arn
    vpce = classify(_load("vpce-explicit"))
    assert vpce is not None and vpce.policy_arn is None


def test_principal_from_assumed_role_record() -> None:
    denial = classify(_load("vpce-explicit"))
    assert denial is not None
    assert denial.principal == "arn:aws:sts::444455556666:assumed-role/app/i-0abc1234567890def"
    assert denial.source_ip == "10.20.33.164"


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("AccessDenied", "… with an explicit deny in a sessions policy", "session-explicit"),
        ("AccessDenied", "… with an explicit deny in a session policy", "session-explicit"),
        ("AccessDeniedException", "because no VPC endpoint policy allows the sqs:SendMessage action", "vpce-implicit"),
        ("VpceAccessDenied", "anything", "vpce-network-event"),
        ("AccessDenied", None, "other"),
        (
            "AccessDenied",
            "because no identity-based policy allows the x action transitively through a VPC endpoint policy",
            "identity-implicit",
        ),
        ("AccessDenied", "WITH AN EXPLICIT DENY IN A SERVICE CONTROL POLICY", "scp-explicit"),
    ],
)
def test_reason_for_message(code: str, message: str | None, expected: str) -> None:
    match = reason_for_message(code, message)
    assert match is not None and match.reason == expected


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "Throttling", "NotFoundException", "", None, "InvalidParameter"]
)
def test_non_denial_codes(code: str | None) -> None:
    assert not is_denial_code(code)
    assert reason_for_message(code, "with an explicit deny in a VPC endpoint policy") is None
