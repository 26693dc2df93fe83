"""`vpce doctor [--format text|json]`: wiring findings for the hub and its spokes; exit 1 when there are errors."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from vpce_console.commands._inventory_run import add_format_argument, load


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The output format, and the org trail's window when its evidence should count too."""
    add_format_argument(parser)
    parser.add_argument(
        "--trail",
        metavar="SINCE",
        help="also read the org trail over this window (7d, 24h): endpoint-unused, association-unused, "
        "unexpected-caller",
    )


def where_text(finding: Any) -> str:
    """Where a finding is, in one line: service, endpoint, VPC with its name, and the account."""
    vpc = f"{finding.vpc_id} ({finding.vpc_name})" if finding.vpc_id and finding.vpc_name else finding.vpc_id
    account = f"account {finding.account_id}" if finding.account_id else None
    return " · ".join(x for x in (finding.service, finding.endpoint_id, vpc, account) if x)


def run(args: argparse.Namespace) -> int:
    """Diagnose and print; 1 if any finding is an error, else 0."""
    from vpce_console.services.doctor import diagnose, has_errors

    if args.trail:
        from vpce_console.commands._trail_run import load_with_trail
        from vpce_console.services.doctor import SEVERITY_ORDER, trail_findings

        config, inventory, evidence = load_with_trail(args, since_text=args.trail, show_progress=args.format == "text")
        findings = diagnose(inventory, config) + trail_findings(inventory, evidence)
        findings.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.code, f.service or "", f.vpc_id or ""))
    else:
        config, inventory = load(args, show_progress=args.format == "text")
        findings = diagnose(inventory, config)
    counts = Counter(f.severity for f in findings)
    if args.format == "json":
        document = {
            "findings": [f.to_json() for f in findings],
            "summary": {
                "errors": counts.get("error", 0),
                "warnings": counts.get("warning", 0),
                "infos": counts.get("info", 0),
                "endpoints": len(inventory.endpoints),
                "spoke_vpcs": len(inventory.spokes),
                "subscribers": len(inventory.subscribers),
            },
        }
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for f in findings:
            print(f"{f.severity.upper():<8}{f.code}  {where_text(f)}")
            print(f"        {f.message}")
            print(f"        fix: {f.hint}")
            for step, command in enumerate(f.fix_commands, 1):
                print(f"          {step}. {command.line}")
        print(
            f"{counts.get('error', 0)} error(s), {counts.get('warning', 0)} warning(s), {counts.get('info', 0)} info "
            f"— {len(inventory.endpoints)} endpoints, {len(inventory.subscribers)} subscribers of "
            f"{len(inventory.spokes)} spoke VPCs"
        )
    return 1 if has_errors(findings) else 0
