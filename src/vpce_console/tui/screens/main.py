"""The main screen: header, one of the panes, the `:` command line, the `/` filter and the footer.

Its data side (the refresh, trail, journal and tail workers and their handlers) is `main_data.MainData`, which
this screen extends with the panes' layout, the keys and the `:` commands.
"""

from __future__ import annotations

import json
import os

from textual import on
from textual.app import ComposeResult
from textual.widgets import ContentSwitcher, DataTable, Footer, Input
from textual.worker import WorkerState

from vpce_console.paths import private_dir, private_file, state_dir
from vpce_console.tui.actions import bindings_for
from vpce_console.tui.context import ScreenContext
from vpce_console.tui.models import ChangeRow, EndpointRow
from vpce_console.tui.navigation import OpenDetails, OpenEditor, OpenHelp, OpenRollout, SwitchTheme
from vpce_console.tui.screens.main_data import MainData
from vpce_console.tui.widgets.commandline import PANE_COMMANDS, CommandLine, parse_command
from vpce_console.tui.widgets.header import ConsoleHeader
from vpce_console.tui.widgets.history import HistoryPane
from vpce_console.tui.widgets.panes import CostPane, DenialsPane, DoctorPane, EndpointsPane, Pane, SubscribersPane


class MainScreen(MainData):
    """Panes switched with `:` commands, k9s style."""

    BINDINGS = bindings_for("main", "endpoints", "denials", "history")

    def __init__(self, context: ScreenContext, *, initial: str = "endpoints") -> None:
        super().__init__(context)
        self.initial = initial
        self.pane_history: list[str] = []

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
