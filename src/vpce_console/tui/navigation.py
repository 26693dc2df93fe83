"""Messages a screen posts to ask for another screen: they bubble up to the app, which opens it.

Screens never import the app (a circle, and no screen could be mounted without the whole console); the app's
`on_open_*` handlers build the screen with the shared `ScreenContext`. Results flowing back from workers are
in `tui.messages`.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from vpce_console.tui.models import EndpointRow, Snapshot


class OpenHelp(Message):
    """Show the keys of `scopes` under `title`."""

    def __init__(self, title: str, scopes: Sequence[str]) -> None:
        super().__init__()
        self.title = title
        self.scopes = tuple(scopes)


class OpenEditor(Message):
    """Edit the policy of `endpoint` (a saved draft is restored)."""

    def __init__(self, endpoint: EndpointRow, snapshot: Snapshot) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.snapshot = snapshot


class OpenDetails(Message):
    """Everything about `endpoint`: DNS, subscribers, policy, history."""

    def __init__(self, endpoint: EndpointRow, snapshot: Snapshot) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.snapshot = snapshot


class OpenRollout(Message):
    """The guided rollout of `draft` (None: the saved draft, else the deployed text) to `endpoint`."""

    def __init__(
        self,
        endpoint: EndpointRow,
        snapshot: Snapshot,
        *,
        draft: str | None,
        rollback: str | None = None,
        watch: bool = False,
    ) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.snapshot = snapshot
        self.draft = draft
        self.rollback = rollback
        """A journal id: ask at once to roll that change back."""
        self.watch = watch
        """Resume watching the endpoint's unfinished change."""


class SwitchTheme(Message):
    """`:theme NAME` (empty: list the themes)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
