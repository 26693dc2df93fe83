"""Optional enrichments fail soft: a failed DescribeVpcEndpointServices or a dropped CloudWatch connection warns,
marks what is unknown, and the inventory still completes (real SDK against the shared lab with injected faults)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from tests.aws.conftest import lab_post

pytestmark = [pytest.mark.lab]


@pytest.fixture
def faults(lab_ready: Mapping[str, Any]) -> Iterator[Any]:
    """Set a fault spec on the shared lab for one test; always cleared afterwards."""

    def set_spec(spec: str) -> None:
        lab_post(lab_ready, "/lab-api/faults", {"spec": spec, "replace": True})

    yield set_spec
    set_spec("")


def _inventory(ready_file: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "vpce_console", "inventory", "--lab-ready", ready_file, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        check=False,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout.startswith("{") else {}, done.stderr


@pytest.mark.parametrize(
    ("spec", "warning", "check"),
    [
        ("ec2:DescribeVpcEndpointServices=5xx", "policy support unknown", "policy.supported"),
        ("ec2:DescribeVpcEndpointServices=drop", "policy support unknown", "policy.supported"),
        ("monitoring=drop", "metrics unavailable", "bytes_processed"),
        ("monitoring=5xx", "metrics unavailable", "bytes_processed"),
    ],
)
def test_failed_enrichment_warns_marks_and_continues(
    faults: Any, lab_ready_file: str, spec: str, warning: str, check: str
) -> None:
    faults(spec)
    code, data, err = _inventory(lab_ready_file)
    assert code == 0, err[-1000:]
    assert data["endpoints"], "the inventory must still list the endpoints"
    assert any(warning in w for w in data["warnings"]), data["warnings"]
    values = [_field(e, check) for e in data["endpoints"]]
    assert all(v is None for v in values), values[:3]


def _field(item: Mapping[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        item = item[part]
    return item
