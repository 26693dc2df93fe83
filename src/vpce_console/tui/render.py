"""Small pure helpers that turn values into words, symbols and themed Rich text (never colour alone)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from rich.text import Text

from vpce_console.data import prices
from vpce_console.tui.themes import SEMANTIC_DEFAULTS

SPARK_CHARS = "▁▂▃▄▅▆▇█"

DECISION_WORDS = {
    "allow": ("✓", "allow", "decision-allow"),
    "explicit_deny": ("✗", "deny (explicit)", "decision-deny"),
    "implicit_deny": ("✗", "deny (no allow)", "decision-deny"),
}
"""Decision kind -> (symbol, words, semantic colour)."""

SEVERITY_WORDS = {
    "error": ("✗", "error", "finding-error"),
    "warning": ("!", "warning", "finding-warning"),
    "info": ("i", "info", "finding-info"),
}

STATE_COLOURS = {
    "available": "state-available",
    "pending": "state-pending",
    "pendingacceptance": "state-pending",
    "failed": "state-failed",
    "rejected": "state-failed",
    "deleted": "state-failed",
    "deleting": "state-pending",
}

SUBSCRIBER_WORDS = {
    "associated": ("✓", "associated", "state-available"),
    "missing": ("✗", "missing", "finding-warning"),
    "forbidden": ("⊘", "FORBIDDEN", "finding-error"),
    "stale": ("?", "stale", "finding-warning"),
    "none": ("·", "", "stale"),
}


def colour(variables: Mapping[str, str], name: str) -> str:
    """The theme's colour for a semantic variable, falling back to the built-in default name."""
    return variables.get(name) or SEMANTIC_DEFAULTS.get(name, "default")


def decision_text(kind: str, variables: Mapping[str, str]) -> Text:
    """`✓ allow` / `✗ deny (explicit)` in the decision colour."""
    symbol, words, var = DECISION_WORDS.get(kind, ("?", kind, "stale"))
    return Text(f"{symbol} {words}", style=colour(variables, var))


def severity_text(severity: str, variables: Mapping[str, str], *, label: str | None = None) -> Text:
    """`✗ error` / `! warning` / `i info` in the severity colour."""
    symbol, words, var = SEVERITY_WORDS.get(severity, ("?", severity, "stale"))
    return Text(f"{symbol} {label if label is not None else words}", style=colour(variables, var))


def state_text(state: str, variables: Mapping[str, str]) -> Text:
    """An endpoint state, coloured by meaning but always spelled out."""
    var = STATE_COLOURS.get(state.lower().replace("-", ""), "stale")
    symbol = "●" if var == "state-available" else "○"
    return Text(f"{symbol} {state}", style=colour(variables, var))


PATH_MARKS = {"profile": ("P", "via Profile"), "both": ("✓P", "direct + Profile")}
"""How an associated cell shows a Route 53 Profile path (a direct association keeps the plain ✓)."""


def subscriber_text(
    status: str, variables: Mapping[str, str], findings: int = 0, *, compact: bool = False, path: str = ""
) -> Text:
    """A matrix cell: symbol and word (or the symbol alone in the compact matrix, whose legend spells them out),
    plus the number of doctor findings for it; `P` marks a service reached through a Route 53 Profile."""
    symbol, words, var = SUBSCRIBER_WORDS.get(status, ("?", status, "stale"))
    if status in ("associated", "forbidden") and path in PATH_MARKS:
        mark, said = PATH_MARKS[path]
        symbol, words = (mark, said) if status == "associated" else (symbol + "P", f"{words} {said}")
    text = Text(symbol if compact else f"{symbol} {words}".rstrip(), style=colour(variables, var))
    if findings:
        text.append(f"{findings}✱" if compact else f" ({findings}✱)", style=colour(variables, "finding-warning"))
    return text


def short_principal(arn: str, width: int = 30) -> str:
    """The readable tail of a principal ARN (`assumed-role/app/i-0abc…`), cut to `width`."""
    tail = arn.split(":", 5)[-1] if arn.startswith("arn:") else arn
    return tail if len(tail) <= width else tail[: width - 1] + "…"


def sparkline(values: Sequence[float], width: int = 12) -> str:
    """A one-line block sparkline of the last `width` values (blank when there is no data)."""
    if not values:
        return "—"
    tail = list(values)[-width:]
    top = max(tail)
    if top <= 0:
        return SPARK_CHARS[0] * len(tail)
    return "".join(SPARK_CHARS[min(len(SPARK_CHARS) - 1, int(v / top * (len(SPARK_CHARS) - 1)))] for v in tail)


def bytes_sparkline(values: Sequence[float], width: int = 8) -> str:
    """Hourly byte counts as at most `width` block cells scaled to their own peak, so every endpoint's daily shape
    shows whatever its volume; longer series are averaged into `width` equal-as-possible groups, oldest first, and
    an all-zero series is a run of `·` (no traffic, rather than a flat floor that reads as some traffic)."""
    if not values or width < 1:
        return ""
    count = len(values)
    if count <= width:
        cells = [float(v) for v in values]
    else:
        bounds = [i * count // width for i in range(width + 1)]
        cells = [sum(values[lo:hi]) / (hi - lo) for lo, hi in itertools.pairwise(bounds)]
    top = max(cells)
    if top <= 0:
        return "·" * len(cells)
    steps = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[min(steps, max(0, int(v / top * steps)))] for v in cells)


def bytes_cell_text(hourly: Sequence[float], total: float | None, width: int = 8) -> str:
    """The Endpoints pane's traffic cell: the sparkline padded to `width` and the total right-aligned, so the column
    lines up; 8 cells of 3 h each keep the whole table inside 120 columns."""
    if total is None and not hourly:
        return "— no metrics"
    spark = bytes_sparkline(hourly, width)
    amount = human_bytes(float(sum(hourly)) if total is None else total)
    return f"{spark:>{width}} {amount:>9}" if spark else amount


def human_bytes(value: float) -> str:
    """Bytes in GB (and B/KB/MB/TB) exactly as the cost report counts them, short enough for a table column."""
    return prices.human_bytes(value)


def bar(value: float, top: float, width: int) -> str:
    """A horizontal bar scaled to `top`, with eighth-block precision."""
    if top <= 0 or value <= 0:
        return ""
    cells = value / top * width
    full = int(cells)
    rest = int((cells - full) * 8)
    return "█" * full + ("▏▎▍▌▋▊▉"[rest - 1] if rest else "")


def format_elapsed(seconds: float) -> str:
    """mm:ss for the propagation timer."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


BIG_DIGITS = {
    "0": ("█▀█", "█ █", "▀▀▀"),
    "1": (" ▄█", "  █", "  ▀"),
    "2": ("▀▀█", "█▀▀", "▀▀▀"),
    "3": ("▀▀█", " ▀█", "▀▀▀"),
    "4": ("█ █", "▀▀█", "  ▀"),
    "5": ("█▀▀", "▀▀█", "▀▀▀"),
    "6": ("█▀▀", "█▀█", "▀▀▀"),
    "7": ("▀▀█", "  █", "  ▀"),
    "8": ("█▀█", "█▀█", "▀▀▀"),
    "9": ("█▀█", "▀▀█", "▀▀▀"),
    ":": (" ", "▪", "▪"),
}


def big_timer(seconds: float) -> str:
    """The elapsed time in three-line block digits, readable from across the room."""
    text = format_elapsed(seconds)
    return "\n".join(" ".join(BIG_DIGITS[ch][row] for ch in text) for row in range(3))
