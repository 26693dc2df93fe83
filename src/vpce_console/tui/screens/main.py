"""The main screen: header, one of the panes, the `:` command line, the `/` filter and the footer.

It owns the refresh and tail workers: they call the backend and post messages; handlers here store results
and hand them to the panes (STYLE.md rule 3).
"""

from __future__ import annotations

import asyncio
import json
import os

from textual import on, work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Footer, Input
from textual.worker import Worker, WorkerState

from vpce_console.paths import private_dir, private_file, state_dir
from vpce_console.tui.actions import bindings_for
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
from vpce_console.tui.models import (
    NO_TRAIL,
    ChangeRow,
    DenialHistory,
    DenialRow,
    EndpointRow,
    Snapshot,
    TrailUsage,
    with_usage,
)
from vpce_console.tui.navigation import OpenDetails, OpenEditor, OpenHelp, OpenRollout, SwitchTheme
from vpce_console.tui.widgets.commandline import PANE_COMMANDS, CommandLine, parse_command
from vpce_console.tui.widgets.header import ConsoleHeader
from vpce_console.tui.widgets.history import HistoryPane
from vpce_console.tui.widgets.panes import CostPane, DenialsPane, DoctorPane, EndpointsPane, Pane, SubscribersPane

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


class MainScreen(Screen[None]):
    """Panes switched with `:` commands, k9s style."""

    BINDINGS = bindings_for("main", "endpoints", "denials", "history")

    def __init__(self, context: ScreenContext, *, initial: str = "endpoints") -> None:
        super().__init__()
        self.context = context
        self.clock = context.clock
        self.initial = initial
        self.snapshot = Snapshot()
        self.pane_history: list[str] = []
        self.fetched_at: float | None = None
        self.base_snapshot = Snapshot()
        """The inventory's snapshot as loaded; `snapshot` is it plus the trail's counts."""
        self.trail_usage: TrailUsage | None = None
        self.denials_backfilled = False

    def compose(self) -> ComposeResult:
        header = ConsoleHeader(id="header")
        header.read_only = self.context.read_only
        yield header
        with ContentSwitcher(initial=self.initial, id="panes"):
            yield EndpointsPane()
            yield SubscribersPane()
            yield DoctorPane()
            yield CostPane()
            yield DenialsPane(clock=self.clock)
            yield HistoryPane()
        yield Input(placeholder="filter: words or key=value — Enter applies, Esc clears", id="filter-input")
        yield CommandLine(themes=tuple(self.context.theme_names), id="command-line")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter-input").display = False
        self.query_one("#command-line").display = False
        self.current_pane.focus_main()

    # ----- panes -------------------------------------------------------------------------------------------

    @property
    def current_name(self) -> str:
        return self.query_one("#panes", ContentSwitcher).current or "endpoints"

    @property
    def current_pane(self) -> Pane:
        return self.query_one(f"#{self.current_name}", Pane)

    def show_pane(self, name: str) -> None:
        """Switch panes, remembering the way back for `esc`."""
        if name != self.current_name:
            self.pane_history.append(self.current_name)
        self.query_one("#panes", ContentSwitcher).current = name
        self.current_pane.focus_main()
        self.refresh_bindings()
        if name == "history":
            self.load_history()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pane-specific keys only where they mean something."""
        pane = self.current_name
        if action in ("command_line", "filter") and isinstance(self.focused, Input):
            return False
        if action in ("edit_policy", "details", "open_rollout"):
            return pane == "endpoints"
        if action in ("toggle_pause", "export_denials", "denial_policy"):
            return pane == "denials"
        if action in ("rollback_change", "watch_change", "open_change"):
            if pane != "history":
                return False
            return None if action == "rollback_change" and self.context.read_only else True
        return True

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
        usage_of = getattr(backend, "trail_usage", None)
        history_of = getattr(backend, "denial_history", None)
        if not self.context.trail_enabled:
            off = "trail off (--no-trail)"
            self.post_message(DenialHistoryLoaded(DenialHistory("off", note=off)))
            self.post_message(TrailLoaded(TrailUsage("off", note=off)))
            return
        try:
            if not self.denials_backfilled:
                history = await history_of(report) if history_of else DenialHistory("off", note=NO_TRAIL)
                self.post_message(DenialHistoryLoaded(history))
            usage = await usage_of(report) if usage_of else TrailUsage("off", note=NO_TRAIL)
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

    # ----- actions -----------------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Reload everything (and restart the tail if it stopped)."""
        if self.context.backend is None:
            self.notify("still connecting…", timeout=3)
            return
        self.query_one(ConsoleHeader).status = "refreshing…"
        self.refresh_data()
        if self.context.tail_enabled and not any(
            w.group == "denial-tail" and w.state == WorkerState.RUNNING for w in self.workers
        ):
            self.query_one(DenialsPane).stale_reason = ""
            self.tail_denials()

    def action_quit(self) -> None:
        self.app.exit(0)

    def action_command_line(self) -> None:
        line = self.query_one(CommandLine)
        line.value = ""
        line.display = True
        # Focus now, not after a refresh: over SSH the keys typed after `:` often arrive in the same read.
        self.set_focus(line)

    def action_filter(self) -> None:
        box = self.query_one("#filter-input", Input)
        box.value = self.current_pane.filter_text
        box.display = True
        self.set_focus(box)

    def action_back(self) -> None:
        """Esc: close an open input, else clear the filter, else go back to the previous pane."""
        pane = self.current_pane
        focused = self.focused
        if isinstance(focused, Input) and focused.display:
            if focused.id == "filter-input":
                pane.filter_text = ""
            focused.display = False
            pane.focus_main()
        elif pane.filter_text:
            pane.filter_text = ""
        elif self.pane_history:
            previous = self.pane_history.pop()
            self.query_one("#panes", ContentSwitcher).current = previous
            self.current_pane.focus_main()
            self.refresh_bindings()

    def action_open_help(self) -> None:
        pane = self.current_pane
        self.post_message(OpenHelp(f"{pane.TITLE} pane", ("main", pane.HELP_SCOPE)))

    def selected_endpoint(self) -> EndpointRow | None:
        return self.query_one(EndpointsPane).selected()

    def action_edit_policy(self) -> None:
        endpoint = self.selected_endpoint()
        if endpoint is None:
            self.notify("no endpoint selected", timeout=3)
            return
        self.post_message(OpenEditor(endpoint, self.snapshot))

    def action_open_rollout(self) -> None:
        endpoint = self.selected_endpoint()
        if endpoint is not None:
            self.post_message(OpenRollout(endpoint, self.snapshot, draft=None))

    def action_details(self) -> None:
        endpoint = self.selected_endpoint()
        if endpoint is not None:
            self.post_message(OpenDetails(endpoint, self.snapshot))

    @on(DataTable.RowSelected, "#history-table")
    def change_chosen(self, event: DataTable.RowSelected) -> None:
        self.action_open_change()

    @on(DataTable.RowSelected, "#endpoints-table")
    def endpoint_chosen(self, event: DataTable.RowSelected) -> None:
        self.action_details()

    def selected_change(self) -> tuple[ChangeRow, EndpointRow] | None:
        """The highlighted journal entry and its endpoint (the endpoint must be in the inventory)."""
        change = self.query_one(HistoryPane).selected()
        if change is None:
            self.notify("no change selected", timeout=3)
            return None
        endpoint = next((e for e in self.snapshot.endpoints if e.endpoint_id == change.endpoint_id), None)
        if endpoint is None:
            self.notify(
                f"{change.endpoint_id} is not in the inventory (another account or region?)",
                severity="warning",
                timeout=6,
            )
            return None
        return change, endpoint

    def action_rollback_change(self) -> None:
        """`b` on a journal entry: the rollout screen asks to restore the document in force before it."""
        chosen = self.selected_change()
        if chosen is not None:
            change, endpoint = chosen
            self.post_message(OpenRollout(endpoint, self.snapshot, draft=None, rollback=change.journal_id))

    def action_watch_change(self) -> None:
        """`w` on an unfinished entry: watch it to the end on the rollout screen."""
        chosen = self.selected_change()
        if chosen is None:
            return
        change, endpoint = chosen
        if change.outcome != "unfinished":
            self.notify(
                f"{change.journal_id} already finished ({change.outcome}); only an unfinished change can be watched",
                title="Not now",
                severity="warning",
                timeout=6,
            )
            return
        self.post_message(OpenRollout(endpoint, self.snapshot, draft=None, watch=True))

    def action_open_change(self) -> None:
        chosen = self.selected_change()
        if chosen is not None:
            self.post_message(OpenRollout(chosen[1], self.snapshot, draft=None))

    def action_toggle_pause(self) -> None:
        pane = self.query_one(DenialsPane)
        pane.paused = not pane.paused

    def action_export_denials(self) -> None:
        """Write the kept (filtered) denials to a JSONL file in the state dir."""
        pane = self.query_one(DenialsPane)
        rows = [row for row in pane.all_rows() if pane.row_filter.empty or pane.row_filter.matches(pane.fields(row))]
        folder = private_dir(state_dir() / "exports")
        path = folder / f"denials-{int(self.clock())}.jsonl"
        with os.fdopen(private_file(path), "w", encoding="utf-8") as handle:
            for row in rows:
                record = row.raw or {
                    "at": row.at,
                    "endpoint_id": row.endpoint_id,
                    "service": row.service,
                    "account_id": row.account_id,
                    "principal": row.principal,
                    "action": row.action,
                    "reason": row.reason,
                    "policy_version": row.policy_version,
                    "message": row.message,
                }
                handle.write(json.dumps(record, sort_keys=True) + "\n")
        self.notify(f"{len(rows)} denials written to {path}", title="Exported", timeout=8)

    def action_denial_policy(self) -> None:
        """Say which policy version a denial happened under, and open the editor on that endpoint."""
        row = self.query_one(DenialsPane).selected()
        if row is None:
            return
        endpoint = next((e for e in self.snapshot.endpoints if e.endpoint_id == row.endpoint_id), None)
        self.notify(
            f"{row.endpoint_id} was running policy version {row.policy_version or 'unknown'} at that time "
            "(`vpce history --endpoint` shows the journal)",
            title="Policy version",
            timeout=8,
        )
        if endpoint is not None:
            self.post_message(OpenEditor(endpoint, self.snapshot))

    # ----- inputs ------------------------------------------------------------------------------------------

    @on(Input.Submitted, "#filter-input")
    def apply_filter(self, event: Input.Submitted) -> None:
        self.current_pane.filter_text = event.value.strip()
        event.input.display = False
        self.current_pane.focus_main()

    @on(Input.Submitted, "#command-line")
    def run_command(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.current_pane.focus_main()
        self.execute(event.value)

    def execute(self, text: str) -> None:
        """Run one `:` command."""
        command = parse_command(text)
        if command is None:
            if text.strip():
                self.notify(f"unknown command :{text.strip()}", severity="warning", timeout=4)
            return
        if command.name in PANE_COMMANDS:
            self.show_pane(command.name)
        elif command.name == "quit":
            self.app.exit(0)
        elif command.name == "help":
            self.action_open_help()
        elif command.name == "theme":
            self.post_message(SwitchTheme(command.arg))
        elif command.name in ("policy", "rollout"):
            endpoint = self.find_endpoint(command.arg) if command.arg else self.selected_endpoint()
            if endpoint is None:
                self.notify(f"no endpoint {command.arg or 'selected'}", severity="warning", timeout=4)
                return
            if command.name == "policy":
                self.post_message(OpenEditor(endpoint, self.snapshot))
            else:
                self.post_message(OpenRollout(endpoint, self.snapshot, draft=None))

    def find_endpoint(self, text: str) -> EndpointRow | None:
        """An endpoint by id, or by unique service name (`:policy sqs`)."""
        for endpoint in self.snapshot.endpoints:
            if endpoint.endpoint_id == text:
                return endpoint
        by_service = [e for e in self.snapshot.endpoints if e.service == text]
        return by_service[0] if len(by_service) == 1 else None
