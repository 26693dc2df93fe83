"""The `:` command line (k9s habit) with completion, and the pure parser behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.suggester import SuggestFromList
from textual.widgets import Input

PANE_COMMANDS = ("endpoints", "subscribers", "denials", "cost", "doctor", "history")
"""Commands that switch the main pane."""

COMMANDS = (*PANE_COMMANDS, "policy", "rollout", "theme", "help", "quit")
"""Every command word the line accepts (plus short prefixes like `:ep`)."""

ALIASES = {
    "ep": "endpoints",
    "sub": "subscribers",
    "subs": "subscribers",
    "q": "quit",
    "pol": "policy",
    "doc": "doctor",
}


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed command line."""

    name: str
    arg: str = ""


def parse_command(text: str) -> Command | None:
    """Resolve `policy vpce-123` or a unique prefix (`sub`) to a command; None when unknown or ambiguous."""
    words = text.strip().lstrip(":").split(maxsplit=1)
    if not words:
        return None
    word = words[0].lower()
    arg = words[1].strip() if len(words) > 1 else ""
    if word in COMMANDS:
        return Command(word, arg)
    if word in ALIASES:
        return Command(ALIASES[word], arg)
    matches = [name for name in COMMANDS if name.startswith(word)]
    return Command(matches[0], arg) if len(matches) == 1 else None


class CommandLine(Input):
    """An input that completes command words (→ or tab accepts the suggestion)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("tab", "complete", "complete", show=False)]

    def __init__(self, themes: tuple[str, ...] = (), **kwargs: object) -> None:
        words = [*COMMANDS, *(f"theme {name.removeprefix('vpce-')}" for name in themes)]
        super().__init__(
            placeholder=":endpoints :subscribers :policy [id] :rollout :denials :cost :doctor :theme NAME :quit",
            suggester=SuggestFromList(words, case_sensitive=False),
            **kwargs,  # type: ignore[arg-type]
        )

    def set_endpoint_ids(self, ids: tuple[str, ...], themes: tuple[str, ...]) -> None:
        """Complete `policy <id>` and `rollout <id>` too, once endpoints are known."""
        words = [
            *COMMANDS,
            *(f"theme {t.removeprefix('vpce-')}" for t in themes),
            *(f"policy {i}" for i in ids),
            *(f"rollout {i}" for i in ids),
        ]
        self.suggester = SuggestFromList(words, case_sensitive=False)

    def action_complete(self) -> None:
        """Accept the suggestion shown after the cursor."""
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
