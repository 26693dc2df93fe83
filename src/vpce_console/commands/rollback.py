"""`vpce rollback`: restore the document in force before a chosen change, byte for byte, and watch it converge.

Which document: the one in force before `--to JOURNAL_ID`, by default before the endpoint's last change.
Rolling back a rollback is never the default: when the last change is itself a rollback, `--to` is required.
The plan (diff, who is affected, which probes will prove it) is printed before anything is written; without
`--confirm`/`--allow-write` that preview is all that happens.
"""

from __future__ import annotations

import argparse
import asyncio

EPILOG = """\
restores the document in force before --to JOURNAL_ID (default: the endpoint's last change; see `vpce history`).
rolling back a rollback needs an explicit --to: by default it is refused (it would re-apply what was removed).
writes need --allow-write (or allow_write: true in the config) AND --confirm repeating the endpoint id; without
them the plan is printed and nothing is written (exit 2).
the rollback is watched like a rollout: probes in each direction, then CONVERGED, UNOBSERVED or TIMED_OUT.
json: one event object per line, the last one the summary ({"status", "kind": "rollback", "journal_id", ...}).
exit codes: 0 converged, 3 unobserved, 1 refused (nothing to roll back, a rollback of a rollback without --to,
the endpoint leased by someone else) or timed out, 2 input or credential error (nothing written), 4 superseded,
5 written but not verified (the read-back failed: `vpce rollout --resume`).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce rollback`."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--endpoint", metavar="ID", help="VPC endpoint id (vpce-…), required")
    parser.add_argument(
        "--to", metavar="JOURNAL_ID", help="restore the document in force before this change (default: the last)"
    )
    parser.add_argument("--confirm", metavar="ID", help="type the endpoint id again to confirm the write")
    parser.add_argument("--allow-write", action="store_true", help="leave read-only mode for this command")
    parser.add_argument("--account", metavar="ID", help="hub account owning the endpoint (default: the caller's)")
    parser.add_argument("--poll", type=float, metavar="S", help="seconds between probe rounds (config watch)")
    parser.add_argument("--timeout", type=float, metavar="S", help="give up watching after S seconds (default 900)")
    parser.add_argument("--samples", type=int, default=8, metavar="N", help="calls per probe per round (default 8)")
    parser.add_argument("--personas", metavar="F", help="personas YAML for the impact preview")
    from vpce_console.commands.rollout import add_lease_argument

    add_lease_argument(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    """Entry point of `vpce rollback`."""
    from vpce_console.commands.rollout import run_async
    from vpce_console.connect import connect_lab
    from vpce_console.errors import UsageError
    from vpce_console.services.rollout import check_write_gate

    if not args.endpoint:
        raise UsageError("--endpoint ID is required")
    if args.poll is not None and args.poll <= 0:
        raise UsageError("--poll must be positive")
    config, target, lab = connect_lab(args)
    try:
        check_write_gate(
            allow_write=args.allow_write,
            config_allows=config.allow_write,
            confirm=args.confirm,
            endpoint_id=args.endpoint,
        )
    except UsageError:
        preview = asyncio.run(run_async(args, config, target, "preview-rollback", lab))
        if preview.status == "refused":
            return 1
        raise
    summary = asyncio.run(run_async(args, config, target, "rollback", lab))
    return 0 if summary.status == "rolled_back" else summary.exit_code  # rolled_back: an interrupted one, closed
