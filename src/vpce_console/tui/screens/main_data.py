"""The main screen's data side: the workers that load the inventory, the trail and the journal and follow the tail,
and the handlers that hand their results to the panes (STYLE.md rule 3).

`MainData` never reacts to a key: `main.MainScreen` extends it with the panes' layout, the keys and the `:` commands.
"""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from vpce_console.tui.context import ScreenContext
from vpce_console.tui.errors import describe_error
from vpce_console.tui.messages import (
    DenialHistoryLoaded,
    DenialsArrived,
    EndpointsListed,
    HistoryLoaded,
    LoadProgress,
    SnapshotLoaded,
    TrailLoaded,
    TrailProgress,
)
from vpce_console.tui.models import DenialHistory, DenialRow, Snapshot, TrailUsage, with_usage
from vpce_console.tui.widgets.commandline import CommandLine
from vpce_console.tui.widgets.header import ConsoleHeader
from vpce_console.tui.widgets.history import HistoryPane
from vpce_console.tui.widgets.panes import DenialsPane, EndpointsPane, Pane, SubscribersPane

TAIL_BATCH_SECONDS = 0.1
"""The tail worker posts at most ten batches a second, so a flood of denials stays cheap for the event loop."""


class _LoadMessages:
    """The refresh worker's `LoadReporter`: progress and early endpoint rows become messages to the screen."""

    def __init__(self, screen: Screen[None]) -> None:
        self.screen = screen

    def __call__(self, what: str, fraction: float) -> None:
        self.screen.post_message(LoadProgress(what, fraction))

    def endpoints(self, snapshot: Snapshot) -> None:
        self.screen.post_message(EndpointsListed(snapshot))


class _TrailMessages:
    """The trail worker's progress callback: each step becomes a `TrailProgress` message."""

    def __init__(self, screen: Screen[None]) -> None:
        self.screen = screen

    def __call__(self, what: str, fraction: float) -> None:
        self.screen.post_message(TrailProgress(what))


