"""The rollout screen's state and what it shows: each step's body, the plan, the replay line, the live denials.

`RolloutView` never writes: the actions that write (apply, roll back, resume a watch) and the handling of the
views they post are in `rollout.RolloutScreen`, which is the screen the app opens. Wording is in `rollout_text`,
the gating rules in `rollout_rules`, the denials' grouping in `rollout_denials`, the watch widget in `rollout_watch`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker

from vpce_console.tui.backend import Backend
from vpce_console.tui.context import ScreenContext
from vpce_console.tui.drafts import DraftStore, deployed_text, pretty
from vpce_console.tui.flows import EndpointFlows
from vpce_console.tui.messages import DenialsArrived, HistoryLoaded, PlanReady
from vpce_console.tui.models import ChangeRow, DenialRow, EndpointRow, Snapshot, WatchView
from vpce_console.tui.screens import rollout_denials as denials
from vpce_console.tui.screens import rollout_rules as rules
from vpce_console.tui.screens import rollout_text as wording
from vpce_console.tui.screens.rollout_replay import REPLAY_RUNNING, known_replay, replay_draft
from vpce_console.tui.screens.rollout_text import refused_by
from vpce_console.tui.screens.rollout_watch import WatchPanel

if TYPE_CHECKING:
    from vpce_console.services.plan import RolloutPlan


class RolloutView(Screen[None]):
    """One endpoint, one draft: the flow's state and every step drawn from it (the screen's read side)."""

    step: reactive[str] = reactive("lint")
    """Where the flow stands (one of STEPS)."""
    watch_view: reactive[WatchView | None] = reactive(None)
    """Latest propagation watch tick."""

    def __init__(
        self,
        endpoint: EndpointRow,
        snapshot: Snapshot,
        draft: str | None,
        context: ScreenContext,
        *,
        rollback: str | None = None,
        watch: bool = False,
    ) -> None:
        super().__init__()
        self.context = context
        self.requested_rollback = rollback
        """A journal id chosen elsewhere (history, details): ask to roll it back once the journal is read."""
        self.requested_watch = watch
        """Resume watching the endpoint's unfinished change once the journal is read."""
        self.chosen: ChangeRow | None = None
        """The change `b` rolls back when it was chosen explicitly (may be a rollback: an explicit choice)."""
        self.endpoint = endpoint
        self.snapshot = snapshot
        self.clock = context.monotonic
        self.watch_timeout = context.watch_timeout
        self.deployed = deployed_text(endpoint)
        if draft is None:
            saved = DraftStore().load(endpoint.endpoint_id)
            draft = saved.text if saved is not None else pretty(self.deployed)
        self.draft = draft
        self.findings: list[Any] = []
        self.applied = False
        self.watch_started: float | None = None
        self.converged_after: float | None = None
        """Seconds from write to convergence, recorded once: the timer stops there."""
        self.mode = "apply"
        """`apply` or `rollback`: what the current watch is watching."""
        self.run = 0
        """Increments with each write started here; ticks of an older run are dropped."""
        self.journal_id = ""
        """The change this screen wrote (or is watching): what `b` rolls back."""
        self.rolled_back = False
        self.resuming = False
        """The running watch is of a change an earlier process wrote (`w`), not of a write made here."""
        self.before_run: tuple[str, str, WatchView | None, float | None, float | None] = (
            "apply",
            "lint",
            None,
            None,
            None,
        )
        """Mode, step, watch view, convergence and start of the run before the current one (see `start_run`)."""
        self.before_rolled_back = False
        self.rollback_refused = ""
        """Why the last `b` on this screen was refused (shown until the next write starts)."""
        self.stale_lease = ""
        """The id of a stale lease (holder gone or expired) that refused the last write: `x` breaks it, typed out."""
        self.last_write: tuple[str, str] = ("apply", "")
        """The last write started here (`apply` or `rollback`, and the change a rollback undoes): what `x` retries."""
        self.last_change: ChangeRow | None = None
        """The endpoint's last change that reached AWS, from the journal, when it is still in force."""
        self.leave_armed = False
        """Set by a first Esc during a running watch; the second one leaves."""
        self.endpoint_before = self.deployed
        """The document this screen's apply replaced: what rolling it back restores."""
        self.restoring: str | None = None
        """The document the running rollback writes, when known (to refresh the other screens)."""
        self.flows: list[Worker[None]] = []
        """The app workers running this screen's write and watch (they outlive the screen)."""
        self.plan: RolloutPlan | None = None
        """The services' plan for this draft (`services.plan.RolloutPlan`), once built."""
        self.plan_note = ""
        """Why there is no plan to show (still building, or the backend could not build one)."""
        self.replay_doc: dict[str, Any] | None = None
        """The replay of this exact draft (`ReplayReport.to_json()`), once run; None without one."""
        self.replay_state = "idle"
        """`idle`, `running`, `ready` (a replay line) or `unavailable` (no trail, or the replay failed)."""
        self.replay_seen = False
        """The plan step has shown the replay line (or said plainly why there is none): apply may be confirmed."""
        self.written_at: float | None = None
        """Wall-clock time of this screen's verified write: live denials from then on are compared."""
        self.live_denials: list[DenialRow] = []
        """This endpoint's denials (tail rows) since the write."""
        self.old_document_cache: dict[denials.OldDocumentKey, bool] = {}
        """Per live denial's call: does the draft certainly allow it (then the replaced document denied it)."""
        self.wall = context.clock
        """Wall clock (the write's time, against the denials' event times): the context's, so tests can freeze it."""

    @property
    def backend(self) -> Backend | None:
        return self.context.backend

    @property
    def read_only(self) -> bool:
        return self.context.read_only

    @property
    def endpoint_flows(self) -> EndpointFlows:
        return self.context.flows

    def compose(self) -> ComposeResult:
        yield Static("", id="rollout-title")
        yield Static("", id="rollout-steps")
        with Vertical(id="rollout-main"):
            with VerticalScroll(id="rollout-body-scroll"):
                yield Static("", id="rollout-body")
            yield WatchPanel(id="rollout-watch")
        yield Footer()

    def on_mount(self) -> None:
        from vpce_console.policy.endpoint_context import EndpointContext
        from vpce_console.policy.linter import lint

        shared = EndpointContext(
            self.endpoint.endpoint_id, self.endpoint.vpc_id, self.endpoint.account_id or None, shared=True
        )
        self.findings = list(lint(self.draft, policy_type="vpce", service=self.endpoint.service, endpoint=shared))
        self.set_interval(1.0, self.tick_timer, name="rollout-timer")
        self.render_step(mounting=True)
        self.load_history()

    # ----- gating -----------------------------------------------------------------------------------------------

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if str(f.severity) == "error")

    @property
    def unchanged(self) -> bool:
        return self.draft.strip() in (self.deployed.strip(), pretty(self.deployed).strip())

    @property
    def running(self) -> bool:
        """A write or watch started here is still going."""
        return any(not worker.is_finished for worker in self.flows)

    def refusal(self, action: str) -> str:
        """Why `action` cannot run now ('' when it can)."""
        return rules.refusal(self, action)

    def rollback_target(self) -> str:
        """The journal id `b` rolls back: a chosen change, this screen's change, else the last change in force."""
        return rules.rollback_target(self)

    def can_advance(self) -> bool:
        return not self.refusal("next_step")

    def watch_step(self, step: str) -> None:
        if step == "impact" and self.plan is None:
            self.plan_note = "… building the plan: impact on every persona and the probes that will prove it"
            self.load_plan()
        if step == "impact" and self.replay_state == "idle":
            self.load_replay()
        self.render_step()
        self.refresh_bindings()

    @work(exclusive=True, group="rollout-plan", exit_on_error=False)
    async def load_plan(self) -> None:
        """Ask the services for the plan (reads the endpoint, evaluates personas, chooses probes; writes nothing)."""
        backend = self.backend
        if backend is None:
            self.post_message(PlanReady(None, kind="apply"))  # the impact summary below stands in for it
            return
        busy = await self.endpoint_flows.settle_endpoint(self.endpoint.endpoint_id)
        try:
            plan = await backend.plan(self.endpoint.endpoint_id, self.draft, self.endpoint.policy_text)
        except Exception as exc:  # the plan is advice: the write path re-checks everything itself
            self.post_message(PlanReady(None, kind="apply", note=f"the plan could not be built: {exc}"))
            return
        if busy and refused_by(plan):
            plan = dataclasses.replace(plan, refused=busy)
        self.post_message(PlanReady(plan, kind="apply"))

    # ----- history ----------------------------------------------------------------------------------------------

    @work(exclusive=True, group="change-history", exit_on_error=False)
    async def load_history(self) -> None:
        """Read this endpoint's journal entries (a file read, in a worker)."""
        backend = self.backend
        if backend is None:
            return
        self.post_message(HistoryLoaded(await backend.history(self.endpoint.endpoint_id), self.endpoint.endpoint_id))

    # ----- rendering ------------------------------------------------------------------------------------------------

    def render_step(self, *, mounting: bool = False) -> None:
        """Draw the title, the step strip, the body and (once something was written) the watch."""
        if not (self.is_mounted or mounting):
            return
        self.query_one("#rollout-title", Static).update(wording.title_line(self.endpoint, self.mode, self.read_only))
        self.query_one("#rollout-steps", Static).update(wording.steps_line(self.step, self.mode))
        self.query_one("#rollout-body", Static).update(self.body())
        watching = self.step in ("watch", "done") or self.watch_view is not None
        self.query_one("#rollout-watch").display = watching
        self.set_class(watching, "-watching")

    replay_line = REPLAY_RUNNING
    """What this draft would have done to the endpoint's real calls (filled in by `load_replay`)."""

    def load_replay(self) -> None:
        """The plan step's replay line: the editor's replay of this very draft, else a new run (in a worker)."""
        known = known_replay(self.backend, self.endpoint.endpoint_id, self.draft)
        if known is not None:
            self.replay_doc, self.replay_line = known
            self.replay_state = "ready" if self.replay_doc is not None else "unavailable"
            return
        self.replay_state = "running"
        self.run_replay()

    @work(exclusive=True, group="rollout-replay", exit_on_error=False)
    async def run_replay(self) -> None:
        """Replay the draft against the last 7 days of the trail (`rollout_replay.replay_draft`)."""
        self.replay_done(*await replay_draft(self.backend, self.endpoint.endpoint_id, self.draft))

    def replay_done(self, doc: dict[str, Any] | None, line: str) -> None:
        """Store the replay (or why there is none) and show it on the plan step."""
        self.replay_doc = doc
        self.replay_state = "ready" if doc is not None else "unavailable"
        self.replay_line = line
        if doc is not None and doc.get("callers") and self.step == "impact":
            self.load_plan()  # again: the plan probes as the heaviest observed callers where it can act as them
        self.render_step()
        self.refresh_bindings()

    def probe_calls(self) -> list[dict[str, Any]]:
        """The watch's own probes the plan expects denied: they are no surprise."""
        roles = self.backend.probe_roles if self.backend is not None else None
        return denials.probe_calls(self.plan, self.snapshot.personas, roles)

    def sorted_denials(self) -> denials.DenialGroups:
        """Live denials since the write: (predicted by the replay, the watch's own probes, the replaced document's
        while the change propagated, unpredicted)."""
        rows = self.live_denials
        old = denials.old_document_flags(rows, self.old_document_cache, self.draft, self.endpoint)
        roles = self.backend.probe_roles if self.backend is not None else None
        loosened = denials.probe_calls(self.plan, self.snapshot.personas, roles, allowed_after=True)
        return denials.group_denials(rows, self.replay_doc, self.probe_calls(), old, loosened)

    @on(DenialsArrived)
    def denials_arrived(self, message: DenialsArrived) -> None:
        """Keep this endpoint's denials made after this screen's write (the tail runs on the main screen)."""
        if self.written_at is None:
            return
        rows = denials.denials_since(message.rows, self.endpoint.endpoint_id, self.written_at)
        if rows:
            self.live_denials.extend(rows)
            del self.live_denials[: -denials.LIVE_DENIALS_KEPT]
            self.render_step()

    def live_text(self) -> Text:
        """Live denials since the write against the prediction; the unpredicted ones are the surprises."""
        if self.written_at is None or self.mode != "apply":
            return Text()
        groups = self.sorted_denials() if self.replay_doc is not None else None
        return denials.live_text(
            self.live_denials, groups, read_only=self.read_only, variables=self.app.theme_variables
        )

    def last_change_text(self) -> Text:
        return wording.last_change_text(self.last_change, applied=self.applied, read_only=self.read_only)

    def body(self) -> Text:
        """What this step asks the person to check (never empty: a blank screen helps nobody at 3 a.m.)."""
        variables = self.app.theme_variables
        text = Text()
        if self.step == "lint":
            if self.unchanged:
                text.append("The draft equals the deployed policy: nothing to roll out.\n", style="bold")
                text.append("Edit it first (esc, then e on the endpoint).\n")
                text.append_text(self.last_change_text())
                return text
            text.append_text(wording.lint_text(self.findings, self.errors, variables))
            text.append_text(self.last_change_text())
        elif self.step == "impact":
            # first: a long plan must not push the line apply depends on below an 80×24 terminal's fold
            text.append(f"Observed: {self.replay_line}\n\n", style="bold")
            text.append_text(self.plan_text())
            if self.replay_state in ("ready", "unavailable"):
                self.replay_seen = True  # drawn on the plan step right now: the person has it in front of them
                text.append("\nn: next (diff)")
            else:
                text.append("\nn waits for the replay line (apply needs it seen)")
        elif self.step == "diff":
            text.append_text(wording.diff_text(self.deployed, self.draft, variables))
        elif self.step == "apply":
            text.append_text(wording.apply_text(self.endpoint.endpoint_id, self.mode, self.read_only))
            if self.stale_lease and not self.read_only:
                text.append(f"\nx: break the stale lease {self.stale_lease} and apply again (you type its id)")
        elif self.step == "watch":
            text.append_text(self.live_text())
            text.append_text(wording.watch_text(self.mode))
        elif self.step == "done":
            view = self.watch_view
            text.append_text(wording.done_heading(view, self.mode))
            if self.stale_lease and not self.read_only:  # first: the way out must fit above an 80×24 fold
                text.append(f"x: break the stale lease {self.stale_lease} and roll back again (you type its id)\n")
            if self.rollback_refused:
                text.append(f"Rollback refused, nothing written: {self.rollback_refused}\n", style="bold")
            text.append_text(self.live_text())  # first: the surprises must fit an 80×24 terminal
            text.append_text(
                wording.done_details(
                    view,
                    converged_after=self.converged_after,
                    journal_id=self.journal_id,
                    rolled_back=self.rolled_back,
                    applied=self.applied,
                    read_only=self.read_only,
                )
            )
        return text

    def plan_text(self) -> Text:
        """The plan as a person reads it: what changes, who is affected, which probes will prove it."""
        impact = Text()
        if self.plan is None:
            impact = wording.impact_summary(self.endpoint, self.snapshot, self.deployed, self.draft)
        return wording.plan_text(self.plan, self.plan_note, impact, self.app.theme_variables)

    def tick_timer(self) -> None:
        """Redraw the big elapsed timer once a second while watching; it stops at convergence."""
        if self.watch_started is None or self.step != "watch" or self.converged_after is not None:
            return
        self.query_one(WatchPanel).tick(self.clock() - self.watch_started)

    def watch_watch_view(self, view: WatchView | None) -> None:
        if view is None or not self.is_mounted:
            return
        panel = self.query_one(WatchPanel)
        panel.display = True
        self.set_class(True, "-watching")
        panel.show(view, converged_after=self.converged_after, mode=self.mode, variables=self.app.theme_variables)
