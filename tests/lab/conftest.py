"""Clients for the shared lab: real boto3 over HTTP, one attempt per call unless a test is about retries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

ONE_TRY = Config(retries={"total_max_attempts": 1}, read_timeout=30)


def make_client(ready: dict[str, Any], service: str, key: str, secret: str, token: str | None = None) -> Any:
    """A boto3 client against the lab with explicit keys."""
    return boto3.client(
        service,
        endpoint_url=ready["endpoint_url"],
        region_name=ready["region"],
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=ONE_TRY,
    )


@pytest.fixture
def operator(lab_ready: dict[str, Any]) -> Callable[[str], Any]:
    """`operator("ec2")` -> a client with the operator's (control-plane) keys in the hub account."""
    op = lab_ready["operator"]
    return lambda service: make_client(lab_ready, service, op["access_key_id"], op["secret_access_key"])


@pytest.fixture
def persona(lab_ready: dict[str, Any]) -> Callable[[str, str], Any]:
    """`persona("web-dev", "sqs")` -> a client signed with that persona's keys (data plane)."""
    by_name = {p["name"]: p for p in lab_ready["personas"]}

    def client(name: str, service: str) -> Any:
        p = by_name[name]
        return make_client(lab_ready, service, p["access_key_id"], p["secret_access_key"])

    return client


@pytest.fixture
def by_name(lab_ready: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Personas by name."""
    return {p["name"]: p for p in lab_ready["personas"]}


@pytest.fixture
def spoke_session(lab_ready: dict[str, Any]) -> Callable[[str, str], Any]:
    """`spoke_session(account, service)` -> a client in a spoke account via the read role (cross-account reads)."""

    def client(account: str, service: str) -> Any:
        op = lab_ready["operator"]
        sts = make_client(lab_ready, "sts", op["access_key_id"], op["secret_access_key"])
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{lab_ready['read_role_name']}", RoleSessionName="vpce-console"
        )["Credentials"]
        return make_client(lab_ready, service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    return client


@pytest.fixture(scope="module")
def own_lab(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A demo lab of this module's own (instant propagation, no rate limits), for tests that change policies."""
    import os

    from vpce_console.lab.child import start_lab_child

    saved = os.environ.get("HOME")
    os.environ["HOME"] = str(tmp_path_factory.mktemp("own-lab-home"))
    try:
        handle = start_lab_child(scale="demo", seed=11, propagation="0:0", traffic=0, no_limits=True)
    finally:
        if saved is not None:
            os.environ["HOME"] = saved
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def lab_client() -> Callable[..., Any]:
    """`lab_client(ready, service, key, secret, token=None)`: one-attempt boto3 client against a lab."""
    return make_client
