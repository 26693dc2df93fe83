"""`vpce usage`: who really called through each endpoint — calls, denials, first/last seen, from the org trail.

Exit codes: 0 answered, 2 bad input, no trail configured, no objects, or no access to the bucket (one line).
"""

from __future__ import annotations

import argparse

from vpce_console.commands._trail_run import add_window_arguments, answer, emit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce usage`."""
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--endpoint", metavar="ID", help="only calls through this endpoint (vpce-…)")
    which.add_argument("--service", metavar="S", help="only the hub endpoint(s) of this service (sqs, kms, …)")
    parser.add_argument(
        "--by",
        choices=("account", "vpc", "principal", "action"),
        default="account",
        help="group by the caller's account, its VPC (source IP in the inventory's CIDRs), principal or action",
    )
    add_window_arguments(parser, since="7d")


def run(args: argparse.Namespace) -> int:
    """Answer and print."""
    result = answer(args, by=args.by, endpoint=args.endpoint, service=args.service, denied_only=False)
    emit(result, args.format, ("CALLS", "DENIALS"))
    return 0
