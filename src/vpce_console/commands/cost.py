"""`vpce cost [--format text|json]`: this month's hub cost vs per-VPC endpoints vs NAT, break-even per service."""

from __future__ import annotations

import argparse
import json
import sys

from vpce_console.commands._inventory_run import add_format_argument, load


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Output format and the month length used for hourly charges."""
    add_format_argument(parser)
    parser.add_argument(
        "--month-hours", type=float, default=730.0, help="hours in the billed month (default 730, AWS's average)"
    )
    parser.add_argument(
        "--dedicated-tgw",
        action="store_true",
        help="count TGW attachment-hours as a cost of centralizing (the TGW exists only for the endpoints)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the report; exit 0."""
    from vpce_console.data.prices import load_prices
    from vpce_console.errors import UsageError
    from vpce_console.services.cost import cost_report, cost_text

    if args.month_hours <= 0:
        raise UsageError("--month-hours must be positive")
    config, inventory = load(args, show_progress=args.format == "text")
    report = cost_report(
        inventory,
        load_prices(config.prices),
        month_hours=args.month_hours,
        metrics_window_hours=config.aws.metrics_hours,
        dedicated_tgw_attachments=args.dedicated_tgw,
    )
    if args.format == "json":
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(cost_text(report))
    return 0
