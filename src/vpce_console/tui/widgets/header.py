"""The header: account, region, caller, READ-ONLY / WRITE and LAB badges, and a loading or stale marker."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label

from vpce_console.tui.models import HeaderInfo
from vpce_console.tui.render import short_principal


class ConsoleHeader(Horizontal):
    """One line that says where you are and whether you can write."""

    info: reactive[HeaderInfo | None] = reactive(None)
    """Caller identity and mode; None until connected."""
    status: reactive[str] = reactive("connecting…")
    """Loading progress or staleness, in words."""
    read_only: reactive[bool] = reactive(True)
    """Mirrors the app's mode before the identity is known, so the badge is right from the first frame."""

    def compose(self) -> ComposeResult:
        yield Label("vpce-console", id="hdr-title")
        yield Label("", id="hdr-where")
        yield Label("", id="hdr-status")
        yield Label("READ-ONLY", id="hdr-mode", classes="badge readonly")
        lab = Label("LAB", id="hdr-lab", classes="badge lab")
        lab.display = False
        yield lab

    def on_mount(self) -> None:
        self._render_info()

    def watch_info(self) -> None:
        self._render_info()

    def watch_read_only(self) -> None:
        self._render_info()

    def watch_status(self, status: str) -> None:
        if self.children:
            self.query_one("#hdr-status", Label).update(status)

    def _render_info(self) -> None:
        if not self.children:
            return
        info = self.info
        where = self.query_one("#hdr-where", Label)
        if info is None:
            where.update("")
        else:
            profile = f" · profile {info.profile}" if info.profile else ""
            # Who you are first: a narrow terminal (write mode has the widest badge) cuts the region, not the caller.
            # The ARN's tail names the caller (user/…, assumed-role/…/session); its prefix repeats the account.
            where.update(f"{short_principal(info.caller_arn, 48)} · {info.account_id} · {info.region}{profile}")
        read_only = info.read_only if info is not None else self.read_only
        mode = self.query_one("#hdr-mode", Label)
        mode.update(" READ-ONLY " if read_only else " ⚠ WRITE ENABLED ⚠ ")
        mode.set_class(read_only, "readonly")
        mode.set_class(not read_only, "write")
        self.query_one("#hdr-lab", Label).display = bool(info and info.is_lab)
