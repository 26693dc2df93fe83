"""`vpce denials`: the history of endpoint-policy denials (VpceAccessDenied) from the org trail, grouped.

Complements the live `vpce tail`. Exit codes: 0 answered, 2 bad input, no trail or no access (one line).
"""

from __future__ import annotations

import argparse

from vpce_console.commands._trail_run import add_window_arguments, answer, emit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce denials`."""
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--endpoint", metavar="ID", help="only denials at this endpoint (vpce-…)")
    which.add_argument("--service", metavar="S", help="only the hub endpoint(s) of this service")
    parser.add_argument(
        "--by",
        choices=("reason", "account", "vpc", "action"),
        default="reason",
        help="group by the error code, the caller's account, its VPC or the action",
    )
    add_window_arguments(parser, since="24h")


def run(args: argparse.Namespace) -> int:
    """Answer and print."""
    result = answer(args, by=args.by, endpoint=args.endpoint, service=args.service, denied_only=True)
    emit(result, args.format, ("DENIALS",))
    return 0
