"""The rollout screen's propagation watch: the big timer, the status line, the probe table and the newest steps.

A widget of its own so the screen only says what to show (a `WatchView`, the elapsed time); how a watch round
reads — colours, words, the ✓/✗ per probe — lives here.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from vpce_console.tui.models import WatchView
from vpce_console.tui.render import big_timer, colour, format_elapsed

STATUS_WORDS = {
    "pending": "⧗ PENDING — old and new policy both in force",
    "converged": "✓ CONVERGED",
    "flapping": "↯ FLAPPING",
    "unobserved": "◌ UNOBSERVED — written; no probe could see it take effect",
    "timed_out": "✗ TIMED OUT",
    "timed-out": "✗ TIMED OUT",
    "planning": "… writing (dry run, compare-and-swap, verify)",
    "refused": "✗ REFUSED — nothing was written",
}
EVIDENCE_SHOWN = 5
"""The newest steps: the log grows during a watch and only a few lines fit an 80×24 terminal."""


class WatchPanel(Vertical):
    """Timer, status, probes and evidence of the running (or last) write-and-watch on the rollout screen."""

    def compose(self) -> ComposeResult:
        yield Static("", id="rollout-timer")
        yield Static("", id="rollout-status")
        table: DataTable[object] = DataTable(id="probe-table", cursor_type="row")
        table.add_columns("Probe", "Expect", "Last", "Streak", "Flaps")
        yield table
        yield Static("", id="rollout-evidence")

    def reset(self) -> None:
        """A new write: no probe rows, the timer at zero, no status."""
        self.query_one("#probe-table", DataTable).clear()
        self.query_one("#rollout-timer", Static).update(big_timer(0))
        self.query_one("#rollout-status", Static).update("")

    def tick(self, elapsed: float) -> None:
        """Redraw the big timer."""
        self.query_one("#rollout-timer", Static).update(big_timer(elapsed))

    def show(self, view: WatchView, *, converged_after: float | None, mode: str, variables: Mapping[str, str]) -> None:
        """Draw one watch round; once converged the timer and the status stay at convergence (unless it flaps)."""
        elapsed = converged_after if converged_after is not None else view.elapsed
        self.tick(elapsed)
        status = "converged" if converged_after is not None and view.status != "flapping" else view.status
        self.query_one("#rollout-status", Static).update(status_line(status, elapsed, mode, variables))
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
        evidence = "\n".join(view.evidence[-EVIDENCE_SHOWN:]) or "no step yet"
        self.query_one("#rollout-evidence", Static).update(Text(evidence))


def status_line(status: str, elapsed: float, mode: str, variables: Mapping[str, str]) -> Text:
    """`✓ CONVERGED after 1m 19s`, in the colour of how it went; a rollback says so first."""
    style = {
        "converged": colour(variables, "state-available"),
        "flapping": colour(variables, "finding-warning"),
        "unobserved": colour(variables, "finding-warning"),
        "timed_out": colour(variables, "finding-error"),
        "timed-out": colour(variables, "finding-error"),
    }.get(status, "")
    label = "rollback " if mode == "rollback" else ""
    after = "" if status in ("planning", "refused") else f" after {format_elapsed(elapsed)}"
    return Text(f"{label}{STATUS_WORDS.get(status, status.upper())}{after}", style=f"bold {style}")
