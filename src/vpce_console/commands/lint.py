"""`vpce lint FILE…|-`: findings for endpoint policy files as text, JSON or SARIF 2.1.0 (exit 1 on errors).

Only the pure lint path is imported (no SDK, no Textual), so linting hundreds of files in CI stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from vpce_console.errors import UsageError

if TYPE_CHECKING:
    from vpce_console.data.knowledge import Catalog
    from vpce_console.policy.findings import Finding

FORMATS = ("text", "json", "sarif")
POLICY_TYPE_CHOICES = ("vpce", "identity", "resource")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
"""SARIF has no `info` level; `note` is its equivalent."""
STDIN_NAME = "<stdin>"


@dataclass(frozen=True, slots=True)
class LintedFile:
    """One input file and its findings."""

    path: str
    """The path as given on the command line (`<stdin>` for `-`)."""
    findings: tuple[Finding, ...]
    """Findings sorted by position."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce lint`."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="policy JSON files; '-' reads standard input")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--service",
        metavar="NAME",
        help="the endpoint's service (sqs, ecr.api, com.amazonaws.us-east-1.sqs): flags other services' actions/keys",
    )
    parser.add_argument(
        "--policy-type",
        choices=POLICY_TYPE_CHOICES,
        default="vpce",
        help="vpce (default) applies every endpoint-policy rule; identity/resource only the generic IAM rules",
    )


def read_input(name: str) -> tuple[str, str]:
    """(display path, text) for one argument; UsageError naming the file when it cannot be read."""
    if name == "-":
        try:
            return STDIN_NAME, sys.stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {STDIN_NAME}: {_reason(exc)}") from None
    try:
        return name, Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {name}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def run(args: argparse.Namespace) -> int:
    """Lint every file, print the report, exit 1 when any finding is an error."""
    from vpce_console.data.knowledge import default_catalog
    from vpce_console.policy.findings import has_errors
    from vpce_console.policy.linter import lint

    inputs = [read_input(name) for name in args.files]
    results = [
        LintedFile(path, tuple(lint(text, policy_type=args.policy_type, service=args.service))) for path, text in inputs
    ]
    out = sys.stdout
    if args.format == "json":
        out.write(json.dumps(render_json(results), indent=2) + "\n")
    elif args.format == "sarif":
        out.write(json.dumps(render_sarif(results, default_catalog()), indent=2) + "\n")
    else:
        out.write(render_text(results))
    return 1 if any(has_errors(r.findings) for r in results) else 0


def render_text(results: list[LintedFile]) -> str:
    """`file:line:col: severity code message` with the hint indented below; a summary line at the end."""
    lines: list[str] = []
    counts = {"error": 0, "warning": 0, "info": 0}
    for result in results:
        for f in result.findings:
            counts[str(f.severity)] += 1
            lines.append(f"{result.path}:{f.line}:{f.column}: {f.severity} {f.code} {f.message}")
            lines.append(f"    hint: {f.hint}")
    files = len(results)
    summary = ", ".join(f"{n} {name}{'s' if n != 1 and name != 'info' else ''}" for name, n in counts.items())
    lines.append(f"{files} file{'s' if files != 1 else ''} checked: {summary}")
    return "\n".join(lines) + "\n"


def render_json(results: list[LintedFile]) -> dict[str, Any]:
    """`{"files": [{"path": …, "findings": [{code, severity, line, column, path, message, hint}]}]}`."""
    return {"files": [{"path": r.path, "findings": [f.to_json() for f in r.findings]} for r in results]}


def _rule_name(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("-"))


def _uri(path: str) -> str:
    if path == STDIN_NAME:
        return "stdin"
    return quote(Path(path).as_posix(), safe="/:._-~")


def render_sarif(results: list[LintedFile], catalog: Catalog) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: every catalog code as a rule, every finding as a result."""
    from vpce_console import __version__

    codes = list(catalog.entries)
    index = {code: i for i, code in enumerate(codes)}
    rules = [
        {
            "id": entry.code,
            "name": _rule_name(entry.code),
            "shortDescription": {"text": entry.title},
            "fullDescription": {"text": entry.why},
            "helpUri": entry.source,
            "defaultConfiguration": {"level": SARIF_LEVEL[entry.severity]},
        }
        for entry in catalog.entries.values()
    ]
    sarif_results: list[dict[str, Any]] = []
    for result in results:
        for f in result.findings:
            item: dict[str, Any] = {
                "ruleId": f.code,
                "level": SARIF_LEVEL[str(f.severity)],
                "message": {"text": f"{f.message} Fix: {f.hint}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _uri(result.path)},
                            "region": {"startLine": f.line, "startColumn": f.column},
                        },
                        **({"logicalLocations": [{"fullyQualifiedName": f.path}]} if f.path else {}),
                    }
                ],
            }
            if f.code in index:
                item["ruleIndex"] = index[f.code]
            sarif_results.append(item)
    return {
        "version": "2.1.0",
        "$schema": SARIF_SCHEMA,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "vpce-lint",
                        "version": __version__,
                        "informationUri": "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html",
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": sarif_results,
            }
        ],
    }
