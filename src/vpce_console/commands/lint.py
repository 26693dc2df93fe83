"""`vpce lint PATH…|-`: findings for endpoint policies as text, JSON or SARIF 2.1.0 (exit 1 on errors).

PATH may be a policy file, a directory (walked recursively), a CloudFormation template, a Terraform plan
(`terraform show -json`) or `aws ec2 describe-vpc-endpoints` output, detected by content. Only the pure lint
path and the input readers are imported (no SDK, no Textual), so linting hundreds of files in CI stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from vpce_console.errors import UsageError

if TYPE_CHECKING:
    from vpce_console.data.knowledge import Catalog, Knowledge
    from vpce_console.lintinputs.sources import PolicySource
    from vpce_console.policy.findings import Finding

FORMATS = ("text", "json", "sarif")
POLICY_TYPE_CHOICES = ("vpce", "identity", "resource")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
"""SARIF has no `info` level; `note` is its equivalent."""
STDIN_NAME = "<stdin>"
PARTNER_SERVICE_PREFIX = "com.amazonaws.vpce."
"""Endpoint services of PrivateLink providers (`com.amazonaws.vpce.<region>.vpce-svc-…`): no IAM service rules."""


@dataclass(frozen=True, slots=True)
class LintedFile:
    """One linted policy document (a file, or one policy inside a template, plan or describe output)."""

    path: str
    """The file as given on the command line or found in a directory (`<stdin>` for `-`)."""
    findings: tuple[Finding, ...]
    """Findings sorted by position, positions in the file."""
    name: str | None = None
    """What the policy is called in its file: CloudFormation logical id, Terraform address, endpoint id."""
    service: str | None = None
    """The service the policy was linted for, or None (service rules off)."""
    service_reason: str | None = None
    """Why that service: `given with --service`, `from ServiceName of X`, `every action is an s3 action`."""
    coarse: bool = False
    """True when positions point at a JSON string holding the policy, so the text output adds the JSON path."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce lint`."""
    parser.add_argument(
        "files",
        nargs="+",
        metavar="PATH",
        help="policy files, directories (recursive), CloudFormation templates, Terraform plan JSON or "
        "describe-vpc-endpoints output; '-' reads standard input",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--service",
        metavar="NAME",
        help="the endpoint's service (sqs, ecr.api, com.amazonaws.us-east-1.sqs) for every policy; without it "
        "each policy's service comes from its source (ServiceName, service_name) or from its actions",
    )
    parser.add_argument(
        "--policy-type",
        choices=POLICY_TYPE_CHOICES,
        default="vpce",
        help="vpce (default) applies every endpoint-policy rule; identity/resource only the generic IAM rules",
    )
    parser.add_argument(
        "--skip-non-policy",
        action="store_true",
        help="skip named files that neither are a policy nor hold policies, as a directory walk does "
        "(for pre-commit, which passes every changed JSON/YAML file)",
    )
    parser.add_argument(
        "--exclude",
        metavar="GLOB",
        action="append",
        default=[],
        help="skip files and folders matching GLOB when walking directories (repeatable), e.g. 'tests/*'",
    )


MAX_LINT_INPUT_BYTES = 16 * 1024 * 1024
"""Cap for one file `vpce lint` reads: a Terraform plan or template holding policies is often over the 1 MB a
single policy may be; the policies in it are still checked against the 20,480-character endpoint limit."""


def read_input(name: str) -> tuple[str, str]:
    """(display path, text) for one argument; UsageError naming the file when it cannot be read."""
    from vpce_console.safeload import decode_text, read_capped

    shown = STDIN_NAME if name == "-" else name
    return shown, decode_text(read_capped(name, limit=MAX_LINT_INPUT_BYTES, what="lint input"), shown)


def check_service(service: str, knowledge: Knowledge) -> None:
    """UsageError (exit 2) with a did-you-mean when `service` is not an endpoint service the IAM data knows."""
    from vpce_console.policy.linter import ENDPOINT_SERVICE_PREFIXES, endpoint_prefixes, service_label

    if service.strip().lower().startswith(PARTNER_SERVICE_PREFIX) or endpoint_prefixes(service, knowledge):
        return
    import difflib

    label = service_label(service)
    names = sorted(set(knowledge.service_names) | set(ENDPOINT_SERVICE_PREFIXES))
    near = difflib.get_close_matches(label, names, n=1, cutoff=0.6)
    guess = f'; did you mean "{near[0]}"?' if near else " (e.g. sqs, s3, ecr.api, com.amazonaws.us-east-1.kms)"
    raise UsageError(f"--service {service!r} is not an endpoint service the IAM data knows{guess}")


def _with_article(name: str) -> str:
    from vpce_console.policy.lint_resources import _an

    return f"{_an(name)} {name}"


def lint_source(source: PolicySource, policy_type: str, given: str | None, knowledge: Knowledge) -> LintedFile:
    """Lint one policy with the service given, stated by its source, or implied by its actions."""
    from vpce_console.policy.linter import endpoint_prefixes, lint_report, service_label

    service, reason = given, "given with --service" if given else None
    if service is None and source.service:
        service = source.service
        reason = f"from {source.service_origin or 'its source'}"
        if not endpoint_prefixes(service, knowledge):
            reason += "; not a service the IAM data knows, so service rules are off"
    report = lint_report(source.text, policy_type=policy_type, service=service, endpoint=source.endpoint)
    if service is None and report.inferred_service and policy_type == "vpce":
        service = report.inferred_service
        reason = f"assumed: every action is {_with_article(service)} action"
    findings = tuple(_relocate(source, f) for f in report.findings)
    return LintedFile(
        source.path,
        findings,
        source.name,
        service_label(service) if service else None,
        reason,
        coarse=source.positions is None and source.anchor is not None,
    )


