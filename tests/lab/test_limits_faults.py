"""Rate limits, injected faults and shutdown, on a lab of this module's own (empty scale, limits on)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from vpce_console.lab.child import start_lab_child

    handle = start_lab_child(scale="empty", seed=3, traffic=0, extra_args=["--faults", "kms=5xx"])
    yield handle
    handle.stop()


@pytest.fixture
def op(lab: Any, lab_client: Any) -> Any:
    keys = lab.ready["operator"]
    return lambda service: lab_client(lab.ready, service, keys["access_key_id"], keys["secret_access_key"])


def _post(lab: Any, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(
        f"{lab.endpoint_url}{path}",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def _errors(call: Any, n: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        try:
            call()
        except ClientError as exc:
            out.append({**exc.response["Error"], "status": exc.response["ResponseMetadata"]["HTTPStatusCode"]})
    return out


def test_route53_is_limited_to_5_per_second(op: Any) -> None:
    r53 = op("route53")
    errors = _errors(r53.list_hosted_zones, 12)
    assert errors, "12 calls in a burst must exceed 5 req/s"
    assert errors[0] == {"Type": "Sender", "Code": "Throttling", "Message": "Rate exceeded", "status": 400}


def test_lookup_events_is_limited_to_2_per_second(op: Any) -> None:
    trail = op("cloudtrail")
    errors = _errors(lambda: trail.lookup_events(MaxResults=1), 6)
    assert errors and errors[0]["Code"] == "ThrottlingException" and errors[0]["status"] == 400


def test_ec2_limit_shape(lab: Any, op: Any) -> None:
    _post(lab, "/lab-api/limits", {"rates": {"ec2:describe": 1}})
    try:
        errors = _errors(op("ec2").describe_vpcs, 4)
    finally:
        _post(lab, "/lab-api/limits", {"rates": {"ec2:describe": 100, "route53": 5, "cloudtrail:LookupEvents": 2}})
    assert errors and errors[0]["Code"] == "RequestLimitExceeded" and errors[0]["status"] == 503


def test_faults_from_the_command_line(op: Any) -> None:
    with pytest.raises(ClientError) as exc:
        op("kms").list_keys()
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_faults_route(lab: Any, op: Any) -> None:
    listed = _post(
        lab, "/lab-api/faults", {"spec": "sqs:ListQueues=throttle,ec2:DescribeVpcs=5xx,sts=drop,logs=latency:0.4"}
    )
    assert [f["kind"] for f in listed["faults"]] == ["throttle", "5xx", "drop", "latency"]
    try:
        with pytest.raises(ClientError) as throttled:
            op("sqs").list_queues()
        assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        with pytest.raises(ClientError) as broken:
            op("ec2").describe_vpcs()
        assert broken.value.response["Error"]["Code"] == "InternalError"
        with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
            op("sts").get_caller_identity()
        started = time.monotonic()
        op("logs").describe_log_groups()
        assert time.monotonic() - started >= 0.4
    finally:
        assert _post(lab, "/lab-api/faults", {"spec": "", "replace": True})["faults"] == []
    assert op("ec2").describe_vpcs()["Vpcs"]


def test_bad_fault_spec_is_rejected(lab: Any) -> None:
    with pytest.raises(urllib.error.HTTPError) as bad:
        _post(lab, "/lab-api/faults", {"spec": "sqs=explode"})
    assert bad.value.code == 400


def test_sigterm_stops_within_5_seconds(lab: Any) -> None:
    """Last in the module: stops the module's lab."""
    ready_file = Path(lab.ready_file)
    assert ready_file.exists()
    port = int(lab.endpoint_url.rsplit(":", 1)[1])
    started = time.monotonic()
    lab.process.send_signal(signal.SIGTERM)
    code = lab.process.wait(timeout=5)
    assert time.monotonic() - started < 5
    assert code == 0
    assert not ready_file.exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_child_dies_with_its_parent(tmp_path: Path) -> None:
    script = (
        "from vpce_console.lab.child import start_lab_child\n"
        "import time\n"
        "h = start_lab_child(scale='empty', traffic=0)\n"
        "print(h.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(child_pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(child_pid, signal.SIGKILL)
            pytest.fail("the lab child outlived its parent")
    finally:
        if parent.poll() is None:
            parent.kill()
