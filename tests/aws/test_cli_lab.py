"""`vpce inventory|doctor|cost` end to end as subprocesses against the lab: formats, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.lab


def vpce(*args: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "vpce_console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_inventory_json(lab_ready_file: str, lab_ready: Mapping[str, Any]) -> None:
    result = vpce("inventory", "--lab-ready", lab_ready_file, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress noise in JSON mode
    doc = json.loads(result.stdout)
    assert {"endpoints", "subscribers", "zones", "hubs", "stats"} <= set(doc)
    endpoint = doc["endpoints"][0]
    assert {"endpoint_id", "service", "state", "availability_zones", "enis", "security_groups", "policy"} <= set(
        endpoint
    )
    assert endpoint["policy"]["lint"].keys() == {"errors", "warnings", "infos", "codes"}
    subscriber = doc["subscribers"][0]
    assert {"vpc_id", "account_id", "cidrs", "dns_support", "routes_to_hub", "services"} <= set(subscriber)
    assert subscriber["services"]
    stats = doc["stats"]
    assert stats["seconds"] > 0
    assert stats["api_calls"]["route53:GetHostedZone"] == len(doc["zones"])
    assert stats["route53_calls_by_account"] == {
        lab_ready["hub"]["account_id"]: sum(n for k, n in stats["api_calls"].items() if k.startswith("route53:"))
    }


def test_inventory_text_has_summary_and_progress(lab_ready_file: str) -> None:
    result = vpce("inventory", "--lab-ready", lab_ready_file)
    assert result.returncode == 0, result.stderr
    assert "Endpoints (" in result.stdout and "Subscribers (" in result.stdout and "API calls" in result.stdout
    assert "spoke account" in result.stderr and "done:" in result.stderr  # progress on stderr, not stdout
    assert ": 1 VPC\n" in result.stderr and ": 1 VPCs" not in result.stderr  # the demo has a one-VPC account


def test_doctor_json_exits_1_and_lists_the_seeded_faults(lab_ready_file: str, lab_ready: Mapping[str, Any]) -> None:
    result = vpce("doctor", "--lab-ready", lab_ready_file, "--format", "json")
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    found = {(f["code"], f["service"]) for f in doc["findings"]}
    assert {(f["code"], f["service"]) for f in lab_ready["seeded_faults"]} <= found
    assert doc["summary"]["errors"] >= 1
    finding = doc["findings"][0]
    assert set(finding) >= {"code", "severity", "vpc_id", "account_id", "service", "endpoint_id", "message", "hint"}


def test_cost_json(lab_ready_file: str) -> None:
    result = vpce("cost", "--lab-ready", lab_ready_file, "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["prices"]["as_of"] and doc["services"]
    sqs = next(s for s in doc["services"] if s["service"] == "sqs")
    assert sqs["subscribers"] >= 1
    # Break-even per spoke = its AZs x $0.01 x 730 h / $0.02 per GB (facts §10: 1,095 GB for 3 AZs).
    assert sqs["typical_spoke_azs"] in (1, 2, 3)
    assert sqs["break_even_gb_per_spoke"] == pytest.approx(sqs["typical_spoke_azs"] * 365.0)
    assert doc["totals"]["per_vpc"]["total"] > doc["totals"]["centralized"]["total"]


def test_missing_ready_file_is_a_usage_error(tmp_path: Path) -> None:
    result = vpce("doctor", "--lab-ready", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    one_line_error(result)


def test_bad_config_names_the_key(lab_ready_file: str, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("spokes:\n  acounts: []\naws:\n  retry_mode: legacy\n")
    result = vpce("inventory", "--lab-ready", lab_ready_file, "--config", str(config))
    assert result.returncode == 2
    line = one_line_error(result)
    assert "spokes.acounts: unknown key" in line and "aws.retry_mode" in line


def test_bad_config_with_lab_fails_before_the_lab_starts(tmp_path: Path) -> None:
    """`--lab` with a bad config: the one-line error comes before any lab is started (no lab workdir was made)."""
    config = tmp_path / "c.yaml"
    config.write_text("watch: {poll_seconds: -1}\n")
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = vpce("doctor", "--lab", "--config", str(config), env={"TMPDIR": str(temp)})
    assert result.returncode == 2
    assert "watch.poll_seconds: must be > 0" in one_line_error(result)
    assert list(temp.iterdir()) == [], "a lab was started for a config that could never be used"


def test_unreachable_endpoint_is_one_line(lab_ready: Mapping[str, Any], tmp_path: Path) -> None:
    ready = dict(lab_ready, endpoint_url="http://127.0.0.1:9")  # discard port: nothing listens
    path = tmp_path / "ready.json"
    path.write_text(json.dumps(ready))
    config = tmp_path / "c.yaml"
    config.write_text("aws:\n  total_max_attempts: 1\n  connect_timeout: 2\n")
    result = vpce("inventory", "--lab-ready", str(path), "--config", str(config))
    assert result.returncode == 2
    line = one_line_error(result)
    assert "sts:GetCallerIdentity" in line and "cannot reach AWS" in line


def test_no_credentials_is_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
    )
    result = subprocess.run(
        [sys.executable, "-m", "vpce_console", "doctor", "--region", "us-east-1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    line = one_line_error(result)
    assert "no AWS credentials found" in line and "--profile" in line


def test_doctor_with_its_own_lab() -> None:
    """`--lab` starts a lab child, runs against it, and stops it when the command ends."""
    result = vpce("doctor", "--lab", "--format", "json", timeout=180)
    assert result.returncode == 1, result.stderr
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert {"phz-forbidden-association", "alias-target-mismatch", "sg-missing-spoke-cidr"} <= codes


def test_lab_dns_flag_starts_a_lab_whose_spokes_subscribe_through_profiles() -> None:
    """`vpce --lab --lab-dns profiles`: the started lab's spokes get the zones from Route 53 Profiles (issue 15)."""
    result = vpce("--lab", "--lab-dns", "profiles", "inventory", "--format", "json", timeout=180)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["profiles"] and doc["profile_associations"]
    through_profiles = [
        s for s in doc["subscribers"] if any(sub["path"] == "profile" for sub in s["subscriptions"].values())
    ]
    assert through_profiles, doc["subscribers"][:1]
    bad = vpce("--lab", "--lab-dns", "sideways", "inventory")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