def _relocate(source: PolicySource, finding: Finding) -> Finding:
    if source.positions is None and source.anchor is None:
        return finding
    line, column = source.locate(finding.path, finding.line, finding.column)
    related = tuple(
        replace(r, line=pos[0], column=pos[1])
        for r in finding.related
        for pos in (source.locate(r.path, r.line, r.column),)
    )
    return replace(finding, line=line, column=column, related=related)


def run(args: argparse.Namespace) -> int:
    """Lint every policy found, print the report, exit 1 when any finding is an error."""
    from vpce_console.data.knowledge import default_catalog, default_knowledge
    from vpce_console.lintinputs import expand_paths, read_sources
    from vpce_console.policy.findings import has_errors

    knowledge = default_knowledge()
    if args.service:
        check_service(args.service, knowledge)
    files = expand_paths(list(args.files), tuple(getattr(args, "exclude", None) or ()))
    if not files:
        raise UsageError(f"no files to lint under {' '.join(args.files)} (.json, .yaml, .yml, .template)")
    results: list[LintedFile] = []
    skipped = 0
    for name, from_directory in files:
        try:
            display, text = read_input(name)
        except UsageError as exc:
            if not from_directory:
                raise
            sys.stderr.write(f"vpce lint: skipped: {exc}\n")  # one odd file must not stop a repository's lint
            skipped += 1
            continue
        sources = read_sources(display, text, from_directory=from_directory or bool(args.skip_non_policy))
        if not sources:
            skipped += 1
        results += [lint_source(source, args.policy_type, args.service, knowledge) for source in sources]
    out = sys.stdout
    if args.format == "json":
        out.write(json.dumps(render_json(results), indent=2) + "\n")
    elif args.format == "sarif":
        out.write(json.dumps(render_sarif(results, default_catalog()), indent=2) + "\n")
    else:
        out.write(render_text(results, skipped))
    return 1 if any(has_errors(r.findings) for r in results) else 0


def render_text(results: list[LintedFile], skipped: int = 0) -> str:
    """`file:line:col: severity code [name] message` with the hint below; the assumed service; a summary."""
    from vpce_console.policy.vocab import SEVERITIES

    lines: list[str] = []
    counts = dict.fromkeys(SEVERITIES, 0)
    for result in results:
        label = f" [{result.name}]" if result.name else ""
        if result.service and result.service_reason and not result.service_reason.startswith("given"):
            lines.append(
                f"{result.path}{label}: linted as {_with_article(result.service)} endpoint policy "
                f"({result.service_reason})"
            )
        for f in result.findings:
            counts[str(f.severity)] += 1
            where = f" (at {f.path})" if result.coarse and f.path else ""
            lines.append(f"{result.path}:{f.line}:{f.column}: {f.severity} {f.code}{label} {f.message}{where}")
            lines.append(f"    hint: {f.hint}")
            for r in f.related:
                lines.append(f"    also {r.code} at {r.line}:{r.column}: {r.message}")
    files = len({r.path for r in results})
    docs = len(results)
    summary = ", ".join(f"{n} {name}{'s' if n != 1 and name != 'info' else ''}" for name, n in counts.items())
    extra = f" ({docs} policies)" if docs != files else ""
    extra += f", {skipped} file{'s' if skipped != 1 else ''} without a policy skipped" if skipped else ""
    lines.append(f"{files} file{'s' if files != 1 else ''} checked{extra}: {summary}")
    return "\n".join(lines) + "\n"


def render_json(results: list[LintedFile]) -> dict[str, Any]:
    """`{"files": [{"path", "resource", "service", "service_reason", "findings": [{code, severity, line, …}]}]}`.

    One entry per policy: a template or plan with two endpoints gives two entries with the same path.
    """
    return {
        "files": [
            {
                "path": r.path,
                "resource": r.name,
                "service": r.service,
                "service_reason": r.service_reason,
                "findings": [f.to_json() for f in r.findings],
            }
            for r in results
        ]
    }


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
            **({"help": {"text": entry.fix}} if entry.fix else {}),
            "defaultConfiguration": {"level": SARIF_LEVEL[entry.severity]},
        }
        for entry in catalog.entries.values()
    ]
    sarif_results: list[dict[str, Any]] = []
    for result in results:
        uri = _uri(result.path)
        for f in result.findings:
            logical = [{"fullyQualifiedName": f.path}] if f.path else []
            if result.name:
                logical.insert(0, {"name": result.name, "kind": "resource"})
            item: dict[str, Any] = {
                "ruleId": f.code,
                "level": SARIF_LEVEL[str(f.severity)],
                "message": {
                    "text": (f"{result.name}: " if result.name else "") + f"{f.message} Fix: {f.hint}",
                },
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri},
                            "region": {"startLine": f.line, "startColumn": f.column},
                        },
                        **({"logicalLocations": logical} if logical else {}),
                    }
                ],
            }
            if f.related:
                item["relatedLocations"] = [
                    {
                        "id": number,
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri},
                            "region": {"startLine": r.line, "startColumn": r.column},
                        },
                        "message": {"text": f"{r.code}: {r.message}"},
                    }
                    for number, r in enumerate(f.related, start=1)
                ]
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
