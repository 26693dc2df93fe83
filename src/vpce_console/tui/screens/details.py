"""Enter on an endpoint: ENIs, DNS entries, SG rules, the policy and the doctor's findings for it."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from vpce_console.tui.actions import bindings_for
from vpce_console.tui.context import ScreenContext
from vpce_console.tui.messages import HistoryLoaded
from vpce_console.tui.models import ChangeRow, EndpointRow, Snapshot
from vpce_console.tui.navigation import OpenEditor, OpenRollout
from vpce_console.tui.render import colour, severity_text, state_text


class DetailsScreen(Screen[None]):
    """Everything known about one endpoint, read-only."""

    BINDINGS = bindings_for("details")

    def __init__(self, endpoint: EndpointRow, snapshot: Snapshot, context: ScreenContext) -> None:
        super().__init__()
        self.context = context
        self.endpoint = endpoint
        self.snapshot = snapshot
        self.last_change: ChangeRow | None = None
        """The endpoint's last change that reached AWS, from the journal."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details-body"):
            yield Static("", id="details-change")
            yield Static(self.summary(), id="details-summary")
            yield Static(
                Text(self.endpoint.policy_text or "(no policy document: the default full-access policy)"),
                id="details-policy",
                classes="policy-view",
            )
        yield Footer()

    def summary(self) -> Text:
        """Header lines, extra facts from the inventory and the doctor findings for this endpoint."""
        ep = self.endpoint
        variables = self.app.theme_variables
        text = Text()
        text.append(f"{ep.service}  {ep.endpoint_id}\n", style="bold")
        text.append("state ")
        text.append_text(state_text(ep.state, variables))
        text.append(f" · vpc {ep.vpc_id} · account {ep.account_id or '?'}\n")
        text.append(f"AZs: {', '.join(ep.azs) or '—'}\nSecurity groups: {', '.join(ep.security_groups) or '—'}\n")
        text.append(f"Private DNS: {'on (⚠ shared endpoints normally keep it off)' if ep.private_dns else 'off'}\n")
        text.append(f"Subscribers: {ep.subscribers}\n")
        for label, value in ep.details:
            text.append(f"{label}: {value}\n")
        findings = [
            f
            for f in self.snapshot.doctor
            if f.endpoint_id == ep.endpoint_id or (f.endpoint_id is None and f.service == ep.service)
        ]
        text.append("\nDoctor findings:\n", style="bold")
        if not findings:
            text.append("  ✓ none\n", style=colour(variables, "state-available"))
        for finding in findings:
            text.append("  ")
            text.append_text(severity_text(finding.severity, variables))
            text.append(f" {finding.code}: {finding.message}\n")
            if finding.hint:
                text.append(f"      fix: {finding.hint}\n")
        text.append("\nPolicy document:", style="bold")
        return text

    def policy_written(self, text: str) -> None:
        """Show the document the endpoint holds now."""
        import dataclasses

        self.endpoint = dataclasses.replace(self.endpoint, policy_text=text)
        self.query_one("#details-policy", Static).update(Text(text or "(no policy document)"))

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_mount(self) -> None:
        self.load_history()

    @work(exclusive=True, group="change-history", exit_on_error=False)
    async def load_history(self) -> None:
        """This endpoint's journal entries (a file read, in a worker)."""
        backend = self.context.backend
        if backend is not None:
            self.post_message(
                HistoryLoaded(await backend.history(self.endpoint.endpoint_id), self.endpoint.endpoint_id)
            )

    @on(HistoryLoaded)
    def store_history(self, message: HistoryLoaded) -> None:
        """Show the last change that reached AWS, and what o and b do with it."""
        written = [c for c in message.changes if c.written]
        self.last_change = written[-1] if written else None
        text = Text()
        if self.last_change is None:
            text.append("Last change: none in the journal of this machine\n")
        else:
            change = self.last_change
            kind = f"rollback of {change.rollback_of}" if change.rollback_of else change.kind
            text.append(f"Last change: {change.journal_id} ({kind}, {change.outcome.replace('_', ' ')}) ", style="bold")
            text.append(f"{change.before_version} → {change.after_version}\n")
            if change.kind == "rollback":
                text.append("  o: rollout screen · undoing a rollback is done from :history\n")
            else:
                text.append("  o: rollout screen (watch it, roll it back) · b: roll it back\n")
        self.query_one("#details-change", Static).update(text)

    def action_open_rollout(self) -> None:
        self.post_message(OpenRollout(self.endpoint, self.snapshot, draft=None))

    def action_rollback_change(self) -> None:
        if self.last_change is None:
            self.notify("the journal has no change to this endpoint", title="Not now", severity="warning", timeout=6)
            return
        if self.last_change.kind == "rollback":
            self.notify(
                "the last change is a rollback: undoing it re-applies what it removed, so it is only done by "
                "choosing it in :history",
                title="Not now",
                severity="warning",
                timeout=8,
            )
            return
        self.post_message(OpenRollout(self.endpoint, self.snapshot, draft=None, rollback=self.last_change.journal_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Roll back writes: disabled in read-only mode."""
        if action == "rollback_change" and self.context.read_only:
            return None
        return True

    def action_edit_policy(self) -> None:
        self.app.pop_screen()
        self.app.post_message(OpenEditor(self.endpoint, self.snapshot))  # this screen is gone: the app opens it
