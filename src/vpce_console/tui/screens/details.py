"""Enter on an endpoint: ENIs, DNS entries, SG rules, the policy and the doctor's findings for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from vpce_console.tui.actions import bindings_for
from vpce_console.tui.models import EndpointRow, Snapshot
from vpce_console.tui.render import colour, severity_text, state_text

if TYPE_CHECKING:
    from vpce_console.tui.app import VpceApp


class DetailsScreen(Screen[None]):
    """Everything known about one endpoint, read-only."""

    BINDINGS = bindings_for("details")

    def __init__(self, endpoint: EndpointRow, snapshot: Snapshot) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details-body"):
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

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_edit_policy(self) -> None:
        self.app.pop_screen()
        cast("VpceApp", self.app).open_editor(self.endpoint, self.snapshot)
