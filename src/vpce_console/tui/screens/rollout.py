"""The guided rollout: lint clean → impact reviewed → diff → typed confirmation → apply → propagation watch.

The write and the watch run in workers (`policy-apply`, `policy-watch`); the screen only shows their messages.
Apply and roll back are dangerous actions: disabled in read-only mode, and each asks for the endpoint id.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from vpce_console.tui.actions import bindings_for, dangerous_actions
from vpce_console.tui.drafts import DraftStore
from vpce_console.tui.errors import describe_error
from vpce_console.tui.messages import DenialsArrived, HistoryLoaded, PlanReady, PolicyWritten, WatchTick
from vpce_console.tui.models import ChangeRow, EndpointRow, Snapshot, WatchView
from vpce_console.tui.render import big_timer, colour, format_elapsed
from vpce_console.tui.screens.confirm import ConfirmWrite
from vpce_console.tui.screens.editor import deployed_text, impact_plan, pretty

if TYPE_CHECKING:
    from vpce_console.tui.app import VpceApp

STEPS = ("lint", "impact", "diff", "apply", "watch", "done")
STEP_LABELS = {
    "lint": "lint",
    "impact": "plan",
    "diff": "diff",
    "apply": "confirm",
    "watch": "watch",
    "done": "done",
}
"""Short labels: the whole strip fits an 80-column terminal."""
ROLLBACK_STEPS = ("apply", "watch", "done")
"""A rollback skips lint, plan and diff (its preview is in the confirmation)."""
DANGEROUS = dangerous_actions("rollout")
REPLAY_TIMEOUT_SECONDS = 180.0
"""The plan step's replay gives up after this (a first sync of a big trail): it says so, and that counts as seen."""
REPLAY_PENDING = "the replay of the last 7 days is still running: the plan step shows its line, then n moves on"
DENIAL_SLACK_SECONDS = 2.0
"""Event times are whole seconds: a denial stamped in the second of the write counts as after it."""
LIVE_DENIALS_KEPT = 2000