class MainData(Screen[None]):
    """What the main screen loads and keeps current; the panes it fills are composed by `MainScreen`."""

    def __init__(self, context: ScreenContext) -> None:
        super().__init__()
        self.context = context
        self.clock = context.clock
        self.snapshot = Snapshot()
        self.fetched_at: float | None = None
        self.base_snapshot = Snapshot()
        """The inventory's snapshot as loaded; `snapshot` is it plus the trail's counts."""
        self.trail_usage: TrailUsage | None = None
        self.denials_backfilled = False

    # ----- data --------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin loading once the app is connected."""
        self.refresh_data()
        self.load_history()
        denials = self.query_one(DenialsPane)
        denials.loaded = True
        if self.context.tail_enabled:
            self.tail_denials()
            denials.update_title()
        else:
            denials.stale_reason = "tail off (--no-tail)"

    @work(exclusive=True, group="endpoint-refresh", exit_on_error=False)
    async def refresh_data(self) -> None:
        """Load the inventory snapshot; a newer refresh cancels this one."""
        backend = self.context.backend
        if backend is None:
            return

        snapshot = await backend.load(_LoadMessages(self))
        self.post_message(SnapshotLoaded(snapshot, fetched_at=self.clock()))

    @work(group="trail", exit_on_error=False)
    async def load_trail(self) -> None:
        """After the inventory: the Denials pane's backfill (once), then calls and denials over the window.

        The backfill goes first: its window (a day) is a fraction of the usage window's sync.
        """
        backend = self.context.backend
        if backend is None:
            return
        report = _TrailMessages(self)
        if not self.context.trail_enabled:
            off = "trail off (--no-trail)"
            self.post_message(DenialHistoryLoaded(DenialHistory("off", note=off)))
            self.post_message(TrailLoaded(TrailUsage("off", note=off)))
            return
        try:
            if not self.denials_backfilled:
                history = await backend.denial_history(report)
                self.post_message(DenialHistoryLoaded(history))
            usage = await backend.trail_usage(report)
            self.post_message(TrailLoaded(usage))
        finally:
            self.post_message(TrailProgress(""))

    @on(TrailProgress)
    def show_trail_progress(self, message: TrailProgress) -> None:
        """The sync or the query in the Endpoints pane's progress line and the header (the inventory's mechanism)."""
        text = f"⧗ {message.what}" if message.what else ""
        pane = self.query_one(EndpointsPane)
        if (not text and pane.progress.startswith("⧗ trail")) or text:
            pane.progress = text
        self.query_one(DenialsPane).progress = text
        header = self.query_one(ConsoleHeader)
        if text:
            header.status = "reading the trail…"
        elif header.status == "reading the trail…":
            header.status = f"{len(self.snapshot.endpoints)} endpoints"

    @on(TrailLoaded)
    def store_trail(self, message: TrailLoaded) -> None:
        self.trail_usage = message.usage
        self.query_one(EndpointsPane).trail = message.usage
        self.query_one(SubscribersPane).trail = message.usage
        self.apply_snapshot(with_usage(self.base_snapshot, message.usage))

    @on(DenialHistoryLoaded)
    def store_denial_history(self, message: DenialHistoryLoaded) -> None:
        self.denials_backfilled = message.history.state == "ok"
        self.query_one(DenialsPane).set_history(message.history)

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Hand a snapshot to every pane but the denials' (which follows the tail)."""
        self.snapshot = snapshot
        for pane in self.query(Pane):
            if not isinstance(pane, DenialsPane):
                pane.set_snapshot(snapshot)

    @work(exclusive=True, group="denial-tail", exit_on_error=False)
    async def tail_denials(self) -> None:
        """Follow the denial stream forever, posting what arrived at most ten times a second.

        A pump task drains the stream into a list; this loop hands the list over as one message per tick, so a
        flood of one-row batches costs a few messages a second and a quiet stream still shows rows within 0.1 s.
        """
        backend = self.context.backend
        if backend is None:
            return
        pending: list[DenialRow] = []

        async def pump() -> None:
            async for batch in backend.tail():
                pending.extend(batch)

        task = asyncio.create_task(pump())
        try:
            while True:
                await asyncio.wait({task}, timeout=TAIL_BATCH_SECONDS)
                if pending:
                    self.post_message(DenialsArrived(list(pending)))
                    pending.clear()
                if task.done():
                    task.result()  # re-raise a failure so the worker reports it
                    return
        finally:
            task.cancel()

    @on(LoadProgress)
    def show_progress(self, message: LoadProgress) -> None:
        text = f"⧗ {message.what}" if message.fraction < 1 else ""
        self.query_one(EndpointsPane).progress = text
        self.query_one(ConsoleHeader).status = "loading…" if text else "ready"

    @on(EndpointsListed)
    def show_endpoints_early(self, message: EndpointsListed) -> None:
        """Endpoint rows before the full snapshot, on the first load only: a refresh keeps the complete rows."""
        pane = self.query_one(EndpointsPane)
        if not pane.loaded:
            pane.show_partial(message.snapshot)

    @on(SnapshotLoaded)
    def store_snapshot(self, message: SnapshotLoaded) -> None:
        self.base_snapshot = message.snapshot
        self.fetched_at = message.fetched_at
        # the last trail answer stays on screen until the new one (started now) replaces it
        self.apply_snapshot(with_usage(message.snapshot, self.trail_usage))
        self.query_one(EndpointsPane).progress = ""
        # a running trail read finishes (cancelling it would close DuckDB under its reading thread); its answer is
        # merged into whichever snapshot is current when it lands
        if not any(w.group == "trail" and not w.is_finished for w in self.workers):
            self.load_trail()
        header = self.query_one(ConsoleHeader)
        header.status = f"{len(message.snapshot.endpoints)} endpoints"
        if self.query_one(HistoryPane).loaded:
            self.load_history()  # the in-force marks follow the deployed documents
        self.query_one(CommandLine).set_endpoint_ids(
            tuple(e.endpoint_id for e in message.snapshot.endpoints), tuple(self.context.theme_names)
        )

    def policy_written(self, endpoint_id: str, text: str) -> None:
        """An endpoint's policy was written here: show it at once, then reload the inventory to confirm."""
        import dataclasses

        from vpce_console.services.inventory import is_default_policy as _is_default

        endpoints = tuple(
            dataclasses.replace(e, policy_text=text, policy_custom=not _is_default(text))
            if e.endpoint_id == endpoint_id
            else e
            for e in self.snapshot.endpoints
        )
        self.apply_snapshot(dataclasses.replace(self.snapshot, endpoints=endpoints))
        if self.context.backend is not None:
            self.refresh_data()
            self.load_history()

    @work(exclusive=True, group="change-history", exit_on_error=False)
    async def load_history(self) -> None:
        """Read the change journal (a local file, in a worker) for the history pane."""
        backend = self.context.backend
        if backend is None:
            return
        self.post_message(HistoryLoaded(await backend.history()))

    @on(HistoryLoaded)
    def store_history(self, message: HistoryLoaded) -> None:
        import hashlib

        deployed = {
            e.endpoint_id: hashlib.sha256(e.policy_text.encode()).hexdigest()
            for e in self.snapshot.endpoints
            if e.policy_text is not None
        }
        self.query_one(HistoryPane).set_changes(message.changes, deployed)

    @on(DenialsArrived)
    def store_denials(self, message: DenialsArrived) -> None:
        self.query_one(DenialsPane).add(message.rows)
        from vpce_console.tui.screens.rollout import RolloutScreen

        for screen in self.app.screen_stack:  # a rollout compares them with what its replay predicted
            if isinstance(screen, RolloutScreen):
                screen.post_message(DenialsArrived(message.rows))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker becomes a notification; panes keep their last good data, marked stale."""
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        group = event.worker.group
        doing = {
            "endpoint-refresh": "loading the inventory",
            "denial-tail": "tailing denials",
            "trail": "reading the trail",
        }.get(group, group)
        title, text = describe_error(event.worker.error, doing=doing)
        self.notify(text, title=title, severity="error", timeout=10)
        header = self.query_one(ConsoleHeader)
        if group == "endpoint-refresh":
            for pane in self.query(Pane):
                if not isinstance(pane, DenialsPane):
                    pane.stale_reason = f"refresh failed: {title.lower()}"
            self.query_one(EndpointsPane).progress = ""
            header.status = "STALE — press r to retry"
        elif group == "denial-tail":
            self.query_one(DenialsPane).stale_reason = "tail stopped — press r to restart"
        elif group == "trail":
            # the panes keep the inventory; the trail's columns and the backfill say it failed, and why
            failed = f"trail: {title.lower()} — {text}"
            self.query_one(EndpointsPane).trail = TrailUsage("failed", note=failed)
            self.query_one(SubscribersPane).trail = TrailUsage("failed", note=failed)
            if not self.denials_backfilled:
                self.query_one(DenialsPane).set_history(DenialHistory("failed", note=failed))
