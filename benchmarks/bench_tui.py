"""Console responsiveness; prints one JSON line.

1. Time to first frame and to endpoints listed for `vpce --lab` (demo lab), measured from process start in a
   child process, exactly as `make demo` starts it (the lab child and the SDK load after the first frame).
2. Lint-to-screen latency while typing in the policy editor: from a keystroke to its findings on screen
   (includes the deliberate 0.25 s typing debounce).
3. Event-loop lag p99 while the denial tail ingests 1,000 CloudTrail records/s through the real DenialTail into the
   denials pane (target ≤ 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TAIL_RATE = 1000
TAIL_SECONDS = 5.0
LAG_TICK = 0.01
TARGET_LAG_P99_MS = 50.0


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def measure(t0: float) -> dict[str, Any]:
    # Only what `vpce` itself imports before its first frame; the rest is imported after it.
    from textual import events, on

    from vpce_console.commands.console import make_connector
    from vpce_console.tui.app import VpceApp

    class TimedApp(VpceApp):
        """Records when the first frame has been painted."""

        first_frame: float | None = None

        @on(events.Mount)
        def arm_first_frame(self) -> None:
            self.call_after_refresh(self.mark_first_frame)

        def mark_first_frame(self) -> None:
            self.first_frame = self.first_frame or time.time()

    args = argparse.Namespace(lab=True, lab_ready=None, config=None, profile=None, region=None)
    app = TimedApp(make_connector(args, read_only=True), tail=False)
    out: dict[str, Any] = {}
    async with app.run_test(size=(120, 36)) as pilot:
        while app.first_frame is None:
            await pilot.pause(0.001)
        out["first_frame_ms"] = round((app.first_frame - t0) * 1000)
        from textual.widgets import TextArea

        from vpce_console.tui.screens.editor import PolicyEditorScreen
        from vpce_console.tui.widgets.panes import EndpointsPane

        while not (app.screen.query(EndpointsPane) and app.screen.query_one(EndpointsPane).loaded):
            if time.time() - t0 > 120:
                raise SystemExit("endpoints never loaded")
            await pilot.pause(0.02)
        out["endpoints_listed_ms"] = round((time.time() - t0) * 1000)
        out["endpoints"] = len(app.screen.query_one(EndpointsPane).snapshot.endpoints)

        await pilot.press("slash", *"sqs", "enter", "e")
        editor = app.screen
        assert isinstance(editor, PolicyEditorScreen)
        area = editor.query_one("#policy-text", TextArea)
        while editor.workers:
            await pilot.pause(0.01)
        latencies = []
        for index in range(8):
            before = editor.findings
            area.move_cursor(area.document.end)
            start = time.perf_counter()
            await pilot.press("x" if index % 2 == 0 else "backspace")
            while editor.findings is before:
                await pilot.pause(0.005)
            await pilot.pause(0)  # the findings table is redrawn in the same refresh
            latencies.append((time.perf_counter() - start) * 1000)
        out["lint_to_screen_ms_p50"] = round(statistics.median(latencies))
        out["lint_to_screen_ms_max"] = round(max(latencies))
    return out


def tail_records() -> list[dict[str, Any]]:
    """CloudTrail records (a VpceAccessDenied fixture) with unique event ids, one second's worth."""
    fixture = json.loads((ROOT / "tests" / "data" / "cloudtrail" / "vpce-implicit.json").read_text())
    records = fixture.get("Records", [fixture]) if isinstance(fixture, dict) else fixture
    base = records[0]
    return [dict(base, eventID=f"bench-{i:07d}") for i in range(TAIL_RATE * int(TAIL_SECONDS + 1))]


class FloodBackend:
    """Real tail classification at TAIL_RATE records/s; everything else is empty."""

    def __init__(self) -> None:
        from vpce_console.tui.models import HeaderInfo

        self.records = tail_records()
        self._header = HeaderInfo("111122223333", "us-east-1", "arn:aws:iam::111122223333:user/bench", True, True)
        self.ingested = 0

    async def header(self) -> Any:
        return self._header

    async def load(self, progress: Any = None) -> Any:
        from vpce_console.tui.models import Snapshot

        return Snapshot()

    async def tail(self) -> AsyncIterator[Sequence[Any]]:
        from vpce_console.services.tail import DenialTail
        from vpce_console.tui.rows import denial_row

        tail = DenialTail(ring_size=5000)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, record in enumerate(self.records):
            due = start + index / TAIL_RATE
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            denial = tail.ingest(record)
            self.ingested += 1
            if denial is not None:
                yield [denial_row(denial)]
        await asyncio.Event().wait()

    async def close(self) -> None:
        return None


async def measure_tail_lag() -> dict[str, Any]:
    from vpce_console.tui.app import VpceApp
    from vpce_console.tui.widgets.panes import DenialsPane

    backend = FloodBackend()

    async def connect() -> Any:
        return backend

    app = VpceApp(connect, tail=True, initial_pane="denials")  # type: ignore[arg-type]
    lags: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        loop = asyncio.get_running_loop()
        await pilot.pause(0.2)
        end = loop.time() + TAIL_SECONDS
        while loop.time() < end:
            before = loop.time()
            await asyncio.sleep(LAG_TICK)
            lags.append((loop.time() - before - LAG_TICK) * 1000)
        pane = app.screen.query_one(DenialsPane)
        seen = pane.total_seen
    return {
        "tail_records_per_s": TAIL_RATE,
        "tail_ingested": backend.ingested,
        "tail_rows_seen_by_pane": seen,
        "loop_lag_ms_p50": round(percentile(lags, 0.50), 1),
        "loop_lag_ms_p99": round(percentile(lags, 0.99), 1),
        "loop_lag_ms_max": round(max(lags), 1),
        "loop_lag_target_ms": TARGET_LAG_P99_MS,
    }


def child(t0: float) -> None:
    result = asyncio.run(measure(t0))
    print(json.dumps(result))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(float(sys.argv[2]))
        return
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "HOME": home,
            "XDG_STATE_HOME": f"{home}/state",
            "XDG_CONFIG_HOME": f"{home}/config",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        t0 = time.time()
        done = subprocess.run(
            [sys.executable, __file__, "--child", repr(t0)], env=env, capture_output=True, text=True, timeout=180
        )
        if done.returncode != 0:
            raise SystemExit(f"bench_tui child failed: {done.stderr[-2000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        os.environ.update({k: env[k] for k in ("HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME")})
        figures.update(asyncio.run(measure_tail_lag()))
    figures["loop_lag_ok"] = figures["loop_lag_ms_p99"] <= TARGET_LAG_P99_MS
    print(json.dumps({"bench": "tui", **figures}))


if __name__ == "__main__":
    main()