class RolloutScreen(Screen[None]):
    """One endpoint, one draft, one guided write — and the rollback of it, watched on the same screen."""

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
        rollback: str | None = None,
        watch: bool = False,
        wall: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.requested_rollback = rollback
        """A journal id chosen elsewhere (history, details): ask to roll it back once the journal is read."""
        self.requested_watch = watch
        """Resume watching the endpoint's unfinished change once the journal is read."""
        self.chosen: ChangeRow | None = None
        """The change `b` rolls back when it was chosen explicitly (may be a rollback: an explicit choice)."""
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
        self.converged_after: float | None = None
        """Seconds from write to convergence, recorded once: the timer stops there."""
        self.mode = "apply"
        """`apply` or `rollback`: what the current watch is watching."""
        self.run = 0
        """Increments with each write started here; ticks of an older run are dropped."""
        self.journal_id = ""
        """The change this screen wrote (or is watching): what `b` rolls back."""
        self.rolled_back = False
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
        self.plan: Any = None
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
        self.live_denials: list[Any] = []
        self.old_document_cache: dict[tuple[str, str, str, str], bool] = {}
        """Per live denial's call: does the draft certainly allow it (then the replaced document denied it)."""
        """This endpoint's denials (tail rows) since the write."""
        self.wall = wall

    @property
    def vapp(self) -> VpceApp:
        return cast("VpceApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static("", id="rollout-title")
        yield Static("", id="rollout-steps")
        with Vertical(id="rollout-main"):
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Writes are disabled (shown dimmed) in read-only mode; otherwise each action says why when it refuses."""
        if action in DANGEROUS and self.vapp.read_only:
            return None
        return True

    def refusal(self, action: str) -> str:
        """Why `action` cannot run now ('' when it can)."""
        if action == "next_step":
            if self.step not in ("lint", "impact", "diff"):
                return "nothing to review: the change is past the plan"
            if self.step == "lint":
                if self.unchanged:
                    return "the draft equals the deployed policy: nothing to roll out (e edits it)"
                if self.errors:
                    return f"{self.errors} lint error(s) block the rollout: fix them in the editor (esc)"
            if self.step == "impact" and refused_by(self.plan):
                return f"the plan refuses this change: {refused_by(self.plan)}"
            if self.step == "impact" and not self.replay_seen:
                return REPLAY_PENDING
            return ""
        if action == "apply":
            if self.applied:
                return "already applied: b rolls it back"
            if self.step != "apply":
                return f"review the {STEP_LABELS[self.step]} step first: n moves on"
            if not self.replay_seen:
                return "the plan step has not shown the replay of the last 7 days yet: " + REPLAY_PENDING
            return ""
        if action == "rollback":
            if self.running and self.step != "done":
                return "a write is still being watched: wait for it to finish, then b"
            if self.rolled_back:
                return (
                    "already rolled back: the document in force before the change is live; rolling back the "
                    "rollback is an explicit choice (:history, select the rollback, b)"
                )
            if not self.rollback_target():
                change = self.last_change
                if change is not None and change.kind == "rollback" and not self.applied:
                    return (
                        f"the last change ({change.journal_id}) is a rollback: undoing it re-applies what it removed, "
                        "so it is only done by choosing it in :history (select it, b)"
                    )
                return "the journal has no change to this endpoint that is in force: nothing to roll back"
            return ""
        if action == "watch_change":
            change = self.last_change
            if change is None or change.outcome != "unfinished":
                return "no unfinished change is live on this endpoint: nothing to resume watching"
            if self.running:
                return "a watch is already running"
            return ""
        return ""

    def rollback_target(self) -> str:
        """The journal id `b` rolls back: a chosen change, this screen's change, else the last change in force."""
        if self.chosen is not None and not self.rolled_back:
            return self.chosen.journal_id
        if self.journal_id and self.mode == "apply" and self.applied:
            return self.journal_id
        if self.last_change is not None and not self.applied and self.last_change.kind != "rollback":
            return self.last_change.journal_id  # a rollback is never rolled back by default (only from :history)
        return ""

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
        backend = self.vapp.backend
        build = getattr(backend, "plan", None)
        if build is None:
            self.post_message(PlanReady(None, kind="apply"))  # the impact summary below stands in for it
            return
        busy = await self.vapp.settle_endpoint(self.endpoint.endpoint_id)
        try:
            plan = await build(self.endpoint.endpoint_id, self.draft, self.endpoint.policy_text)
        except Exception as exc:  # the plan is advice: the write path re-checks everything itself
            self.post_message(PlanReady(None, kind="apply", note=f"the plan could not be built: {exc}"))
            return
        if busy and refused_by(plan):
            plan = dataclasses.replace(plan, refused=busy)
        self.post_message(PlanReady(plan, kind="apply"))

    @on(PlanReady)
    def store_plan(self, message: PlanReady) -> None:
        if message.kind == "apply":
            self.plan = message.plan
            self.plan_note = message.note
            self.render_step()
            return
        self.confirm_rollback(message)

    # ----- history ----------------------------------------------------------------------------------------------

    @work(exclusive=True, group="change-history", exit_on_error=False)
    async def load_history(self) -> None:
        """Read this endpoint's journal entries (a file read, in a worker)."""
        backend = self.vapp.backend
        if backend is None:
            return
        self.post_message(HistoryLoaded(await backend.history(self.endpoint.endpoint_id), self.endpoint.endpoint_id))

    @on(HistoryLoaded)
    def store_history(self, message: HistoryLoaded) -> None:
        """Remember the last change that reached AWS if it is what the endpoint holds now."""
        written = [c for c in message.changes if c.written]
        last = written[-1] if written else None
        in_force = last is not None and last.after_sha256 == hashlib.sha256(self.deployed.encode()).hexdigest()
        self.last_change = last if in_force else None
        if self.requested_rollback:
            self.chosen = next((c for c in message.changes if c.journal_id == self.requested_rollback), None)
            self.requested_rollback = None
            if self.chosen is None:
                self.notify("that change is not in the journal", title="Not now", severity="warning", timeout=8)
            else:
                self.call_after_refresh(self.action_rollback)
        if self.requested_watch:
            self.requested_watch = False
            self.call_after_refresh(self.action_watch_change)
        self.render_step()

    # ----- rendering ------------------------------------------------------------------------------------------------

    def steps_line(self) -> Text:
        """`1 ✓ lint › 2 ▶ plan › …`: where the flow stands, in at most 80 columns."""
        steps = ROLLBACK_STEPS if self.mode == "rollback" else STEPS
        current = steps.index(self.step) if self.step in steps else 0
        line = Text()
        if self.mode == "rollback":
            line.append("rollback: ", style="bold")
        for index, name in enumerate(steps):
            done = index < current or (name == "done" and self.step == "done")
            mark = "✓" if done else ("▶" if index == current else "·")
            label = "rolled back" if (self.mode == "rollback" and name == "apply") else STEP_LABELS[name]
            line.append(f"{index + 1} {mark} {label}", style="bold" if index == current else "")
            if index < len(steps) - 1:
                line.append(" › ")
        return line

    def title_line(self) -> str:
        mode = "READ-ONLY: writes are disabled (start with --allow-write)" if self.vapp.read_only else "WRITE ENABLED"
        verb = "Rollback" if self.mode == "rollback" else "Rollout"
        return f"{verb} — {self.endpoint.service} {self.endpoint.endpoint_id} · {mode}"

    def render_step(self, *, mounting: bool = False) -> None:
        """Draw the title, the step strip, the body and (once something was written) the watch."""
        if not (self.is_mounted or mounting):
            return
        self.query_one("#rollout-title", Static).update(self.title_line())
        self.query_one("#rollout-steps", Static).update(self.steps_line())
        self.query_one("#rollout-body", Static).update(self.body())
        watching = self.step in ("watch", "done") or self.watch_view is not None
        self.query_one("#rollout-watch").display = watching
        self.set_class(watching, "-watching")

    replay_line = "replaying the last 7 days of the trail … (n waits for it)"
    """What this draft would have done to the endpoint's real calls (filled in by `load_replay`)."""

    def load_replay(self) -> None:
        """The plan step's replay line: the editor's replay of this very draft, else a new run (in a worker)."""
        from vpce_console.services.replay import observed_line

        backend = self.vapp.backend
        cached = getattr(backend, "cached_replay", None)
        doc = cached(self.endpoint.endpoint_id, self.draft) if cached is not None else None
        if doc is not None:
            self.replay_doc = doc
            self.replay_state = "ready"
            self.replay_line = observed_line(doc)
            return
        if getattr(backend, "replay", None) is None:
            self.replay_state = "unavailable"
            self.replay_line = "not replayed: this console has no trail to replay (nothing checked against real calls)"
            return
        self.replay_state = "running"
        self.run_replay()

    @work(exclusive=True, group="rollout-replay", exit_on_error=False)
    async def run_replay(self) -> None:
        """Replay the draft against the last 7 days of the trail; a failure is said plainly, never a dead end."""
        import asyncio

        from vpce_console.services.replay import observed_line

        replay = getattr(self.vapp.backend, "replay", None)
        if replay is None:
            self.replay_done(None, "not replayed: this console has no trail to replay")
            return
        try:
            doc = await asyncio.wait_for(replay(self.endpoint.endpoint_id, self.draft), REPLAY_TIMEOUT_SECONDS)
        except TimeoutError:
            self.replay_done(None, f"not replayed: the replay did not finish in {REPLAY_TIMEOUT_SECONDS:.0f} s")
            return
        except Exception as exc:  # the replay is advice: say why it is missing and let the person go on
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.replay_done(None, f"not replayed: {first} (nothing checked against real calls)")
            return
        self.replay_done(doc, observed_line(doc))

    def replay_done(self, doc: dict[str, Any] | None, line: str) -> None:
        """Store the replay (or why there is none) and show it on the plan step."""
        self.replay_doc = doc
        self.replay_state = "ready" if doc is not None else "unavailable"
        self.replay_line = line
        self.render_step()
        self.refresh_bindings()

    def probe_calls(self) -> list[dict[str, Any]]:
        """The watch's own probes the plan expects denied (`{account, principal, action}`): they are no surprise."""
        plan = self.plan
        if plan is None:
            return []
        personas = {p.name: (p.account_id, p.role_arn) for p in self.snapshot.personas}
        roles = getattr(self.vapp.backend, "probe_roles", None)
        for name, arn in (roles() if roles is not None else {}).items():
            personas[name] = (arn.split(":")[4] if arn.count(":") >= 5 else "", arn)
        out: list[dict[str, Any]] = []
        for probe in getattr(plan, "probes_denied", ()):
            account, arn = personas.get(probe.who, (None, None))
            principal = arn if arn and arn.startswith("arn:") else None
            out.append({"account": account or None, "principal": principal, "action": probe.action})
        return out

    def sorted_denials(self) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """Live denials since the write: (predicted by the replay, the watch's own probes, the replaced document's
        while the change propagated, unpredicted)."""
        from vpce_console.services.replay import unpredicted

        rows = self.live_denials
        shapes = [{"account": d.account_id, "principal": d.principal, "action": d.action} for d in rows]
        predicted = list((self.replay_doc or {}).get("predicted_denials", ()))
        not_replayed = {id(s) for s in unpredicted(shapes, predicted)}
        not_probed = {id(s) for s in unpredicted(shapes, self.probe_calls())}
        old = self.old_document_flags(rows)
        by_replay, by_probe, by_old, surprises = [], [], [], []
        for d, s, was_old in zip(rows, shapes, old, strict=True):
            if id(s) not in not_replayed:
                by_replay.append(d)
            elif id(s) not in not_probed:
                by_probe.append(d)
            elif was_old:
                by_old.append(d)
            else:
                surprises.append(d)
        return by_replay, by_probe, by_old, surprises

    def old_document_flags(self, rows: list[Any]) -> list[bool]:
        """Per denial: the draft certainly allows the call, so the replaced document denied it while the change
        propagated (cached per call: the tail keeps adding rows while the screen redraws)."""
        from vpce_console.services.replay import old_document_denials

        keys = [(d.account_id, d.principal, d.action, str((d.raw or {}).get("source_ip") or "")) for d in rows]
        missing = [k for k in dict.fromkeys(keys) if k not in self.old_document_cache]
        if missing:
            answers = old_document_denials(
                [{"account": a, "principal": p, "action": act, "source_ip": ip or None} for a, p, act, ip in missing],
                self.draft,
                endpoint_id=self.endpoint.endpoint_id,
                endpoint_vpc=self.endpoint.vpc_id,
            )
            self.old_document_cache.update(zip(missing, answers, strict=True))
        return [self.old_document_cache[k] for k in keys]

    @on(DenialsArrived)
    def denials_arrived(self, message: DenialsArrived) -> None:
        """Keep this endpoint's denials made after this screen's write (the tail runs on the main screen)."""
        if self.written_at is None:
            return
        since = self.written_at - DENIAL_SLACK_SECONDS
        rows = [r for r in message.rows if r.endpoint_id == self.endpoint.endpoint_id and r.at >= since]
        if rows:
            self.live_denials.extend(rows)
            del self.live_denials[:-LIVE_DENIALS_KEPT]
            self.render_step()

    def live_text(self) -> Text:
        """Live denials since the write against the prediction; the unpredicted ones are the surprises."""
        text = Text()
        if self.written_at is None or self.mode != "apply":
            return text
        variables = self.app.theme_variables
        rows = self.live_denials
        if self.replay_doc is None:
            text.append(f"Denials since the write: {len(rows)} (no replay ran: nothing to compare them with)\n")
            return text
        by_replay, by_probe, by_old, surprises = self.sorted_denials()
        text.append(
            f"Denials since the write: {len(rows)} — {len(by_replay)} predicted by the replay, "
            f"{len(by_probe)} covered by the plan's probes, "
            + (f"{len(by_old)} by the replaced document while the change propagated, " if by_old else "")
            + f"{len(surprises)} unpredicted",
            style="bold",
        )
        if not surprises:
            text.append("\n")
            return text
        text.append("\n")
        text.append(
            f"⚠ {len(surprises)} unpredicted denial(s) — the surprises worth a rollback"
            f"{'' if self.vapp.read_only else ' (b)'}:\n",
            style=f"bold {colour(variables, 'finding-error')}",
        )
        counts: dict[tuple[str, str, str], int] = {}
        for d in surprises:
            key = (d.account_id, d.principal, d.action)
            counts[key] = counts.get(key, 0) + 1
        for (account, principal, action), n in sorted(counts.items(), key=lambda kv: -kv[1])[:4]:
            who = principal.split(":", 5)[-1] if principal.startswith("arn:") else principal  # the account is shown
            text.append(f"  {n:>3} × {action}  {who}  ({account})\n")
        return text

    def last_change_text(self) -> Text:
        """The endpoint's last change from the journal, and what can be done with it."""
        text = Text()
        change = self.last_change
        if change is None or self.applied:
            return text
        kind = f"rollback of {change.rollback_of}" if change.kind == "rollback" else change.kind
        text.append(f"\nLast change in force: {change.journal_id} ({kind}, {change.outcome})\n", style="bold")
        text.append(f"  {change.before_version} → {change.after_version}\n")
        if change.kind == "rollback":
            text.append("  undoing a rollback re-applies what it removed: choose it in :history to do that\n")
        elif not self.vapp.read_only:
            text.append("  b: roll it back (restores the document in force before it; you type the endpoint id)\n")
        if change.outcome == "unfinished":
            text.append("  w: watch it (its process stopped before the watch finished)\n")
        return text

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
            if self.errors:
                text.append(
                    f"✗ {self.errors} lint error(s) block the rollout:\n", style=colour(variables, "finding-error")
                )
            else:
                text.append("✓ lint clean (no errors)\n", style=colour(variables, "state-available"))
            for finding in self.findings:
                text.append(
                    f"  {finding.severity} {finding.line}:{finding.column} {finding.code} — {finding.message}\n"
                )
            text.append("\nn: next (plan)" if not self.errors else "\nFix the errors in the editor (esc).")
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
            if self.mode == "rollback":
                text.append("Rolling back: dry run, compare-and-swap, write, verify …\n", style="bold")
                return text
            text.append("Ready to write this policy to ", style="bold")
            text.append(f"{self.endpoint.endpoint_id}.\n", style="bold")
            if self.vapp.read_only:
                text.append("READ-ONLY mode: apply is disabled. Restart with --allow-write to write.\n")
            else:
                text.append("a: apply (a dry run first, then compare-and-swap; you will type the endpoint id)\n")
        elif self.step == "watch":
            text.append_text(self.live_text())
            what = "Rolled back" if self.mode == "rollback" else "Applied"
            text.append(f"{what}. AWS returns the new document at once but enforces the old one for a while;\n")
            text.append("each probe below must show the new behaviour several times in a row.\n")
            if self.mode == "apply":
                text.append("b: roll back once it has converged · esc twice leaves (the change stays live)\n")
            else:
                text.append("esc twice leaves (the rollback stays live)\n")
        elif self.step == "done":
            view = self.watch_view
            status = view.status if view else "?"
            what = "Rollback" if self.mode == "rollback" else "Rollout"
            text.append(f"{what} finished: {status.upper().replace('_', ' ')}\n", style="bold")
            text.append_text(self.live_text())  # first: the surprises must fit an 80×24 terminal
            if view is not None and view.reason:
                text.append(f"{view.reason}\n")
            if self.converged_after is not None:
                text.append(f"In force {format_elapsed(self.converged_after)} after the write.\n")
            if self.journal_id:
                text.append(f"Journal: {self.journal_id}\n")
            if self.rolled_back:
                text.append("The document in force before the change is back.\n")
            elif self.applied and not self.vapp.read_only:
                text.append("b: roll back (restores the previous document; asks for the endpoint id)\n")
        return text

    def plan_text(self) -> Text:
        """The plan as a person reads it: what changes, who is affected, which probes will prove it."""
        plan = self.plan
        if plan is None:
            text = Text()
            if self.plan_note:
                text.append(self.plan_note + "\n", style="italic")
            text.append_text(self.impact_summary())
            return text
        return plan_lines_text(plan, self.app.theme_variables)

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
        """Redraw the big elapsed timer once a second while watching; it stops at convergence."""
        if self.watch_started is None or self.step != "watch" or self.converged_after is not None:
            return
        elapsed = self.clock() - self.watch_started
        self.query_one("#rollout-timer", Static).update(big_timer(elapsed))

    def watch_watch_view(self, view: WatchView | None) -> None:
        if view is None or not self.is_mounted:
            return
        variables = self.app.theme_variables
        self.query_one("#rollout-watch").display = True
        self.set_class(True, "-watching")
        elapsed = self.converged_after if self.converged_after is not None else view.elapsed
        self.query_one("#rollout-timer", Static).update(big_timer(elapsed))
        status = "converged" if self.converged_after is not None and view.status != "flapping" else view.status
        style = {
            "converged": colour(variables, "state-available"),
            "flapping": colour(variables, "finding-warning"),
            "unobserved": colour(variables, "finding-warning"),
            "timed_out": colour(variables, "finding-error"),
            "timed-out": colour(variables, "finding-error"),
        }.get(status, "")
        words = {
            "pending": "⧗ PENDING — old and new policy both in force",
            "converged": "✓ CONVERGED",
            "flapping": "↯ FLAPPING",
            "unobserved": "◌ UNOBSERVED — written; no probe could see it take effect",
            "timed_out": "✗ TIMED OUT",
            "timed-out": "✗ TIMED OUT",
            "planning": "… writing (dry run, compare-and-swap, verify)",
            "refused": "✗ REFUSED — nothing was written",
        }
        label = "rollback " if self.mode == "rollback" else ""
        after = "" if status in ("planning", "refused") else f" after {format_elapsed(elapsed)}"
        self.query_one("#rollout-status", Static).update(
            Text(f"{label}{words.get(status, status.upper())}{after}", style=f"bold {style}")
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
        # The newest steps: the log grows during a watch and only a few lines fit an 80×24 terminal.
        self.query_one("#rollout-evidence", Static).update(Text("\n".join(view.evidence[-5:]) or "no step yet"))

    # ----- actions ----------------------------------------------------------------------------------------------------

    def refuse(self, action: str) -> bool:
        """Say on screen why `action` cannot run now; True when it was refused."""
        why = self.refusal(action)
        if why:
            self.notify(why, title="Not now", severity="warning", timeout=8)
        return bool(why)

    def action_next_step(self) -> None:
        if self.refuse("next_step"):
            return
        self.step = STEPS[STEPS.index(self.step) + 1]

    def action_apply(self) -> None:
        if self.vapp.read_only or self.refuse("apply"):
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.start_run("apply")
                self.apply_draft(self.run)
            else:
                self.notify("cancelled — nothing was written", timeout=4)

        self.app.push_screen(
            ConfirmWrite(self.endpoint.endpoint_id, f"Apply the draft policy to {self.endpoint.endpoint_id}"),
            confirmed,
        )

    def action_rollback(self) -> None:
        """Build the rollback's plan (what it restores and who it affects), then ask for the typed confirmation."""
        if self.vapp.read_only or self.refuse("rollback"):
            return
        self.plan_rollback(self.rollback_target())

    @work(exclusive=True, group="rollout-plan", exit_on_error=False)
    async def plan_rollback(self, target: str) -> None:
        backend = self.vapp.backend
        build = getattr(backend, "rollback_plan", None)
        if build is None:
            self.post_message(PlanReady(None, kind="rollback", journal_id=target))
            return
        try:
            plan = await build(self.endpoint.endpoint_id, target or None)
        except Exception as exc:  # the preview is advice: the rollback itself re-checks everything
            self.post_message(PlanReady(None, kind="rollback", journal_id=target, note=str(exc)))
            return
        self.post_message(PlanReady(plan, kind="rollback", journal_id=target))

    def confirm_rollback(self, message: PlanReady) -> None:
        """Show what the rollback restores (plan and diff) and ask for the endpoint id; refuse with the reason."""
        target = message.journal_id
        plan = message.plan
        if refused_by(plan):
            self.notify(refused_by(plan), title="Not rolled back — nothing was written", severity="warning", timeout=12)
            return
        restored = self.restored_text(target)
        preview = self.rollback_preview(restored)
        if plan is not None:
            lines = [line for line in plan.lines() if not line.startswith("Refused")]
            preview = "\n".join(lines) + ("\n\n" + preview if preview else "")

        what = f"Roll {self.endpoint.endpoint_id} back: restore the document in force before change {target}"
        if self.chosen is not None and self.chosen.journal_id == target and self.chosen.kind == "rollback":
            what = f"UNDO ROLLBACK {target}: this re-applies the document that rollback removed from " + (
                self.endpoint.endpoint_id
            )

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.restoring = restored
                self.start_run("rollback")  # a converged apply still settling is superseded (start_flow cancels it)
                self.rollback_policy(self.run, target)
            else:
                self.notify("cancelled — nothing was written", timeout=4)

        self.app.push_screen(
            ConfirmWrite(
                self.endpoint.endpoint_id,
                what,
                preview=preview,
            ),
            confirmed,
        )

    def restored_text(self, journal_id: str) -> str | None:
        """The document a rollback of `journal_id` restores, when this screen knows it."""
        if self.mode == "apply" and self.applied and journal_id == self.journal_id:
            return self.endpoint_before
        for change in (self.chosen, self.last_change):
            if change is not None and change.journal_id == journal_id:
                return change.before_text
        return None

    def rollback_preview(self, restored: str | None) -> str:
        """The diff a rollback writes (deployed → restored)."""
        from vpce_console.policy.diff import policy_diff

        if restored is None:
            return ""
        return policy_diff(pretty(self.deployed), pretty(restored), labels=("deployed", "restored"))

    def action_watch_change(self) -> None:
        if self.refuse("watch_change"):
            return
        change = self.last_change
        assert change is not None
        self.journal_id = change.journal_id
        self.start_run("apply")
        self.applied = True
        self.resume_watch(self.run)

    def start_run(self, mode: str) -> None:
        """A new write on this screen: fresh watch, timer and convergence."""
        self.run += 1
        self.mode = mode
        self.converged_after = None
        self.watch_started = None
        self.leave_armed = False
        self.watch_view = None
        self.query_one("#probe-table", DataTable).clear()
        self.query_one("#rollout-timer", Static).update(big_timer(0))
        self.query_one("#rollout-status", Static).update("")
        if mode == "rollback":
            self.rolled_back = False
            self.step = "apply"
        self.render_step()

    def start_flow(self, flow: Coroutine[Any, Any, None], group: str) -> None:
        """Run a write and its watch on the app, not on this screen, newest first.

        Leaving the screen must not cut a change's watch short: its journal entry would stay unfinished and the
        next change to the endpoint would be refused. Views posted to a screen that was left are simply dropped.
        """
        superseded = [worker for worker in self.flows if not worker.is_finished]
        for worker in superseded:
            worker.cancel()
        endpoint_id = self.endpoint.endpoint_id
        previous = self.vapp.endpoint_flows.get(endpoint_id)

        async def after_settle() -> None:
            try:
                for worker in superseded:  # this screen's own settling watch: its journal entry and lease close first
                    with contextlib.suppress(Exception):
                        await worker.wait()
                if previous is not None:  # another screen's converged watch, still settling, is cut short
                    await self.vapp.settle_flow(previous)
            except BaseException:
                flow.close()  # never started: no "coroutine was never awaited"
                raise
            await flow

        worker = self.app.run_worker(after_settle(), group=group, exit_on_error=False)
        self.flows = [worker]
        self.vapp.endpoint_flows[endpoint_id] = (worker, lambda: self.converged_after is not None)

    async def follow(self, views: AsyncIterator[WatchView], run: int, doing: str) -> None:
        """Post each view of a write-and-watch to this screen; a failure becomes a notification, never a crash."""
        try:
            async for view in views:
                self.post_message(WatchTick(view, run))
                if view.done:
                    break
        except Exception as exc:
            title, text = describe_error(exc, doing=doing)
            self.app.notify(text, title=title, severity="error", timeout=12)

    def apply_draft(self, run: int = 0) -> None:
        """Write the draft (compare-and-swap against the deployed text we showed) and follow the watch."""
        backend = self.vapp.backend
        if backend is None or self.vapp.read_only:
            return
        views = backend.rollout(
            self.endpoint.endpoint_id, self.endpoint.policy_text, self.draft, timeout=self.watch_timeout
        )
        self.start_flow(self.follow(views, run, "applying the policy"), "policy-apply")

    def rollback_policy(self, run: int, to: str) -> None:
        """Restore the document in force before change `to`, then watch it like any rollout."""
        backend = self.vapp.backend
        if backend is None or self.vapp.read_only:
            return
        views = backend.rollback(self.endpoint.endpoint_id, to=to or None, timeout=self.watch_timeout)
        self.start_flow(self.follow(views, run, "rolling back"), "policy-watch")

    def resume_watch(self, run: int) -> None:
        """Watch the endpoint's unfinished change to the end."""
        backend = self.vapp.backend
        if backend is None:
            return
        views = backend.resume(self.endpoint.endpoint_id, timeout=self.watch_timeout)
        self.start_flow(self.follow(views, run, "watching propagation"), "policy-watch")

    @on(WatchTick)
    def store_tick(self, message: WatchTick) -> None:
        if message.run != self.run:
            return  # a superseded write (the rollback started after it)
        view = message.view
        if view.journal_id:
            self.journal_id = view.journal_id
        if view.status == "refused":
            self.notify(
                view.reason or "refused", title="Not written — nothing was changed", severity="warning", timeout=12
            )
            if self.mode == "rollback":
                self.mode = "apply"
                self.step = "done" if self.applied else "lint"
            self.watch_view = view
            self.render_step()
            return
        if view.applied and self.watch_started is None:
            self.watch_started = self.clock() - view.elapsed
            self.written(view)
            self.step = "watch"
        if view.status == "converged" and self.converged_after is None:
            self.converged_after = view.elapsed
        elif view.status == "flapping":
            self.converged_after = None
        self.watch_view = view
        if (self.converged_after is not None or view.done) and self.watch_started is not None:
            self.step = "done"
        self.render_step()
        self.refresh_bindings()

    def written(self, view: WatchView) -> None:
        """A write was verified: record it, and tell every screen that shows this endpoint."""
        if self.mode == "rollback":
            self.rolled_back = True
            self.applied = False
            self.notify("restored and verified; watching propagation", title="Rolled back", timeout=6)
            new_text = self.restoring if self.restoring is not None else self.endpoint_before
        else:
            self.applied = True
            self.written_at = self.wall() - view.elapsed
            self.live_denials = []
            self.old_document_cache = {}
            DraftStore().discard(self.endpoint.endpoint_id)
            self.notify("written and verified; watching propagation", title="Applied", timeout=6)
            new_text = self.draft
        self.endpoint_before = self.deployed
        self.deployed = new_text
        self.endpoint = dataclasses.replace(self.endpoint, policy_text=new_text)
        self.app.post_message(PolicyWritten(self.endpoint.endpoint_id, new_text))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            doing = {
                "policy-apply": "applying the policy",
                "policy-watch": "rolling back / watching",
                "change-history": "reading the journal",
            }.get(event.worker.group, event.worker.group)
            title, text = describe_error(event.worker.error, doing=doing)
            self.notify(text, title=title, severity="error", timeout=12)

    def action_open_help(self) -> None:
        self.vapp.open_help("Rollout", ("rollout",))

    def action_back(self) -> None:
        """Leave; while a write or watch is running, only on a second Esc (leaving stops watching, not the change)."""
        if self.running and not self.leave_armed:
            self.leave_armed = True
            self.notify(
                "the watch is still running: Esc again leaves it (the change stays live; "
                "o on the endpoint or :history finds it again)",
                severity="warning",
                timeout=8,
            )
            return
        self.app.pop_screen()


def plan_lines_text(plan: Any, variables: Any) -> Text:
    """`RolloutPlan.lines()` with the section headings in bold and the refusal in the error colour."""
    text = Text()
    for line in plan.lines():
        if line.startswith("Refused"):
            text.append(line + "\n", style=f"bold {colour(variables, 'finding-error')}")
        elif line.startswith("  no probe can observe"):
            text.append(line + "\n", style=colour(variables, "finding-warning"))
        elif not line.startswith(" "):
            text.append(line + "\n", style="bold")
        else:
            text.append(line + "\n")
    return text


def refused_by(plan: Any) -> str:
    """Why the plan says nothing may be written ('' when it may, or when there is no plan)."""
    return str(getattr(plan, "refused", "") or "") if plan is not None else ""
