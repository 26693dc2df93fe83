"""Console fixtures: a VpceApp wired to the real services over the session lab (through a ready-file)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from vpce_console.tui.app import VpceApp

TEST_CONFIG = """
aws:
  total_max_attempts: 3
watch:
  poll_seconds: 0.5
  timeout_seconds: 60
  required_streak: 2
"""
"""Few attempts (a fault shows within seconds; the lab enforces real rate limits); a short propagation watch."""


def write_ready(ready: Mapping[str, Any], folder: Path) -> Path:
    """The ready-file a console attaches to with `--lab-ready`."""
    path = folder / "ready.json"
    path.write_text(json.dumps(ready), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def console_files(lab_ready: Mapping[str, Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Ready-file and test config for the shared session lab."""
    folder = tmp_path_factory.mktemp("console")
    config = folder / "config.yaml"
    config.write_text(TEST_CONFIG, encoding="utf-8")
    return write_ready(lab_ready, folder), config


def lab_args(ready_file: Path, config_file: Path) -> argparse.Namespace:
    """The parsed flags of `vpce --lab-ready FILE --config FILE`."""
    return argparse.Namespace(lab=False, lab_ready=str(ready_file), config=str(config_file), profile=None, region=None)


def make_app(
    ready_file: Path, config_file: Path, *, read_only: bool = True, first_snapshot: Any = None, **kwargs: Any
) -> VpceApp:
    """A console as `vpce --lab-ready FILE --config FILE` builds it.

    `first_snapshot` (a Snapshot the real services already loaded from this lab) answers the first load only, so
    a test does not pay for a full inventory read it has already paid for; refreshes read the lab again.
    """
    from vpce_console.commands.console import make_connector
    from vpce_console.commands.console_backend import ServicesBackend
    from vpce_console.config import load_config

    args = lab_args(ready_file, config_file)
    config = load_config(str(config_file))
    connect = make_connector(args, read_only=read_only)

    async def connect_with_cache() -> Any:
        backend = await connect()
        if first_snapshot is not None:
            assert isinstance(backend, ServicesBackend)
            load, served = backend.load, []

            async def first_load(progress: Any = None) -> Any:
                if not served:  # the first load only: refreshes read the lab again
                    served.append(True)
                    return first_snapshot
                return await load(progress)

            backend.load = first_load  # type: ignore[method-assign]
        return backend

    kwargs.setdefault("tail", False)
    kwargs.setdefault("trail", False)  # the trail tests turn it on: a sync per test costs the others time
    return VpceApp(connect_with_cache, read_only=read_only, watch_timeout=config.watch.timeout_seconds, **kwargs)


@pytest.fixture(scope="session")
def lab_snapshot(console_files: tuple[Path, Path]) -> Any:
    """The session lab read once through the real services (inventory, doctor, cost) as the console's snapshot."""
    from vpce_console.commands.console import make_connector

    async def load() -> Any:
        backend = await make_connector(lab_args(*console_files), read_only=True)()
        try:
            return await backend.load()
        finally:
            await backend.close()

    return asyncio.run(load())


@pytest.fixture
def console_app(console_files: tuple[Path, Path], lab_snapshot: Any) -> Callable[..., VpceApp]:
    """Factory: `console_app(read_only=True, tail=False, ...)` on the shared lab."""
    ready, config = console_files

    def build(**kwargs: Any) -> VpceApp:
        kwargs.setdefault("first_snapshot", lab_snapshot)
        return make_app(ready, config, **kwargs)

    return build


async def wait_for(pilot: Any, predicate: Callable[[], bool], *, timeout: float = 30.0, what: str = "") -> None:
    """Let the app run until `predicate()` holds (workers finish in their own time; no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            notes = [f"{n.title}: {n.message}" for n in pilot.app._notifications]
            status = [str(h.status) for h in pilot.app.screen.query("ConsoleHeader")]
            raise AssertionError(f"timed out waiting for {what or predicate}; header {status}; notifications: {notes}")
        await pilot.pause(0.05)


def notifications(app: VpceApp) -> list[str]:
    """Every notification shown so far, as `title: message`."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def past_the_plan(pilot: Any, rollout: Any, *, timeout: float = 240.0) -> None:
    """From the lint step through the plan: `n`, wait until the plan step has shown its replay line, `n`.

    `rollout` must be the screen in front: waiting on an earlier rollout screen would return at once and race the
    new plan (the CI failure of stop 17)."""
    assert pilot.app.screen is rollout, f"past_the_plan on {rollout!r}, but {pilot.app.screen!r} is in front"
    assert rollout.step == "lint", f"past_the_plan starts on the lint step, not {rollout.step}"
    await pilot.press("n")
    await wait_for(pilot, lambda: rollout.replay_seen, timeout=timeout, what="the plan step's replay line")
    await pilot.press("n")
    await wait_for(pilot, lambda: rollout.step == "diff", timeout=timeout, what="the diff step")


def probe_config(folder: Path, hub: str, *, poll: float = 0.5, timeout: float = 60) -> Path:
    """A config for a rollout on a lab: quick polls, two in a row to converge, the hub's probe role (team=probe)."""
    config = folder / "config.yaml"
    config.write_text(
        "aws: {total_max_attempts: 3}\n"
        f"watch: {{poll_seconds: {poll:g}, timeout_seconds: {timeout:g}, required_streak: 2}}\n"
        "probes:\n"
        f"  - name: probe\n    role_arn: arn:aws:iam::{hub}:role/vpce-console-probe\n"
        "    session_tags: {team: probe}\n",
        encoding="utf-8",
    )
    return config
