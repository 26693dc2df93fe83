"""Eventual consistency: after ModifyVpcEndpoint the old document keeps being enforced for a while."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.lab

DENY_ALL = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}
ALLOW_ALL = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}


def _truth(ready: dict[str, Any]) -> dict[str, Any]:
    with urllib.request.urlopen(f"{ready['endpoint_url']}/lab-api/propagation", timeout=10) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def _allowed(client: Any) -> bool:
    try:
        client.describe_repositories()
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDeniedException"
        return False
    return True


def _wait_until(moment: float) -> None:
    while (left := moment - time.time()) > 0:
        time.sleep(min(left, 0.2))


def test_old_then_new_across_the_window(lab_ready: dict[str, Any], operator: Any, persona: Any) -> None:
    """The shared lab has a 1-2 s window; the ecr.api endpoint is used by no other test."""
    endpoint = lab_ready["hub"]["endpoints"]["ecr.api"]
    ec2 = operator("ec2")
    ecr = persona("web-dev", "ecr")
    assert _allowed(ecr)
    try:
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PolicyDocument=json.dumps(DENY_ALL))
        first = _allowed(ecr)
        shown = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]["PolicyDocument"]
        truth = _truth(lab_ready)["endpoints"][endpoint]
        assert first is True  # the fleet still enforces the old document right after the change
        assert json.loads(shown) == DENY_ALL  # while the API already returns the new one
        window = truth["fully_propagated_at"] - truth["changed_at"]
        assert 1.0 <= window <= 2.0
        seen = []
        while time.time() < truth["fully_propagated_at"]:
            seen.append(_allowed(ecr))
            time.sleep(0.05)
        assert len(seen) > 5
        after = [_allowed(ecr) for _ in range(10)]
        assert after == [False] * 10  # after the window only the new document applies
    finally:
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PolicyDocument=json.dumps(ALLOW_ALL))
        _wait_until(_truth(lab_ready)["endpoints"][endpoint]["fully_propagated_at"])
    assert _allowed(ecr)
