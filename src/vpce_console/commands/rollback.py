"""`vpce rollback`: restore the document the last journaled change replaced, byte for byte.

The deployed document must still be the one that change wrote (compare-and-swap), and the rollback is itself
journaled. Exit codes: 0 restored, 1 refused, 2 input or credential errors (nothing written).
"""

from __future__ import annotations

import argparse
import asyncio

EPILOG = """\
needs --allow-write (or allow_write: true in the config) AND --confirm repeating the endpoint id.
json: one event object per line, the last one the summary ({"status": "rolled_back"|"refused", "journal_id"}).
exit codes: 0 restored, 1 refused (CAS mismatch, nothing to roll back, the endpoint is leased by someone else),
2 input or credential error, 5 written but not verified (the read-back failed: `vpce rollout --resume`).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce rollback`."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--endpoint", metavar="ID", help="VPC endpoint id (vpce-…), required")
    parser.add_argument("--confirm", metavar="ID", help="type the endpoint id again to confirm the write")
    parser.add_argument("--allow-write", action="store_true", help="leave read-only mode for this command")
    parser.add_argument("--account", metavar="ID", help="hub account owning the endpoint (default: the caller's)")
    from vpce_console.commands.rollout import add_lease_argument

    add_lease_argument(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    """Entry point of `vpce rollback`."""
    from vpce_console.commands.rollout import run_async
    from vpce_console.connect import connect
    from vpce_console.errors import UsageError
    from vpce_console.services.rollout import check_write_gate

    if not args.endpoint:
        raise UsageError("--endpoint ID is required")
    config, target = connect(args)
    check_write_gate(
        allow_write=args.allow_write, config_allows=config.allow_write, confirm=args.confirm, endpoint_id=args.endpoint
    )
    summary = asyncio.run(run_async(args, config, target, "rollback"))
    return 0 if summary.status == "rolled_back" else summary.exit_code
