"""A lab of a test module's own (demo scale, traffic off) and the operator's view of it, through the real SDK.

The rollout, lease, rollback-retry and guided-rollout tests each need a lab whose policies they may change: the
same start, ready-file, probe-role config and operator clients, written once here.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROBE_ROLE = "arn:aws:iam::{hub}:role/vpce-console-probe"


@contextlib.contextmanager
def own_lab(folder: Path, *, probe_config: bool = True, **options: Any) -> Iterator[dict[str, Any]]:
    """Start a lab child with `options` (seed, propagation, …), isolated from the user's AWS files; stop it after.

    Yields {ready, ready_path, config, folder, endpoint (the sqs endpoint)}; `config` names the probe role.
    """
    from vpce_console.lab.child import start_lab_child

    saved = {k: os.environ.get(k) for k in ("HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
    os.environ.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    try:
        handle = start_lab_child(**{"scale": "demo", "traffic": 0, **options})
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        ready = dict(handle.ready)
        ready_path = folder / "ready.json"
        ready_path.write_text(json.dumps(ready))
        config = folder / "config.yaml"
        hub = ready["hub"]["account_id"]
        probes = (
            f"probes:\n  - name: probe\n    role_arn: {PROBE_ROLE.format(hub=hub)}\n    session_tags: {{team: probe}}\n"
        )
        config.write_text(probes if probe_config else "")
        yield {
            "ready": ready,
            "ready_path": str(ready_path),
            "config": str(config),
            "folder": folder,
            "endpoint": ready["hub"]["endpoints"]["sqs"],
        }
    finally:
        handle.stop()


def operator_client(ready: dict[str, Any], service: str) -> Any:
    """A boto3 client as the lab's hub operator."""
    import boto3

    op = ready["operator"]
    return boto3.client(
        service,
        endpoint_url=ready["endpoint_url"],
        region_name=ready["region"],
        aws_access_key_id=op["access_key_id"],
        aws_secret_access_key=op["secret_access_key"],
    )


def deployed(ready: dict[str, Any], endpoint: str) -> str:
    """The endpoint's policy document as AWS (the lab) holds it now."""
    items = operator_client(ready, "ec2").describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"]
    return str(items[0]["PolicyDocument"])


def set_faults(ready: dict[str, Any], spec: str) -> None:
    """Replace the lab's injected faults with `spec` ('' clears them)."""
    request = urllib.request.Request(
        ready["endpoint_url"] + "/lab-api/faults",
        data=json.dumps({"spec": spec, "replace": True}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
