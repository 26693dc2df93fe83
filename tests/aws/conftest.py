"""Fixtures for tests of the aws layer, inventory and doctor against the shared lab (through the real SDK)."""

from __future__ import annotations

import argparse
import asyncio
import json
import urllib.request
from collections.abc import Mapping
from typing import Any

import pytest

from vpce_console.aws.session import AwsGateway
from vpce_console.config import Config
from vpce_console.connect import Target, connect
from vpce_console.services.inventory import Inventory, load_inventory


def lab_args(ready_file: str) -> argparse.Namespace:
    """The common CLI flags for attaching to a lab through its ready-file."""
    return argparse.Namespace(lab=False, lab_ready=ready_file, config=None, region=None, profile=None)


def lab_post(ready: Mapping[str, Any], path: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """POST a control route of the lab (faults, limits)."""
    request = urllib.request.Request(
        f"{ready['endpoint_url']}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.loads(answer.read()))


def lab_get(ready: Mapping[str, Any], path: str) -> dict[str, Any]:
    """GET a control route of the lab."""
    with urllib.request.urlopen(f"{ready['endpoint_url']}{path}", timeout=10) as answer:
        return dict(json.loads(answer.read()))


def run_inventory(config: Config, target: Target, **gateway_options: Any) -> tuple[Inventory, AwsGateway]:
    """Load a full inventory with a fresh gateway; returns the gateway too, for its stats."""

    async def go() -> tuple[Inventory, AwsGateway]:
        async with AwsGateway(target, config, **gateway_options) as gateway:
            return await load_inventory(gateway, config), gateway

    return asyncio.run(go())


@pytest.fixture(scope="session")
def lab_ready_file(lab_handle: Any) -> str:
    """Path of the shared lab's ready-file."""
    return str(lab_handle.ready_file)


@pytest.fixture(scope="session")
def lab_target(lab_ready_file: str) -> tuple[Config, Target]:
    """Config (with the lab's suggestions) and target, exactly as the CLI resolves them for --lab-ready."""
    return connect(lab_args(lab_ready_file))


@pytest.fixture(scope="session")
def lab_inventory(lab_target: tuple[Config, Target], lab_ready: Mapping[str, Any]) -> tuple[Inventory, AwsGateway, int]:
    """One full inventory of the shared lab, single attempt per call (the limiter must avoid every throttle).

    Also returns how many throttles the lab itself counted while it ran.
    """
    config, target = lab_target
    before = int(lab_get(lab_ready, "/lab-api/stats").get("throttled", 0))
    inventory, gateway = run_inventory(config, target, total_max_attempts=1)
    after = int(lab_get(lab_ready, "/lab-api/stats").get("throttled", 0))
    return inventory, gateway, after - before
