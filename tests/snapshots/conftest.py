"""Deterministic console data for snapshot tests: a fixed-seed lab read through the real services, recorded.

`record.py` starts a demo lab (seed SNAPSHOT_SEED), loads it with the console's own backend (inventory, doctor, cost,
personas) and classifies the CloudTrail fixtures with the real tail; the JSON it writes is what the apps show here.
Recording (instead of reading a lab each run) keeps the screenshots stable while the lab evolves; the app runs on a
backend that serves the recording with a frozen clock, so no timestamp or timer moves on screen.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import tempfile
import typing
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from vpce_console.tui.app import VpceApp
from vpce_console.tui.models import (
    ChangeRow,
    DenialHistory,
    DenialRow,
    HeaderInfo,
    Snapshot,
    TrailUsage,
    Usage,
    WatchView,
)

SNAPSHOT_SEED = 21
"""Seed of the snapshot lab: ids and data repeat run after run."""

FROZEN_NOW = 1_780_000_000.0
"""The frozen clock of snapshot apps (2026-05-28 20:26:40 UTC)."""

CLOUDTRAIL = Path(__file__).resolve().parents[1] / "data" / "cloudtrail"


SNAPSHOT_FILE = Path(__file__).with_name("lab_snapshot.json")
"""The recorded data (`python tests/snapshots/record.py` rewrites it from a fresh fixed-seed lab)."""


def record_lab_snapshot(path: Path = SNAPSHOT_FILE) -> None:
    """Start a fixed-seed demo lab, read it through the real services, and write header, snapshot and denials."""
    from vpce_console.commands.console import make_connector
    from vpce_console.lab.child import start_lab_child

    with tempfile.TemporaryDirectory() as folder, start_lab_child(scale="demo", seed=SNAPSHOT_SEED, traffic=0) as lab:
        ready = Path(folder) / "ready.json"
        ready.write_text(json.dumps(lab.ready), encoding="utf-8")
        config = Path(folder) / "config.yaml"
        config.write_text("aws: {total_max_attempts: 5}\n", encoding="utf-8")
        args = argparse.Namespace(lab=False, lab_ready=str(ready), config=str(config), profile=None, region=None)

        async def load() -> tuple[HeaderInfo, Snapshot]:
            backend = await make_connector(args, read_only=True)()
            try:
                return await backend.header(), await backend.load()
            finally:
                await backend.close()

        header, snapshot = asyncio.run(load())
    data = {
        "header": dataclasses.asdict(header),
        # the persona selection is rebuilt from personas and hub on load (and carries the lab's keys): not recorded
        "snapshot": dataclasses.asdict(dataclasses.replace(snapshot, persona_set=None)),
        "denials": [dataclasses.asdict(row) for row in fixture_denials()],
    }
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _build(cls: Any, data: Any) -> Any:
    """Rebuild a frozen dataclass from its `asdict` form (lists back to tuples, nested dataclasses by type)."""
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name not in data:
            continue
        value = data[field.name]
        hint = hints[field.name]
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            value = _build(hint, value)
        elif isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        values[field.name] = value
    return cls(**values)


def load_recorded() -> tuple[HeaderInfo, Snapshot, list[DenialRow]]:
    """The recorded header, snapshot (with personas and hub as engine values) and denials."""
    from vpce_console.policy.personas import HubEndpoint, Persona
    from vpce_console.tui import models

    data = json.loads(SNAPSHOT_FILE.read_text(encoding="utf-8"))
    raw = data["snapshot"]
    snapshot = Snapshot(
        endpoints=tuple(_build(models.EndpointRow, e) for e in raw["endpoints"]),
        spokes=tuple(_build(models.SpokeRow, e) for e in raw["spokes"]),
        services=tuple(raw["services"]),
        cells=tuple(_build(models.SubscriberCell, e) for e in raw["cells"]),
        doctor=tuple(_build(models.DoctorRow, e) for e in raw["doctor"]),
        cost=tuple(_build(models.CostRow, e) for e in raw["cost"]),
        hub=_build(HubEndpoint, raw["hub"]) if raw["hub"] else None,
        personas=tuple(_build(Persona, p) for p in raw["personas"]),
    )
    denials = [_build(DenialRow, d) for d in data["denials"]]
    return _build(HeaderInfo, data["header"]), snapshot, denials


@pytest.fixture(scope="session")
def snapshot_data() -> tuple[HeaderInfo, Snapshot, list[DenialRow]]:
    """Recorded lab data: stable across lab changes until someone re-records it on purpose."""
    return load_recorded()


def fixture_denials() -> list[DenialRow]:
    """Denials from the CloudTrail fixtures, classified by the real tail (fixed event times)."""
    from vpce_console.services.tail import DenialTail
    from vpce_console.tui.rows import denial_row

    tail = DenialTail(ring_size=100)
    rows: list[DenialRow] = []
    for path in sorted(CLOUDTRAIL.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        for item in record.get("Records", [record]) if isinstance(record, dict) else record:
            denial = tail.ingest(item)
            if denial is not None:
                rows.append(denial_row(denial))
    return sorted(rows, key=lambda r: (r.at, r.action))


def fixed_changes(snapshot: Snapshot) -> list[ChangeRow]:
    """A short journal on the sqs endpoint: an apply that converged and was rolled back, then one in force."""
    import hashlib

    sqs = next(e for e in snapshot.endpoints if e.service == "sqs")
    deployed = sqs.policy_text or ""
    in_force = hashlib.sha256(deployed.encode()).hexdigest()
    arn = "arn:aws:iam::111111111111:user/vpce-operator"
    return [
        ChangeRow("20260528T200102-1a2b3c4d", "apply", sqs.endpoint_id, FROZEN_NOW - 1538, "converged",
                  "ee2d4d0c3e7f", "da3814db6cd6", "0" * 64, True, caller=arn),
        ChangeRow("20260528T200511-5e6f7a8b", "rollback", sqs.endpoint_id, FROZEN_NOW - 1289, "converged",
                  "da3814db6cd6", "ee2d4d0c3e7f", "1" * 64, True, rollback_of="20260528T200102-1a2b3c4d", caller=arn),
        ChangeRow("20260528T201733-9c0d1e2f", "apply", sqs.endpoint_id, FROZEN_NOW - 547, "converged",
                  "ee2d4d0c3e7f", in_force[:12], in_force, True, caller=arn),
    ]  # fmt: skip


def fixed_usage(snapshot: Snapshot) -> TrailUsage:
    """Deterministic trail counts for the screenshots (the functional tests compare real ones with the lab's truth)."""
    endpoints = sorted(snapshot.endpoints, key=lambda e: (e.service, e.endpoint_id))
    per_endpoint = {
        e.endpoint_id: Usage(1_000 + 2_345 * i, i % 3, "2026-05-28T20:20:00Z") for i, e in enumerate(endpoints[:-1])
    }
    cells = {
        (c.vpc_id, c.service): Usage(10 + 37 * i, i % 2, f"2026-05-28T19:4{i % 10}:00Z")
        for i, c in enumerate(snapshot.cells)
        if c.status == "associated" and i % 3 == 0
    }
    return TrailUsage(
        "ok", "7d", "2026-05-21T20:26:40Z", per_endpoint, cells, records=sum(u.calls for u in per_endpoint.values())
    )


class FrozenBackend:
    """Serves a loaded snapshot and fixed denials; never writes."""

    def __init__(self, header: HeaderInfo, snapshot: Snapshot, denials: Sequence[DenialRow]) -> None:
        self._header = header
        self._snapshot = snapshot
        self._denials = list(denials)
        self._replays: dict[tuple[str, str], dict[str, Any]] = {}

    async def header(self) -> HeaderInfo:
        return self._header

    async def load(self, progress: Any = None) -> Snapshot:
        return self._snapshot

    async def rollout(
        self,
        endpoint_id: str,
        expected: str | None,
        draft: str,
        *,
        timeout: float | None = None,
        break_lease: str | None = None,
    ) -> AsyncIterator[WatchView]:
        raise AssertionError("snapshot apps never write")
        yield  # pragma: no cover

    async def rollback(
        self, endpoint_id: str, *, to: str | None = None, timeout: float | None = None, break_lease: str | None = None
    ) -> AsyncIterator[WatchView]:
        raise AssertionError("snapshot apps never write")
        yield  # pragma: no cover

    async def resume(self, endpoint_id: str, *, timeout: float | None = None) -> AsyncIterator[WatchView]:
        raise AssertionError("snapshot apps never watch")
        yield  # pragma: no cover

    async def plan(self, endpoint_id: str, draft: str, expected: str | None = None) -> Any:
        """A plan built from the services' plan types with the recorded personas' words (no lab to probe)."""
        import hashlib

        from vpce_console.services.plan import NEWLY_DENIED, AffectedCell, PlanProbe, RolloutPlan, describe_changes

        deployed = expected or '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
        names = [p.name for p in self._snapshot.personas][:4]
        return RolloutPlan(
            kind="apply",
            endpoint_id=endpoint_id,
            service="sqs",
            caller=self._header.caller_arn,
            deployed_version=hashlib.sha256(deployed.encode()).hexdigest()[:12],
            new_version=hashlib.sha256(draft.encode()).hexdigest()[:12],
            changes=describe_changes(deployed, draft),
            diff="",
            newly_denied=tuple(AffectedCell(n, "sqs:SendMessage", "*", NEWLY_DENIED) for n in names),
            personas=len(self._snapshot.personas),
            personas_source="lab",
            probes_denied=(PlanProbe("p1", names[0], "sqs:SendMessage", "*", "allow", "implicit_deny", NEWLY_DENIED),),
        )

    async def replay(self, endpoint_id: str, draft: str, *, days: int = 7) -> dict[str, Any]:
        """The draft replayed (the real pure replay) against a fixed week: three callers' call shapes."""
        from vpce_console.policy.partial import compile_partial
        from vpce_console.policy.record import ContextMap
        from vpce_console.services.replay import replay_shapes
        from vpce_console.services.replay_model import PolicyVersion, Shape

        deployed = next(e.policy_text for e in self._snapshot.endpoints if e.endpoint_id == endpoint_id)
        accounts = sorted({p.account_id for p in self._snapshot.personas})[:3]
        shapes = [
            Shape("AWSAccount", None, account, None, "sqs.amazonaws.com", action, f"10.{i}.0.9", "us-east-1",
                  None, False, 0, calls, "2026-05-21T08:00:00Z", "2026-05-28T19:00:00Z")
            for i, account in enumerate(accounts)
            for action, calls in (("SendMessage", 400 - 100 * i), ("ReceiveMessage", 310 - 90 * i))
        ]  # fmt: skip
        report = replay_shapes(
            shapes,
            [PolicyVersion(None, deployed, "deployed")],
            compile_partial(draft),
            endpoint_id=endpoint_id,
            endpoint_vpc=None,
            facts=ContextMap(),
        )
        doc: dict[str, Any] = report.to_json()
        self._replays[(endpoint_id, draft)] = doc
        return doc

    def cached_replay(self, endpoint_id: str, draft: str) -> dict[str, Any] | None:
        return self._replays.get((endpoint_id, draft))

    def observed_callers(self, endpoint_id: str, draft: str) -> list[dict[str, Any]]:
        return list((self._replays.get((endpoint_id, draft)) or {}).get("callers", ()))

    def replay_facts(self) -> Any:
        """Nothing known beyond the trail records (no `replay:` config)."""
        from vpce_console.policy.record import ContextMap

        return ContextMap()

    def probe_roles(self) -> dict[str, str]:
        return {}

    async def rollback_plan(self, endpoint_id: str, to: str | None = None) -> Any:
        raise AssertionError("snapshot apps never roll back")

    async def history(self, endpoint_id: str | None = None) -> Sequence[ChangeRow]:
        return [c for c in fixed_changes(self._snapshot) if endpoint_id in (None, c.endpoint_id)]

    async def trail_usage(self, progress: Any = None) -> TrailUsage:
        """Fixed calls over a 7-day window: every endpoint but the last has some, one associated cell in three."""
        return fixed_usage(self._snapshot)

    async def denial_history(self, progress: Any = None) -> DenialHistory:
        """The fixture denials as the trail's grouped history of the day before (×3 each)."""
        rows = tuple(
            dataclasses.replace(row, at=row.at - 86_400 + 600, count=3, history=True, reason="VpceAccessDenied")
            for row in sorted(self._denials, key=lambda r: -r.at)[:4]
        )
        return DenialHistory("ok", "24h", rows)

    async def tail(self) -> AsyncIterator[Sequence[DenialRow]]:
        yield self._denials
        await asyncio.Event().wait()

    async def close(self) -> None:
        return None


@pytest.fixture
def frozen_app(snapshot_data: tuple[HeaderInfo, Snapshot, list[DenialRow]]) -> Any:
    """Factory of console apps on the frozen data: `frozen_app(initial_pane="cost")`."""
    header, snapshot, denials = snapshot_data

    def build(**kwargs: Any) -> VpceApp:
        backend = FrozenBackend(header, snapshot, denials)

        async def connect() -> FrozenBackend:
            return backend

        kwargs.setdefault("tail", True)
        return VpceApp(connect, clock=lambda: FROZEN_NOW, monotonic=lambda: FROZEN_NOW, **kwargs)  # type: ignore[arg-type]

    return build


async def until_loaded(pilot: Any) -> None:
    """Wait for the first snapshot and the denial batch to be on screen."""
    from vpce_console.tui.widgets.panes import DenialsPane, Pane

    app = pilot.app
    for _ in range(3000):  # up to a minute on a loaded CI machine; a snapshot of a half-loaded screen is useless
        panes = list(app.screen.query(Pane))
        denials = app.screen.query(DenialsPane)
        mains = [screen for screen in app.screen_stack if hasattr(screen, "trail_usage")]
        trail = all(m.trail_usage is not None and m.denials_backfilled for m in mains)
        if panes and all(pane.loaded for pane in panes) and denials and denials.first().total_seen and trail:
            break
        await pilot.pause(0.02)
    else:
        raise AssertionError("the panes never finished loading")
    await pilot.pause(0.3)  # one flush of the denials pane
    await settle(pilot)


async def settle(pilot: Any) -> None:
    """Let highlight/detail messages and DataTable column sizing (done on idle) finish, whatever the load."""
    from textual.widgets import DataTable

    for _ in range(3):
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
    for _ in range(500):
        # DataTable sizes auto-width columns on its next idle; a busy CI machine can screenshot before that.
        pending = [t for t in pilot.app.screen.query(DataTable) if t._require_update_dimensions or t._new_rows]
        if not pending:
            break
        await pilot.pause(0.02)
    await pilot.pause()
