"""The typed confirmation before any write: the person types the endpoint id (or, to break a stale lease, its
lease id), nothing else will do."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ConfirmWrite(ModalScreen[bool]):
    """Dismisses with True only when the typed text equals the expected id (the endpoint's, by default) exactly."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", id="confirm-cancel")]

    def __init__(self, endpoint_id: str, what: str, *, preview: str = "", noun: str = "endpoint id") -> None:
        super().__init__()
        self.endpoint_id = endpoint_id
        """What must be typed (an endpoint id, or the lease id named by `noun`)."""
        self.noun = noun
        self.what = what
        self.preview = preview
        """What the write changes (a diff), shown above the prompt so nobody confirms blind."""

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            if self.preview:
                with VerticalScroll(id="confirm-preview"):
                    yield Static(Text(self.preview), id="confirm-diff")
            yield Static(f"⚠ {self.what}\n\nType the {self.noun} to confirm:\n  {self.endpoint_id}", id="confirm-text")
            yield Input(placeholder=self.endpoint_id, id="confirm-input")
            yield Static("Enter confirms · Esc cancels", id="confirm-hint")

    def on_mount(self) -> None:
        """The input takes the keys at once, even with a scrollable preview above it."""
        self.query_one("#confirm-input", Input).focus()

    @on(Input.Submitted, "#confirm-input")
    def submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.endpoint_id:
            self.dismiss(True)
        else:
            self.query_one("#confirm-hint", Static).update(f"✗ that is not the {self.noun} — nothing was written")

    def action_cancel(self) -> None:
        self.dismiss(False)
