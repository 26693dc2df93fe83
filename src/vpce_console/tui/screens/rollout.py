"""The guided rollout: lint clean → impact reviewed → diff → typed confirmation → apply → propagation watch.

The write and the watch run in workers (`policy-apply`, `policy-watch`); the screen only shows their messages.
Apply and roll back are dangerous actions: disabled in read-only mode, and each asks for the endpoint id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from vpce_console.tui.actions import bindings_for, dangerous_actions
from vpce_console.tui.drafts import DraftStore
from vpce_console.tui.errors import describe_error
from vpce_console.tui.messages import Applied, WatchTick
from vpce_console.tui.models import EndpointRow, Snapshot, WatchView
from vpce_console.tui.render import big_timer, colour, format_elapsed
from vpce_console.tui.screens.confirm import ConfirmWrite
from vpce_console.tui.screens.editor import deployed_text, impact_plan, pretty

if TYPE_CHECKING:
    from vpce_console.tui.app import VpceApp

STEPS = ("lint", "impact", "diff", "apply", "watch", "done")
STEP_LABELS = {
    "lint": "lint clean",
    "impact": "impact reviewed",
    "diff": "diff",
    "apply": "confirm + apply",
    "watch": "propagation watch",
    "done": "converged / timed out",
}
DANGEROUS = dangerous_actions("rollout")


class RolloutScreen(Screen[None]):
    """One endpoint, one draft, one guided write."""

    BINDINGS = bindings_for("rollout")

    step: reactive[str] = reactive("lint")
    """Where the flow stands (one of STEPS)."""
    watch_view: reactive[WatchView | None] = reactive(None)
    """Latest propagation watch tick."""

    def __init__(
        self,
        endpoint: EndpointRow,
        snapshot: Snapshot,
        draft: str | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        watch_timeout: float | None = None,
    ) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.snapshot = snapshot
        self.clock = clock
        self.watch_timeout = watch_timeout
        self.deployed = deployed_text(endpoint)
        if draft is None:
            saved = DraftStore().load(endpoint.endpoint_id)
            draft = saved.text if saved is not None else pretty(self.deployed)
        self.draft = draft
        self.findings: list[Any] = []
        self.applied = False
        self.watch_started: float | None = None
        self.rolled_back = False
        self.leave_armed = False
        """Set by a first Esc during a running watch; the second one leaves."""

    @property
    def vapp(self) -> VpceApp:
        return cast("VpceApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static("", id="rollout-title")
        yield Static("", id="rollout-steps")
        with Horizontal(id="rollout-main"):
            with VerticalScroll(id="rollout-body-scroll"):
                yield Static("", id="rollout-body")
            with Vertical(id="rollout-watch"):
                yield Static("", id="rollout-timer")
                yield Static("", id="rollout-status")
                table: DataTable[object] = DataTable(id="probe-table", cursor_type="row")
                table.add_columns("Probe", "Expect", "Last", "Streak", "Flaps")
                yield table
                yield Static("", id="rollout-evidence")
        yield Footer()

    def on_mount(self) -> None:
        from vpce_console.policy.endpoint_context import EndpointContext
        from vpce_console.policy.linter import lint

        shared = EndpointContext(
            self.endpoint.endpoint_id, self.endpoint.vpc_id, self.endpoint.account_id or None, shared=True
        )
        self.findings = list(lint(self.draft, policy_type="vpce", service=self.endpoint.service, endpoint=shared))
        mode = "READ-ONLY: apply is disabled (start with --allow-write)" if self.vapp.read_only else "WRITE ENABLED"
        self.query_one("#rollout-title", Static).update(
            f"Rollout — {self.endpoint.service} {self.endpoint.endpoint_id} · {mode}"
        )
        self.set_interval(1.0, self.tick_timer, name="rollout-timer")
        self.render_step()

    # ----- gating -----------------------------------------------------------------------------------------------

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if str(f.severity) == "error")

    @property
    def unchanged(self) -> bool:
        return self.draft.strip() in (self.deployed.strip(), pretty(self.deployed).strip())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Writes are disabled (shown dimmed) in read-only mode and until the flow reaches them."""
        if action in DANGEROUS and self.vapp.read_only:
            return None
        if action == "apply":
            return True if self.step == "apply" and not self.applied else None
        if action == "rollback":
            return True if self.applied and not self.rolled_back else None
        if action == "next_step":
            return True if self.step in ("lint", "impact", "diff") and self.can_advance() else None
        return True

    def can_advance(self) -> bool:
        if self.step == "lint":
            return self.errors == 0 and not self.unchanged
        return True

    def watch_step(self) -> None:
        self.render_step()
        self.refresh_bindings()

    # ----- rendering ------------------------------------------------------------------------------------------------

    def render_step(self) -> None:
        if not self.is_mounted:
            return
        current = STEPS.index(self.step)
        line = Text()
        for index, name in enumerate(STEPS):
            mark = "✓" if index < current else ("▶" if index == current else "·")
            style = "bold" if index == current else ""
            line.append(f"{index + 1} {mark} {STEP_LABELS[name]}", style=style)
            if index < len(STEPS) - 1:
                line.append("  →  ")
        self.query_one("#rollout-steps", Static).update(line)
        self.query_one("#rollout-body", Static).update(self.body())
        self.query_one("#rollout-watch").display = self.step in ("watch", "done") or self.watch_view is not None

    def body(self) -> Text:
        """What this step asks the person to check."""
        variables = self.app.theme_variables
        text = Text()
        if self.step == "lint":
            if self.unchanged:
                text.append("The draft equals the deployed policy: nothing to roll out.\n", style="bold")
                text.append("Edit it first (esc, then e on the endpoint).")
                return text
            if self.errors:
                text.append(
                    f"✗ {self.errors} lint errors block the rollout:\n", style=colour(variables, "finding-error")
                )
            else:
                text.append("✓ lint clean (no errors)\n", style=colour(variables, "state-available"))
            for finding in self.findings:
                text.append(
                    f"  {finding.severity} {finding.line}:{finding.column} {finding.code} — {finding.message}\n"
                )
            text.append("\nn: next (impact)" if not self.errors else "\nFix the errors in the editor (esc).")
        elif self.step == "impact":
            text.append_text(self.impact_summary())
            text.append("\nn: next (diff)")
        elif self.step == "diff":
            from vpce_console.policy.diff import policy_diff

            for line in policy_diff(pretty(self.deployed), self.draft).splitlines():
                style = ""
                if line.startswith("+") and not line.startswith("+++"):
                    style = colour(variables, "decision-allow")
                elif line.startswith("-") and not line.startswith("---"):
                    style = colour(variables, "decision-deny")
                text.append(line + "\n", style=style)
            text.append("\nn: next (confirm and apply)")
        elif self.step == "apply":
            text.append("Ready to write this policy to ", style="bold")
            text.append(f"{self.endpoint.endpoint_id}.\n", style="bold")
            if self.vapp.read_only:
                text.append("READ-ONLY mode: apply is disabled. Restart with --allow-write to write.\n")
            else:
                text.append("a: apply (a dry run first, then compare-and-swap; you will type the endpoint id)\n")
        elif self.step == "watch":
            text.append("Applied. AWS returns the new document at once but enforces the old one for minutes;\n")
            text.append("the probes below must each show the new behaviour several times in a row.\n")
        elif self.step == "done":
            view = self.watch_view
            status = view.status if view else "?"
            text.append(f"Watch finished: {status.upper()}\n", style="bold")
            if self.rolled_back:
                text.append("Rolled back to the previous document.\n")
            else:
                text.append("b: roll back (writes; asks for the endpoint id)\n")
        return text

    def impact_summary(self) -> Text:
        """Changed persona × action decisions, in words."""
        from vpce_console.policy.impact_matrix import impact

        text = Text()
        plan = impact_plan(self.endpoint, self.snapshot, self.deployed, self.draft)
        if plan is None:
            text.append("No personas known: impact cannot be shown.\n")
            return text
        try:
            result = impact(self.deployed, self.draft, *plan)
        except ValueError as exc:
            text.append(f"Impact could not be evaluated: {exc}\n")
            return text
        changed = [cell for cell in result.cells if cell.changed]
        text.append(f"{len(changed)} of {len(result.cells)} persona × action decisions change:\n", style="bold")
        for cell in changed:
            before = "✓ allow" if cell.before.allowed else "✗ deny"
            after = "✓ allow" if cell.after.allowed else "✗ deny"
            text.append(f"  {cell.persona.name:<24} {cell.action:<32} {before} → {after}\n")
        return text

    def tick_timer(self) -> None:
        """Redraw the big elapsed timer once a second while watching."""
        if self.watch_started is None or self.step != "watch":
            return
        elapsed = self.clock() - self.watch_started
        self.query_one("#rollout-timer", Static).update(big_timer(elapsed))

    def watch_watch_view(self, view: WatchView | None) -> None:
        if view is None:
            return
        variables = self.app.theme_variables
        self.query_one("#rollout-watch").display = True
        elapsed = view.elapsed
        self.query_one("#rollout-timer", Static).update(big_timer(elapsed))
        style = {
            "converged": colour(variables, "state-available"),
            "flapping": colour(variables, "finding-warning"),
            "timed_out": colour(variables, "finding-error"),
            "timed-out": colour(variables, "finding-error"),
        }.get(view.status, "")
        words = {
            "pending": "⧗ PENDING — old and new policy both in force",
            "converged": "✓ CONVERGED",
            "flapping": "↯ FLAPPING",
            "timed_out": "✗ TIMED OUT",
            "timed-out": "✗ TIMED OUT",
            "planning": "… writing (dry run, compare-and-swap, verify)",
            "refused": "✗ REFUSED — nothing was written",
        }
        self.query_one("#rollout-status", Static).update(
            Text(f"{words.get(view.status, view.status)} after {format_elapsed(elapsed)}", style=f"bold {style}")
        )
        table = self.query_one("#probe-table", DataTable)
        table.clear()
        for probe in view.probes:
            ok = probe.last == probe.expected
            table.add_row(
                Text(probe.name),
                probe.expected,
                f"{'✓' if ok else '✗'} {probe.last}",
                str(probe.streak),
                str(probe.flaps),
            )
        self.query_one("#rollout-evidence", Static).update(Text("\n".join(view.evidence) or "no passive evidence yet"))

    # ----- actions ----------------------------------------------------------------------------------------------------

    def action_next_step(self) -> None:
        if self.step in ("lint", "impact", "diff") and self.can_advance():
            self.step = STEPS[STEPS.index(self.step) + 1]

    def action_apply(self) -> None:
        if self.vapp.read_only or self.step != "apply":
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.apply_draft()
            else:
                self.notify("cancelled — nothing was written", timeout=4)

        self.app.push_screen(
            ConfirmWrite(self.endpoint.endpoint_id, f"Apply the draft policy to {self.endpoint.endpoint_id}"),
            confirmed,
        )

    def action_rollback(self) -> None:
        if self.vapp.read_only or not self.applied:
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.rollback_policy()

        self.app.push_screen(
            ConfirmWrite(self.endpoint.endpoint_id, f"Roll {self.endpoint.endpoint_id} back to the previous policy"),
            confirmed,
        )

    @work(exclusive=True, group="policy-apply", exit_on_error=False)
    async def apply_draft(self) -> None:
        """Write the draft (compare-and-swap against the deployed text we showed) and follow the watch."""
        backend = self.vapp.backend
        if backend is None or self.vapp.read_only:
            return
        async for view in backend.rollout(
            self.endpoint.endpoint_id, self.endpoint.policy_text, self.draft, timeout=self.watch_timeout
        ):
            self.post_message(WatchTick(view))
            if view.done:
                break

    @on(WatchTick)
    def store_tick(self, message: WatchTick) -> None:
        view = message.view
        if view.status == "refused":
            self.notify(
                view.reason or "refused", title="Not applied — nothing was written", severity="warning", timeout=12
            )
            self.watch_view = view
            self.render_step()
            return
        if view.applied and not self.applied:
            self.applied = True
            DraftStore().discard(self.endpoint.endpoint_id)
            self.watch_started = self.clock() - view.elapsed
            self.notify("written and verified; watching propagation", title="Applied", timeout=6)
            self.step = "watch"
        self.watch_view = view
        if view.done and self.applied:
            self.step = "done"
            self.refresh_bindings()

    @on(Applied)
    def rollback_done(self, message: Applied) -> None:
        outcome = message.outcome
        if not outcome.applied:
            self.notify(outcome.message, title="Not rolled back", severity="warning", timeout=10)
            return
        self.rolled_back = True
        self.notify(outcome.message, title="Rolled back", timeout=8)
        self.render_step()
        self.refresh_bindings()

    @work(exclusive=True, group="policy-apply", exit_on_error=False)
    async def rollback_policy(self) -> None:
        backend = self.vapp.backend
        if backend is None or self.vapp.read_only:
            return
        self.post_message(Applied(await backend.rollback(self.endpoint.endpoint_id)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            doing = {"policy-apply": "applying the policy", "policy-watch": "watching propagation"}.get(
                event.worker.group, event.worker.group
            )
            title, text = describe_error(event.worker.error, doing=doing)
            self.notify(text, title=title, severity="error", timeout=12)

    def action_open_help(self) -> None:
        self.vapp.open_help("Rollout", ("rollout",))

    def action_back(self) -> None:
        """Leave; while a write or watch is running, only on a second Esc (leaving stops watching, not the change)."""
        running = any(w.group in ("policy-apply", "policy-watch") and not w.is_finished for w in self.workers)
        if running and not self.leave_armed:
            self.leave_armed = True
            self.notify(
                "the watch is still running: Esc again leaves it (the new policy stays live; "
                "`vpce rollout --resume` continues watching)",
                severity="warning",
                timeout=8,
            )
            return
        self.app.pop_screen()
