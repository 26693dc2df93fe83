"""The guided rollout: lint clean → impact reviewed → diff → typed confirmation → apply → propagation watch.

The write and the watch run in workers (`policy-apply`, `policy-watch`); the screen only shows their messages.
Apply and roll back are dangerous actions: disabled in read-only mode, and each asks for the endpoint id.
This module is the write side (the actions, the flows they start, the views those post); the state and what
each step shows are in `rollout_view.RolloutView`, which this screen extends.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from textual import on, work
from textual.worker import Worker, WorkerState

from vpce_console.tui.actions import bindings_for, dangerous_actions
from vpce_console.tui.drafts import DraftStore
from vpce_console.tui.errors import describe_error
from vpce_console.tui.messages import HistoryLoaded, PlanReady, PolicyWritten, WatchTick
from vpce_console.tui.models import WatchView
from vpce_console.tui.navigation import OpenHelp
from vpce_console.tui.screens import rollout_text as wording
from vpce_console.tui.screens.confirm import ConfirmWrite
from vpce_console.tui.screens.rollout_text import STEPS, refused_by
from vpce_console.tui.screens.rollout_view import RolloutView
from vpce_console.tui.screens.rollout_watch import WatchPanel

DANGEROUS = dangerous_actions("rollout")


class RolloutScreen(RolloutView):
    """One endpoint, one draft, one guided write — and the rollback of it, watched on the same screen."""

    BINDINGS = bindings_for("rollout")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Writes are disabled (shown dimmed) in read-only mode; otherwise each action says why when it refuses."""
        if action in DANGEROUS and self.read_only:
            return None
        return True

    @on(PlanReady)
    def store_plan(self, message: PlanReady) -> None:
        if message.kind == "apply":
            self.plan = message.plan
            self.plan_note = message.note
            self.render_step()
            return
        self.confirm_rollback(message)

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
        if self.read_only or self.refuse("apply"):
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.last_write = ("apply", "")
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
        if self.read_only or self.refuse("rollback"):
            return
        self.plan_rollback(self.rollback_target())

    @work(exclusive=True, group="rollout-plan", exit_on_error=False)
    async def plan_rollback(self, target: str) -> None:
        backend = self.backend
        if backend is None:
            self.post_message(PlanReady(None, kind="rollback", journal_id=target))
            return
        try:
            plan = await backend.rollback_plan(self.endpoint.endpoint_id, target or None)
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
        chosen = self.chosen
        what, preview = wording.rollback_confirmation(
            self.endpoint.endpoint_id,
            target,
            plan,
            wording.rollback_preview(self.deployed, restored),
            undoes_rollback=chosen is not None and chosen.journal_id == target and chosen.kind == "rollback",
        )

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.restoring = restored
                self.last_write = ("rollback", target)
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

    def action_break_lease(self) -> None:
        """Break the stale lease that refused the last write here (its id typed out), then run that write again."""
        if self.read_only or self.refuse("break_lease"):
            return
        lease_id = self.stale_lease
        kind, target = self.last_write
        again = "roll back again" if kind == "rollback" else "apply the draft again"
        what = f"Break the stale lease {lease_id} on {self.endpoint.endpoint_id} (its holder is gone) and {again}"

        def confirmed(ok: bool | None) -> None:
            if not ok:
                self.notify("cancelled — nothing was written, the lease stays", timeout=4)
                return
            self.start_run(kind)
            if kind == "rollback":
                self.rollback_policy(self.run, target, break_lease=lease_id)
            else:
                self.apply_draft(self.run, break_lease=lease_id)

        self.app.push_screen(ConfirmWrite(lease_id, what, noun="lease id"), confirmed)

    def restored_text(self, journal_id: str) -> str | None:
        """The document a rollback of `journal_id` restores, when this screen knows it."""
        if self.mode == "apply" and self.applied and journal_id == self.journal_id:
            return self.endpoint_before
        for change in (self.chosen, self.last_change):
            if change is not None and change.journal_id == journal_id:
                return change.before_text
        return None

    def action_watch_change(self) -> None:
        if self.refuse("watch_change"):
            return
        change = self.last_change
        assert change is not None
        self.journal_id = change.journal_id
        self.start_run("apply")
        self.applied = True
        self.resuming = True
        self.step = "watch"  # the write was made earlier, by a process that stopped: only its watch is left
        self.render_step()
        self.resume_watch(self.run)

    def start_run(self, mode: str) -> None:
        """A new write on this screen: fresh watch, timer and convergence (what it replaces is kept until the
        write is under way: a refused rollback puts the converged watch back instead of a blank REFUSED)."""
        self.before_run = (self.mode, self.step, self.watch_view, self.converged_after, self.watch_started)
        self.before_rolled_back = self.rolled_back
        self.rollback_refused = ""
        self.stale_lease = ""
        self.run += 1
        self.mode = mode
        self.resuming = False
        self.converged_after = None
        self.watch_started = None
        self.leave_armed = False
        self.watch_view = None
        self.query_one(WatchPanel).reset()
        if mode == "rollback":
            self.rolled_back = False
            self.step = "apply"
        self.render_step()

    def start_flow(self, flow: Coroutine[Any, Any, None], group: str) -> None:
        """Run a write and its watch on the app, not on this screen, newest first (see `tui.flows`).

        Views posted to a screen that was left are simply dropped.
        """
        worker = self.endpoint_flows.start(
            self.endpoint.endpoint_id,
            flow,
            superseded=[worker for worker in self.flows if not worker.is_finished],
            converged=lambda: self.converged_after is not None,
            run=lambda coroutine: self.app.run_worker(coroutine, group=group, exit_on_error=False),
        )
        self.flows = [worker]

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

    def apply_draft(self, run: int = 0, break_lease: str | None = None) -> None:
        """Write the draft (compare-and-swap against the deployed text we showed) and follow the watch."""
        backend = self.backend
        if backend is None or self.read_only:
            return
        views = backend.rollout(
            self.endpoint.endpoint_id,
            self.endpoint.policy_text,
            self.draft,
            timeout=self.watch_timeout,
            break_lease=break_lease,
        )
        self.start_flow(self.follow(views, run, "applying the policy"), "policy-apply")

    def rollback_policy(self, run: int, to: str, break_lease: str | None = None) -> None:
        """Restore the document in force before change `to`, then watch it like any rollout."""
        backend = self.backend
        if backend is None or self.read_only:
            return
        views = backend.rollback(
            self.endpoint.endpoint_id, to=to or None, timeout=self.watch_timeout, break_lease=break_lease
        )
        self.start_flow(self.follow(views, run, "rolling back"), "policy-watch")

    def resume_watch(self, run: int) -> None:
        """Watch the endpoint's unfinished change to the end."""
        backend = self.backend
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
            self.stale_lease = view.stale_lease
            self.notify(
                view.reason or "refused", title="Not written — nothing was changed", severity="warning", timeout=12
            )
            if self.mode == "rollback" and self.before_run[2] is not None:
                # nothing was written: the screen shows again the watch it showed before `b`
                self.mode, self.step, previous, self.converged_after, self.watch_started = self.before_run
                self.rolled_back = self.before_rolled_back
                self.rollback_refused = view.reason or "refused"
                self.watch_view = previous
                self.render_step()
                self.refresh_bindings()
                return
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
        elif self.resuming and self.watch_started is None and view.elapsed > 0:
            # a resumed watch reports time since the original write: the timer and the live denials count from it
            self.watch_started = self.clock() - view.elapsed
            self.written_at = self.wall() - view.elapsed
            self.live_denials = []
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
        self.post_message(OpenHelp("Rollout", ("rollout",)))

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
