"""Finding values the linter and the parser emit; the codes and severities come from data/findings.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is; `error` makes `vpce lint` exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_RANK: dict[Severity, int] = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
"""Sort order for display: errors first."""


@dataclass(frozen=True, slots=True)
class Related:
    """A second rule that the same mistake trips, reported inside the root-cause finding instead of on its own."""

    code: str
    """The catalog code of the consequence, e.g. `forallvalues-vacuous`."""
    line: int
    """1-based line."""
    column: int
    """1-based column."""
    path: str
    """JSON path of the element."""
    message: str
    """What that consequence is."""

    def to_json(self) -> dict[str, object]:
        """The JSON shape inside a finding's `related` list."""
        return {"code": self.code, "line": self.line, "column": self.column, "path": self.path, "message": self.message}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem the linter found in a policy, pointing at the exact key, operator or value."""

    code: str
    """Stable id from data/findings.yaml, e.g. `hub-scoped-key`."""
    severity: Severity
    """Severity from the catalog entry of `code`."""
    line: int
    """1-based line of the offending element."""
    column: int
    """1-based column (in characters) of the offending element."""
    path: str
    """JSON path of the offending element, e.g. `Statement[0].Condition.StringEquals.aws:SourceVpc`."""
    message: str
    """What is wrong and why, in words an on-call engineer understands."""
    hint: str
    """How to fix it."""
    related: tuple[Related, ...] = ()
    """Other rules the same mistake trips (one mistake, one finding); JSON `related`, SARIF `relatedLocations`."""

    def to_json(self) -> dict[str, object]:
        """The stable JSON shape used by `vpce lint --format json` (`related` only when there is some)."""
        out: dict[str, object] = {
            "code": self.code,
            "severity": str(self.severity),
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }
        if self.related:
            out["related"] = [r.to_json() for r in self.related]
        return out


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    """True when any finding is an error (the CLI's exit-1 rule)."""
    return any(f.severity is Severity.ERROR for f in findings)
