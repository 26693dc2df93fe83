"""Save an SVG screenshot of every console pane into docs/ (`python docs/screenshots.py`).

The data is the recorded fixed-seed demo lab the snapshot tests use (read through the real services), so the
pictures match the tests and never show a moving clock.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.snapshots.conftest import FROZEN_NOW, FrozenBackend, load_recorded, until_loaded  # noqa: E402
from tests.snapshots.test_snapshots import HUB_SCOPED, _rollback_watch, _rollout_converged  # noqa: E402
from textual.widgets import TextArea  # noqa: E402

from vpce_console.tui.app import VpceApp  # noqa: E402

OUT = Path(__file__).resolve().parent


def app(**kwargs: Any) -> VpceApp:
    header, snapshot, denials = load_recorded()
    backend = FrozenBackend(header, snapshot, denials)

    async def connect() -> FrozenBackend:
        return backend

    return VpceApp(connect, clock=lambda: FROZEN_NOW, monotonic=lambda: FROZEN_NOW, tail=True, **kwargs)  # type: ignore[arg-type]


async def shoot(name: str, console: VpceApp, steps: Any = None) -> None:
    async with console.run_test(size=(120, 36)) as pilot:
        await until_loaded(pilot)
        if steps is not None:
            await steps(pilot)
            await pilot.pause(0.2)
        console.save_screenshot(f"{name}.svg", path=str(OUT))
        print(f"docs/{name}.svg")


async def editor(pilot: Any) -> None:
    await pilot.press("slash", *"sqs", "enter", "e")
    screen = pilot.app.screen
    area = screen.query_one("#policy-text", TextArea)
    area.replace(HUB_SCOPED, area.document.start, area.document.end)
    for _ in range(200):
        if screen.impact_result is not None and any(f.code == "hub-scoped-key" for f in screen.findings):
            break
        await pilot.pause(0.02)
    screen.query_one("#findings-table").focus()


async def help_screen(pilot: Any) -> None:
    await pilot.press("question_mark")


async def details(pilot: Any) -> None:
    await pilot.press("enter")


async def main() -> None:
    await shoot("console-endpoints", app())
    for pane in ("subscribers", "doctor", "cost", "denials", "history"):
        await shoot(f"console-{pane}", app(initial_pane=pane))
    await shoot("console-details", app(), details)
    await shoot("console-help", app(), help_screen)
    await shoot("console-editor", app(), editor)
    await shoot("console-rollout", app(), _rollout_converged)
    await shoot("console-rollback", app(), _rollback_watch)
    await shoot("console-light", app(theme="vpce-light"))
    await shoot("console-high-contrast", app(theme="vpce-high-contrast"))


if __name__ == "__main__":
    asyncio.run(main())
