"""`?`: every key of the current pane, from the declared actions (so rebinding shows up here too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from vpce_console.tui.actions import PALETTE_KEY, actions_for, bindings_for, effective_keys


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys of the given scopes, with their ids for `keymap:`."""

    BINDINGS = bindings_for("help")

    def __init__(self, title: str, scopes: Sequence[str], keymap: Mapping[str, str], read_only: bool) -> None:
        super().__init__()
        self.help_title = title
        self.scopes = tuple(scopes)
        self.keymap = keymap
        self.read_only = read_only

    def rows(self) -> list[tuple[str, str, str]]:
        """(keys, what it does, id) for every key of the scopes, as the user's keymap has them."""
        out = []
        for spec in actions_for(*self.scopes):
            note = ""
            if spec.dangerous:
                note = " — writes; disabled in read-only mode" if self.read_only else " — writes to AWS"
            out.append((effective_keys(spec, self.keymap), spec.description + note, spec.id))
        out.append((PALETTE_KEY, "command palette (themes, panes, quit)", "(Textual)"))
        return out

    def compose(self) -> ComposeResult:
        table = Table(title=f"Keys — {self.help_title}", expand=True, show_lines=False)
        table.add_column("Keys", no_wrap=True)
        table.add_column("Does")
        table.add_column("Id (config keymap:)", no_wrap=True)
        for keys, does, action_id in self.rows():
            table.add_row(keys, does, action_id)
        commands = ":endpoints :subscribers :policy [id] :rollout [id] :denials :cost :doctor :theme NAME :quit"
        with VerticalScroll(id="help-body"):
            yield Static(table)
            yield Static(
                Text(
                    f"Command line: {commands}\nFilter: /words or key=value (svc=sqs env=prod); Enter applies, "
                    "Esc clears.\nEsc or ? closes this help."
                ),
                id="help-footer",
            )
