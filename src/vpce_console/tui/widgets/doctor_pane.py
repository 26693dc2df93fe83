"""The Doctor pane: findings grouped by severity, each with where, why, the fix and its commands."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from vpce_console.policy.vocab import SEVERITIES, SEVERITY_ORDER
from vpce_console.tui.models import (
    DoctorRow,
)
from vpce_console.tui.render import (
    colour,
    severity_text,
)
from vpce_console.tui.widgets.pane_base import (
    Pane,
)


def doctor_where(row: DoctorRow) -> str:
    """Where a finding is: account, VPC id with its name, service, endpoint (the parts it has)."""
    vpc = f"{row.vpc_id} ({row.vpc_name})" if row.vpc_id and row.vpc_name else row.vpc_id
    account = f"account {row.account_id}" if row.account_id else None
    return " · ".join(part for part in (account, vpc, row.service, row.endpoint_id) if part)


class DoctorPane(Pane):
    """Doctor findings grouped by severity, each with its explanation and fix hint."""

    PANE_NAME = "doctor"
    TITLE = "Doctor"
    HELP_SCOPE = "doctor"

    def compose(self) -> ComposeResult:
        yield self.compose_title()
        with VerticalScroll(id="doctor-scroll"):
            yield Static("", id="doctor-body")

    def on_mount(self) -> None:
        self.update_title()

    def visible_rows(self) -> list[DoctorRow]:
        """Findings passing the filter, most severe first."""
        flt = self.row_filter
        rows = [
            row
            for row in self.snapshot.doctor
            if flt.matches(
                {
                    "code": row.code,
                    "severity": row.severity,
                    "message": row.message,
                    "vpc": row.vpc_id or "",
                    "service": row.service or "",
                    "account": row.account_id or "",
                    "endpoint": row.endpoint_id or "",
                }
            )
        ]
        return sorted(rows, key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.code, r.vpc_id or ""))

    def rerender(self) -> None:
        rows = self.visible_rows()
        body = Text()
        if not rows:
            body.append("✓ no findings" if self.loaded else "", style=colour(self.variables, "state-available"))
        for severity in SEVERITIES:
            group = [row for row in rows if row.severity == severity]
            if not group:
                continue
            body.append_text(severity_text(severity, self.variables, label=f"{severity.upper()}S ({len(group)})"))
            body.append("\n")
            for row in group:
                body.append(f"  {row.code}", style="bold")
                body.append(f"  {doctor_where(row)}\n")
                body.append(f"    {row.message}\n")
                if row.explanation and row.explanation not in row.message:
                    body.append(f"    why: {row.explanation}\n", style="italic")
                if row.hint:
                    body.append(f"    fix: {row.hint}\n")
                for step, command in enumerate(row.fix_commands, 1):
                    body.append(f"      {step}. {command}\n")
            body.append("\n")
        self.query_one("#doctor-body", Static).update(body)
        counts = {s: sum(1 for r in rows if r.severity == s) for s in SEVERITIES}
        self.update_title(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info")

    def focus_main(self) -> None:
        self.query_one("#doctor-scroll").focus()
