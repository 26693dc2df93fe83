"""Deterministic console data for snapshot tests: a fixed-seed lab read once through the real services.

The snapshot is loaded before any test renders, so screenshots never depend on timing; the app then runs on a
backend that serves that data with a frozen clock (no timestamps or timers move on screen).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from vpce_console.tui.app import VpceApp
from vpce_console.tui.models import ApplyOutcome, DenialRow, HeaderInfo, Snapshot, WatchView

SNAPSHOT_SEED = 21
"""Seed of the snapshot lab: ids and data repeat run after run."""

FROZEN_NOW = 1_780_000_000.0
"""The frozen clock of snapshot apps (2026-05-28 20:26:40 UTC)."""

CLOUDTRAIL = Path(__file__).resolve().parents[1] / "data" / "cloudtrail"


@pytest.fixture(scope="session")
def snapshot_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HeaderInfo, Snapshot]]:
    """Header and snapshot of a fresh fixed-seed demo lab, read through the real services once."""
    from vpce_console.commands.console import make_connector
    from vpce_console.lab.child import start_lab_child

    home = tmp_path_factory.mktemp("snapshot-home")
    saved = {k: os.environ.get(k) for k in ("HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
    os.environ.update({"HOME": str(home), "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    try:
        handle = start_lab_child(scale="demo", seed=SNAPSHOT_SEED, traffic=0)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        folder = tmp_path_factory.mktemp("snapshot-lab")
        ready = folder / "ready.json"
        ready.write_text(json.dumps(handle.ready), encoding="utf-8")
        config = folder / "config.yaml"
        config.write_text("aws: {total_max_attempts: 5}\n", encoding="utf-8")
        args = argparse.Namespace(lab=False, lab_ready=str(ready), config=str(config), profile=None, region=None)

        async def load() -> tuple[HeaderInfo, Snapshot]:
            backend = await make_connector(args, read_only=True)()
            try:
                return await backend.header(), await backend.load()
            finally:
                await backend.close()

        yield asyncio.run(load())
    finally:
        handle.stop()


def fixture_denials() -> list[DenialRow]:
    """Denials from the CloudTrail fixtures, classified by the real tail (fixed event times)."""
    from vpce_console.commands.console import denial_row
    from vpce_console.services.tail import DenialTail

    tail = DenialTail(ring_size=100)
    rows: list[DenialRow] = []
    for path in sorted(CLOUDTRAIL.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        for item in record.get("Records", [record]) if isinstance(record, dict) else record:
            denial = tail.ingest(item)
            if denial is not None:
                rows.append(denial_row(denial))
    return sorted(rows, key=lambda r: (r.at, r.action))


class FrozenBackend:
    """Serves a loaded snapshot and fixed denials; never writes."""

    def __init__(self, header: HeaderInfo, snapshot: Snapshot, denials: Sequence[DenialRow]) -> None:
        self._header = header
        self._snapshot = snapshot
        self._denials = list(denials)

    async def header(self) -> HeaderInfo:
        return self._header

    async def load(self, progress: Any = None) -> Snapshot:
        return self._snapshot

    async def rollout(
        self, endpoint_id: str, expected: str | None, draft: str, *, timeout: float | None = None
    ) -> AsyncIterator[WatchView]:
        raise AssertionError("snapshot apps never write")
        yield  # pragma: no cover

    async def rollback(self, endpoint_id: str) -> ApplyOutcome:
        raise AssertionError("snapshot apps never write")

    async def tail(self) -> AsyncIterator[Sequence[DenialRow]]:
        yield self._denials
        await asyncio.Event().wait()

    async def close(self) -> None:
        return None


@pytest.fixture
def frozen_app(snapshot_data: tuple[HeaderInfo, Snapshot]) -> Any:
    """Factory of console apps on the frozen data: `frozen_app(initial_pane="cost")`."""
    header, snapshot = snapshot_data

    def build(**kwargs: Any) -> VpceApp:
        backend = FrozenBackend(header, snapshot, fixture_denials())

        async def connect() -> FrozenBackend:
            return backend

        kwargs.setdefault("tail", True)
        return VpceApp(connect, clock=lambda: FROZEN_NOW, monotonic=lambda: FROZEN_NOW, **kwargs)  # type: ignore[arg-type]

    return build


async def until_loaded(pilot: Any) -> None:
    """Wait for the first snapshot and the denial batch to be on screen."""
    from vpce_console.tui.widgets.panes import DenialsPane, EndpointsPane

    app = pilot.app
    for _ in range(400):
        panes = app.screen.query(EndpointsPane)
        if panes and panes.first().loaded and app.screen.query_one(DenialsPane).total_seen:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.3)  # one flush of the denials pane
