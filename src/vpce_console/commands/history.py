"""`vpce history`: the change journal, newest last; unfinished changes are flagged (a process died mid-change).

Exit codes: 0 listed (even when empty), 1 when an unfinished change exists (resume its watch or roll it back).
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce history`."""
    parser.add_argument("--endpoint", metavar="ID", help="only changes to this endpoint")
    parser.add_argument("--texts", action="store_true", help="json: include the before/after documents")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    """Entry point of `vpce history` (reads the local journal only; no AWS call)."""
    from vpce_console.services.journal import Journal

    journal = Journal()
    entries = journal.entries(args.endpoint)
    for problem in journal.skipped:
        print(f"vpce history: {journal.path}: skipped {problem}", file=sys.stderr)
    if args.format == "json":
        json.dump(
            {"journal": str(journal.path), "changes": [e.to_json(texts=args.texts) for e in entries]},
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    else:
        if not entries:
            print(f"no changes recorded in {journal.path}")
        # every row keeps its columns, whether or not it is a rollback (which names the change it undid)
        of_width = max((len(e.rollback_of) + 3 for e in entries if e.rollback_of), default=0)
        for e in entries:
            data = e.to_json()
            state = "UNFINISHED" if not e.finished else e.outcome
            last = e.last_step
            crash = f" (stopped at {last.step} {last.outcome})" if not e.finished and last else ""
            of = f"of {e.rollback_of}" if e.rollback_of else ""
            print(
                f"{data['started_at']}  {e.journal_id}  {e.kind:<8} {of:<{of_width}}  {e.endpoint_id}  "
                f"{e.before_sha256[:12]} → {e.after_sha256[:12]}  {state}{crash}  {e.caller.get('arn', '')}"
            )
        for e in entries:
            if not e.finished:
                print(
                    f"unfinished change {e.journal_id}: run `vpce rollout --endpoint {e.endpoint_id} --resume` or "
                    f"`vpce rollback --endpoint {e.endpoint_id} --confirm {e.endpoint_id} --allow-write`",
                    file=sys.stderr,
                )
    return 1 if any(not e.finished for e in entries) else 0
