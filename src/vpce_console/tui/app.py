"""The console application: registers themes and the keymap, paints the first frame, then connects.

Nothing heavy is imported at module level: the backend (services, the SDK, maybe a lab child) is built by the
`connect` callable inside a worker started from `on_mount`, after the first frame is on screen.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from vpce_console.tui.actions import validate_keymap
from vpce_console.tui.backend import Backend, Connector
from vpce_console.tui.context import ScreenContext
from vpce_console.tui.errors import describe_error
from vpce_console.tui.messages import Connected, PolicyWritten
from vpce_console.tui.models import EndpointRow, Snapshot
from vpce_console.tui.navigation import OpenDetails, OpenEditor, OpenHelp, OpenRollout, SwitchTheme
from vpce_console.tui.themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, load_themes, resolve_theme_name

if TYPE_CHECKING:
    from vpce_console.tui.screens.main import MainScreen


class VpceApp(App[int]):
    """vpce-console: endpoints, subscribers, policy editor, rollout, denials, cost and doctor."""

    CSS_PATH = str(Path(__file__).with_name("console.tcss"))
    """Absolute, so subclasses defined elsewhere (tests, benchmarks) find it too."""
    TITLE = "vpce-console"

    def __init__(
        self,
        connect: Connector,
        *,
        read_only: bool = True,
        theme: str | None = None,
        keymap: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        tail: bool = True,
        trail: bool = True,
        initial_pane: str = "endpoints",
        watch_timeout: float | None = None,
        theme_dirs: Sequence[Path] | None = None,
    ) -> None:
        super().__init__()
        self._connect = connect
        self.requested_theme = theme or DEFAULT_THEME
        self.user_keymap = dict(keymap or {})
        validate_keymap(self.user_keymap)
        self.clock = clock
        self.initial_pane = initial_pane
        self.themes = load_themes(theme_dirs)
        self.theme_names = sorted(self.themes)
        self.context = ScreenContext(
            read_only=read_only,
            clock=clock,
            monotonic=monotonic,
            watch_timeout=watch_timeout,
            tail_enabled=tail,
            trail_enabled=trail,
            keymap=self.user_keymap,
            theme_names=tuple(self.theme_names),
        )
        """What every screen this app opens is given (settings, clocks, backend, running flows)."""
        self.connect_error: BaseException | None = None
        self._crash_error: Exception | None = None
        self._crash_line: str | None = None

    @property
    def read_only(self) -> bool:
        """False only with --allow-write (or config); dangerous actions check it."""
        return self.context.read_only

    @property
    def backend(self) -> Backend | None:
        """The services, once connected."""
        return self.context.backend

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Semantic variables every theme may override (TCSS refers to them as $state-available etc.)."""
        return dict(SEMANTIC_DEFAULTS)

    def on_mount(self) -> None:
        from vpce_console.tui.screens.main import MainScreen

        for theme in self.themes.values():
            self.register_theme(theme)
        resolved = resolve_theme_name(self.requested_theme, self.available_themes)
        if resolved is not None:
            self.theme = resolved
        else:
            self.notify(f"unknown theme {self.requested_theme!r}; using {self.theme}", severity="warning")
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.push_screen(MainScreen(self.context, initial=self.initial_pane))
        self.call_after_refresh(self.connect_backend)

    @property
    def main_screen(self) -> MainScreen:
        from vpce_console.tui.screens.main import MainScreen

        return next(s for s in self.screen_stack if isinstance(s, MainScreen))

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect_backend(self) -> None:
        """Build the backend (imports the SDK, may start a lab) and learn who we are."""
        backend = await self._connect()
        header = await backend.header()
        self.post_message(Connected(backend, header))

    @on(Connected)
    def connected(self, message: Connected) -> None:
        from vpce_console.tui.widgets.header import ConsoleHeader

        self.context.backend = message.backend
        main = self.main_screen
        main.query_one(ConsoleHeader).info = message.header
        main.query_one(ConsoleHeader).status = "loading inventory…"
        main.start()

    @on(PolicyWritten)
    def policy_written(self, message: PolicyWritten) -> None:
        """After an apply or a rollback every screen that shows the endpoint refreshes it (none keeps old state)."""
        from vpce_console.tui.screens.details import DetailsScreen
        from vpce_console.tui.screens.editor import PolicyEditorScreen
        from vpce_console.tui.screens.main import MainScreen

        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.policy_written(message.endpoint_id, message.text)
            elif isinstance(screen, (PolicyEditorScreen, DetailsScreen)) and (
                screen.endpoint.endpoint_id == message.endpoint_id
            ):
                screen.policy_written(message.text)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "connect" and event.state == WorkerState.ERROR and event.worker.error is not None:
            from vpce_console.tui.widgets.header import ConsoleHeader

            self.connect_error = event.worker.error
            title, text = describe_error(event.worker.error, doing="connecting")
            self.notify(text, title=title, severity="error", timeout=15)
            self.main_screen.query_one(ConsoleHeader).status = "NOT CONNECTED — check credentials, then restart"

    # ----- navigation: screens post messages (tui.navigation), the app opens the screens -----------------------

    def on_open_help(self, message: OpenHelp) -> None:
        self.open_help(message.title, message.scopes)

    def on_open_editor(self, message: OpenEditor) -> None:
        self.open_editor(message.endpoint, message.snapshot)

    def on_open_details(self, message: OpenDetails) -> None:
        self.open_details(message.endpoint, message.snapshot)

    def on_open_rollout(self, message: OpenRollout) -> None:
        self.open_rollout(
            message.endpoint, message.snapshot, draft=message.draft, rollback=message.rollback, watch=message.watch
        )

    def on_switch_theme(self, message: SwitchTheme) -> None:
        self.switch_theme(message.name)

    def open_help(self, title: str, scopes: Sequence[str]) -> None:
        from vpce_console.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(title, scopes, self.user_keymap, self.read_only))

    def open_editor(self, endpoint: EndpointRow, snapshot: Snapshot) -> None:
        from vpce_console.tui.screens.editor import PolicyEditorScreen

        self.push_screen(PolicyEditorScreen(endpoint, snapshot, self.context))

    def open_details(self, endpoint: EndpointRow, snapshot: Snapshot) -> None:
        from vpce_console.tui.screens.details import DetailsScreen

        self.push_screen(DetailsScreen(endpoint, snapshot, self.context))

    def open_rollout(
        self,
        endpoint: EndpointRow,
        snapshot: Snapshot,
        *,
        draft: str | None,
        rollback: str | None = None,
        watch: bool = False,
    ) -> None:
        """The rollout screen; `rollback` (a journal id) asks at once to roll that change back, `watch` resumes."""
        from vpce_console.tui.screens.rollout import RolloutScreen

        self.push_screen(RolloutScreen(endpoint, snapshot, draft, self.context, rollback=rollback, watch=watch))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette commands plus one per pane, so ctrl+p reaches everything `:` does."""
        yield from super().get_system_commands(screen)
        from vpce_console.tui.screens.main import MainScreen

        if isinstance(screen, MainScreen):
            for pane in ("endpoints", "subscribers", "doctor", "cost", "denials", "history"):
                yield SystemCommand(
                    f"Show {pane}", f"switch to the {pane} pane (:{pane})", partial(screen.show_pane, pane)
                )
            yield SystemCommand("Refresh", "reload the inventory (r)", screen.action_refresh)

    def switch_theme(self, name: str) -> None:
        """`:theme NAME` — any registered theme (ours or Textual's)."""
        if not name:
            self.notify(f"themes: {', '.join(self.theme_names)}", timeout=6)
            return
        resolved = resolve_theme_name(name, self.available_themes)
        if resolved is None:
            self.notify(f"no theme {name!r}; try {', '.join(self.theme_names)}", severity="warning", timeout=6)
            return
        self.theme = resolved

    def watch_theme(self) -> None:
        """Re-render panes so cells coloured from theme variables follow the new theme."""
        from vpce_console.tui.widgets.panes import Pane

        for screen in self.screen_stack:
            for pane in screen.query(Pane):
                if pane.loaded:
                    pane.rerender()

    def _handle_exception(self, error: Exception) -> None:
        """Remember the error for `_fatal_error` (Textual calls it without the exception)."""
        self._crash_error = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """An unexpected bug: write the traceback to a private crash log and leave one line, never a traceback.

        Textual's default prints a traceback with local variables on the way out; on a shared bastion that would
        put credentials and policy text on the screen (and in scroll-back). The console still exits, because a
        console that writes to AWS must not carry on in an unknown state; drafts are already on disk.
        """
        import traceback

        error = self._crash_error
        text = "".join(traceback.format_exception(error)) if error is not None else "unknown error\n"
        path = write_crash_log(text, clock=self.clock)
        where = f"details in {path}" if path is not None else "the crash log could not be written"
        summary = f"vpce: internal error ({type(error).__name__}: {error}); {where}. Your drafts are saved."
        self.bell()
        self._crash_line = summary
        self._exit_renderables.append(summary)
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        """Print the crash line as plain text: Rich would wrap it at the terminal width into several lines."""
        if self._crash_line is None:
            super()._print_error_renderables()
            return
        import sys

        print(self._crash_line, file=sys.stderr)
        self._exit_renderables.clear()

    async def on_unmount(self) -> None:
        if self.backend is not None:
            with contextlib.suppress(Exception):  # closing must never put a traceback on the way out
                await self.backend.close()


def write_crash_log(text: str, *, clock: Callable[[], float] = time.time) -> Path | None:
    """Save a traceback under the state dir (mode 0600: it may name accounts and ARNs); None if that fails."""
    from vpce_console.paths import private_dir, private_file, state_dir

    try:
        folder = private_dir(state_dir() / "crash")
        path = folder / f"crash-{int(clock())}.log"
        fd = private_file(path)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path
    except OSError:
        return None
