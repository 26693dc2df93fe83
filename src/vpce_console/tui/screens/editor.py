"""The policy editor: the document, live findings beside it, the impact matrix and the diff below.

Linting runs in an exclusive worker after a short pause in typing (the next keystroke cancels it: that is the
debounce); impact runs in a thread worker because evaluating every persona × action is CPU work.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane, TextArea

from vpce_console.policy.vocab import SEVERITIES, SEVERITY_ORDER
from vpce_console.tui.actions import bindings_for
from vpce_console.tui.context import ScreenContext
from vpce_console.tui.drafts import Draft, DraftStore, deployed_text, pretty
from vpce_console.tui.models import EndpointRow, Snapshot
from vpce_console.tui.navigation import OpenHelp, OpenRollout
from vpce_console.tui.render import colour, severity_text
from vpce_console.tui.screens.editor_impact import ObservedRow, evaluate_impact, fill_impact_table, observed_rows
from vpce_console.tui.widgets.policytext import PolicyTextArea

if TYPE_CHECKING:
    from vpce_console.policy.impact_matrix import ImpactResult

LINT_DELAY_SECONDS = 0.25
"""Pause in typing before the linter runs."""
OBSERVED_DELAY_SECONDS = 1.5
"""Replay reads the trail: wait for a longer pause in typing than lint does."""


class PolicyEditorScreen(Screen[None]):
    """Edit a draft of one endpoint's policy with findings, impact and diff kept current."""

    BINDINGS = bindings_for("editor")

    findings: reactive[tuple[Any, ...]] = reactive(())
    """Lint findings of the current draft (policy.findings.Finding)."""
    draft_saved: reactive[str] = reactive("")
    """Where the draft was last saved, for the status line."""

    def __init__(
        self, endpoint: EndpointRow, snapshot: Snapshot, context: ScreenContext, *, store: DraftStore | None = None
    ) -> None:
        super().__init__()
        self.context = context
        self.endpoint = endpoint
        self.snapshot = snapshot
        self.store = store or DraftStore()
        self.deployed = deployed_text(endpoint)
        saved = self.store.load(endpoint.endpoint_id)
        self.restored = saved is not None and saved.text != self.deployed
        self.initial_text = saved.text if saved is not None and self.restored else pretty(self.deployed)
        self.impact_result: ImpactResult | None = None
        self.observed_callers: list[dict[str, Any]] = []
        """The heaviest callers of the last replay (Observed tab): personas from evidence in the matrix."""

    def compose(self) -> ComposeResult:
        yield Static("", id="editor-status")
        with Horizontal(id="editor-top"):
            yield PolicyTextArea(
                self.initial_text,
                id="policy-text",
                show_line_numbers=True,
                tab_behavior="indent",
                soft_wrap=False,
            )
            with Vertical(id="findings-side"):
                table: DataTable[object] = DataTable(id="findings-table", cursor_type="row")
                table.add_columns("Sev", "Line:Col", "Code", "Message")
                yield table
                yield Static("", id="finding-detail")
        with TabbedContent(id="editor-tabs", initial="impact"):
            with TabPane("Impact (personas × actions)", id="impact"):
                yield DataTable(id="impact-table", cursor_type="cell")
            with TabPane("Diff vs deployed", id="diff"), VerticalScroll(id="diff-scroll"):
                yield Static("", id="diff-view")
            with TabPane("Observed (7d)", id="observed"), VerticalScroll(id="observed-scroll"):
                yield Static("replaying the last 7 days of the trail …", id="observed-view")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#policy-text", TextArea).focus()
        self.update_status()
        if self.restored:
            self.notify(f"restored your unsaved draft from {self.store.path(self.endpoint.endpoint_id)}", timeout=6)
        self.lint_soon(self.initial_text, delay=0.0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Nothing in the editor writes to AWS; the rollout screen gates the write itself."""
        return True

    # ----- lint / impact / diff -------------------------------------------------------------------------------

    @on(TextArea.Changed, "#policy-text")
    def policy_edited(self, event: TextArea.Changed) -> None:
        self.lint_soon(event.text_area.text)

    @work(exclusive=True, group="policy-lint", exit_on_error=False)
    async def lint_soon(self, text: str, delay: float = LINT_DELAY_SECONDS) -> None:
        """Lint after a short pause in typing; the next keystroke cancels this worker."""
        if delay:
            await asyncio.sleep(delay)
        from vpce_console.policy.endpoint_context import EndpointContext
        from vpce_console.policy.linter import lint

        shared = EndpointContext(  # the console lists hub endpoints: shared by the spokes
            self.endpoint.endpoint_id, self.endpoint.vpc_id, self.endpoint.account_id or None, shared=True
        )
        findings = tuple(lint(text, policy_type="vpce", service=self.endpoint.service, endpoint=shared))
        self.findings = findings
        self.update_diff(text)
        self.save_draft(text)
        self.compute_impact(self.deployed, text)
        if self.query_one("#editor-tabs", TabbedContent).active == "observed":
            self.compute_observed(text)  # replay reads the trail: only while someone looks at the tab

    @on(TabbedContent.TabActivated, "#editor-tabs")
    def tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "observed":
            self.compute_observed(self.current_text(), delay=0.0)

    @work(exclusive=True, group="policy-observed", exit_on_error=False)
    async def compute_observed(self, draft: str, delay: float = OBSERVED_DELAY_SECONDS) -> None:
        """Replay the draft against the endpoint's real calls of the last 7 days (the trail; seconds, not ms)."""
        if delay:
            await asyncio.sleep(delay)  # the next edit cancels this one: replay what was typed last
        view = self.query_one("#observed-view", Static)
        backend = self.context.backend
        if backend is None:
            view.update("Not connected yet: the replay runs on the next edit or visit of this tab.")
            return
        from vpce_console.services.replay_text import observed_line, observed_text

        try:
            doc = await backend.replay(self.endpoint.endpoint_id, draft)
        except Exception as exc:
            view.update(f"Replay unavailable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            return
        view.update(observed_text(doc, probes=self.probe_names()))
        callers = doc.get("callers")
        if isinstance(callers, list) and callers and self.observed_callers != callers:
            self.observed_callers = [c for c in callers if isinstance(c, dict)]  # they join the matrix as personas
            self.compute_impact(self.deployed, self.current_text())
        self.query_one("#editor-tabs", TabbedContent).get_tab("observed").label = (
            "Observed (7d): " + observed_line(doc).split(" would have ", 1)[1].split(" in the last")[0]
        )

    def probe_names(self) -> dict[str, str]:
        """Who this console can probe as: role ARN (or `account/vpc` of a workload) -> probe or persona name."""
        names: dict[str, str] = {}
        pset = self.snapshot.persona_set
        if pset is not None:
            for p in pset.personas:
                if p.name in pset.credentials:  # a workload whose keys this machine holds (a lab's personas)
                    names.setdefault(p.role_arn, p.name)
                    names.setdefault(f"{p.account_id}/{p.vpc_id}", p.name)
        backend = self.context.backend
        for name, arn in (backend.probe_roles() if backend is not None else {}).items():
            names[arn] = name
        return names

    def watch_findings(self, findings: tuple[Any, ...]) -> None:
        table = self.query_one("#findings-table", DataTable)
        table.clear()
        variables = self.app.theme_variables
        for index, finding in enumerate(
            sorted(findings, key=lambda f: (SEVERITY_ORDER.get(str(f.severity), 9), f.line))
        ):
            table.add_row(
                severity_text(str(finding.severity), variables),
                f"{finding.line}:{finding.column}",
                finding.code,
                Text(finding.message),
                key=str(index),
            )
        self.update_status()
        self.show_finding()

    def sorted_findings(self) -> list[Any]:
        return sorted(self.findings, key=lambda f: (SEVERITY_ORDER.get(str(f.severity), 9), f.line))

    def selected_finding(self) -> Any:
        table = self.query_one("#findings-table", DataTable)
        rows = self.sorted_findings()
        return rows[table.cursor_row] if rows and 0 <= table.cursor_row < len(rows) else None

    def show_finding(self) -> None:
        detail = self.query_one("#finding-detail", Static)
        finding = self.selected_finding()
        if finding is None:
            detail.update(Text("✓ no findings", style=colour(self.app.theme_variables, "state-available")))
            return
        text = Text()
        text.append(f"{finding.code} at line {finding.line}, column {finding.column}\n", style="bold")
        text.append(f"{finding.message}\n")
        if getattr(finding, "hint", ""):
            text.append(f"fix: {finding.hint}\n")
        if getattr(finding, "path", ""):
            text.append(f"at {finding.path}", style="italic")
        detail.update(text)

    @on(DataTable.RowHighlighted, "#findings-table")
    def finding_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_finding()

    @on(DataTable.RowSelected, "#findings-table")
    def finding_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a finding moves the editor's cursor to it."""
        finding = self.selected_finding()
        if finding is None:
            return
        area = self.query_one("#policy-text", TextArea)
        line = max(0, int(finding.line) - 1)
        column = max(0, int(finding.column) - 1)
        area.cursor_location = (line, column)
        area.scroll_cursor_visible()
        area.focus()

    def update_diff(self, text: str) -> None:
        """Unified diff against the deployed document, with +/- marks as well as colour."""
        from vpce_console.policy.diff import policy_diff

        diff = policy_diff(pretty(self.deployed), text)
        view = Text()
        if not diff.strip():
            view.append("no changes against the deployed policy")
        variables = self.app.theme_variables
        for line in diff.splitlines():
            if line.startswith("+") and not line.startswith("+++"):
                view.append(line + "\n", style=colour(variables, "decision-allow"))
            elif line.startswith("-") and not line.startswith("---"):
                view.append(line + "\n", style=colour(variables, "decision-deny"))
            else:
                view.append(line + "\n")
        self.query_one("#diff-view", Static).update(view)

    @work(exclusive=True, group="policy-impact", exit_on_error=False, thread=True)
    def compute_impact(self, deployed: str, draft: str) -> None:
        """Evaluate every persona × action under both documents (CPU work, off the event loop)."""
        result, note = evaluate_impact(self.endpoint, self.snapshot, deployed, draft)
        if result is None:
            self.app.call_from_thread(self.show_impact, None, note)
            return
        self.app.call_from_thread(self.show_impact, result, "", self.observed_rows(result, deployed, draft))

    def observed_rows(self, result: ImpactResult, deployed: str, draft: str) -> list[ObservedRow]:
        """The heaviest observed callers (from the Observed tab's replay) evaluated on the matrix's columns."""
        facts = self.context.backend.replay_facts if self.context.backend is not None else None
        return observed_rows(self.observed_callers, result, deployed, draft, self.endpoint, facts)

    def show_impact(self, result: ImpactResult | None, note: str, observed: list[ObservedRow] | None = None) -> None:
        """Render the matrix (`editor_impact.fill_impact_table`) and say on the tab how many cells change."""
        self.impact_result = result
        table: DataTable[object] = self.query_one("#impact-table", DataTable)
        changed = fill_impact_table(table, result, note, observed or (), self.app.theme_variables)
        if changed is None:
            return
        self.query_one("#editor-tabs", TabbedContent).get_tab("impact").label = (
            f"Impact: {changed} changed" if changed else "Impact: no change"
        )
        self.update_status()

    # ----- drafts and status ------------------------------------------------------------------------------------

    def save_draft(self, text: str) -> None:
        """Keep the draft on disk while it differs from the deployed document."""
        if text.strip() == pretty(self.deployed).strip() or text.strip() == self.deployed.strip():
            self.store.discard(self.endpoint.endpoint_id)
            self.draft_saved = ""
            return
        self.store.save(Draft(self.endpoint.endpoint_id, text, self.deployed))
        self.draft_saved = "draft saved"

    def watch_draft_saved(self) -> None:
        self.update_status()

    def update_status(self) -> None:
        if not self.is_mounted:
            return
        counts = {s: sum(1 for f in self.findings if str(f.severity) == s) for s in SEVERITIES}
        mode = "read-only: drafts only" if self.context.read_only else "write enabled"
        parts = [
            f"Policy editor — {self.endpoint.service} {self.endpoint.endpoint_id}",
            f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info",
            self.draft_saved or "no changes",
            mode,
        ]
        self.query_one("#editor-status", Static).update(" · ".join(parts))

    def policy_written(self, text: str) -> None:
        """The endpoint now holds `text` (an apply or rollback verified it): the editor starts over from it.

        The old draft was written or rolled back, so its diff, impact and "draft saved" would all be stale.
        """
        import dataclasses

        self.endpoint = dataclasses.replace(self.endpoint, policy_text=text)
        self.deployed = deployed_text(self.endpoint)
        self.store.discard(self.endpoint.endpoint_id)
        self.draft_saved = ""
        area = self.query_one("#policy-text", TextArea)
        area.load_text(pretty(self.deployed))
        self.lint_soon(area.text, delay=0.0)

    # ----- actions ------------------------------------------------------------------------------------------------

    def current_text(self) -> str:
        return self.query_one("#policy-text", TextArea).text

    def action_save_draft(self) -> None:
        self.save_draft(self.current_text())
        self.notify(f"draft saved to {self.store.path(self.endpoint.endpoint_id)}", timeout=4)

    def action_focus_findings(self) -> None:
        self.query_one("#findings-table", DataTable).focus()

    def action_focus_text(self) -> None:
        self.query_one("#policy-text", TextArea).focus()

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#editor-tabs", TabbedContent).active = tab

    def action_open_rollout(self) -> None:
        self.post_message(OpenRollout(self.endpoint, self.snapshot, draft=self.current_text()))

    def action_open_help(self) -> None:
        self.post_message(OpenHelp("Policy editor", ("editor",)))

    def action_back(self) -> None:
        self.app.pop_screen()
