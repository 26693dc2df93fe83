"""`vpce tail`: endpoint-policy denials (and other AccessDenied, classified by policy type) from CloudTrail.

Sources: the trail's CloudWatch Logs group(s) (FilterLogEvents with a JSON pattern, `--follow` keeps polling
with a cursor; `--live` tries StartLiveTail first), or `--file` (JSONL, JSON array, CloudTrail S3 objects,
gzipped or not). Exit codes: 0 done (or interrupted), 2 bad input or credentials.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from vpce_console.errors import UsageError

if TYPE_CHECKING:
    from vpce_console.services.classify import Denial
    from vpce_console.services.tail import DenialTail, PolicyTimeline

EPILOG = """\
reasons: vpce-explicit vpce-implicit vpce-network-event scp-explicit scp-implicit rcp-explicit rcp-implicit
identity-explicit identity-implicit resource-explicit resource-implicit session-explicit session-implicit
boundary-explicit boundary-implicit other (or `vpce` for the three endpoint-policy reasons).
jsonl rows: event_time, event_id, reason, endpoint_id, service, account_id, source_ip, principal, event_name,
policy_version (sha256 prefix of the endpoint policy in force then, from the journal and CloudTrail), and more.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce tail`."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument(
        "--since",
        default="15m",
        help="how far back to start: 15m, 2h, 1d or an ISO time (log groups; --file reads everything)",
    )
    parser.add_argument("--follow", action="store_true", help="keep polling for new denials")
    parser.add_argument("--file", metavar="PATH", help="read CloudTrail records from a file instead of AWS")
    parser.add_argument("--endpoint", metavar="ID", help="only denials through this endpoint")
    parser.add_argument("--reason", metavar="CODE", help="only this reason code (see below)")
    parser.add_argument("--service", metavar="NAME", help="only this service (sqs, kms, …)")
    parser.add_argument("--account", metavar="ID", help="only callers from this account")
    parser.add_argument("--log-group", action="append", metavar="G", help="CloudTrail log group (repeatable)")
    parser.add_argument("--poll", type=float, default=5.0, metavar="S", help="seconds between polls with --follow")
    parser.add_argument("--ring", type=int, metavar="N", help="denials kept in memory (config tail.ring_size)")
    parser.add_argument("--live", action="store_true", help="use StartLiveTail where available, else poll")
    parser.add_argument("--no-history", action="store_true", help="skip LookupEvents for policy versions")
    parser.add_argument("--format", choices=("text", "jsonl"), default="text")


def render(denial: Denial, fmt: str) -> str:
    """One output line for a denial."""
    if fmt == "jsonl":
        return json.dumps(denial.to_row(), ensure_ascii=False)
    who = denial.principal or f"account {denial.account_id or '?'}"
    return (
        f"{denial.event_time}  {denial.reason:<18} {denial.endpoint_id or '-':<22} {denial.service}:{denial.event_name}"
        f"  {who} from {denial.source_ip or '?'}  policy {denial.policy_version or '?'}"
    )


def _journal_timeline(endpoint: str | None) -> PolicyTimeline:
    from vpce_console.services.journal import Journal
    from vpce_console.services.tail import PolicyTimeline

    timeline = PolicyTimeline()
    for at, endpoint_id, sha in Journal().policy_timeline(endpoint):
        timeline.add(endpoint_id, at, sha)
    return timeline


def _emit(rows: Iterable[Denial], fmt: str) -> int:
    count = 0
    for denial in rows:
        sys.stdout.write(render(denial, fmt) + "\n")
        count += 1
        if count % 256 == 0:
            sys.stdout.flush()
    sys.stdout.flush()
    return count


def _tail(args: argparse.Namespace, ring: int, timeline: PolicyTimeline) -> DenialTail:
    from vpce_console.services.tail import DenialTail, TailFilter

    return DenialTail(
        ring_size=ring,
        timeline=timeline,
        filter=TailFilter(endpoint_id=args.endpoint, reason=args.reason, service=args.service, account_id=args.account),
    )


async def _follow(args: argparse.Namespace) -> int:
    from vpce_console.aws.logs import lookup_policy_changes
    from vpce_console.aws.session import AwsGateway
    from vpce_console.aws.writes import describe_endpoint_policy
    from vpce_console.connect import connect
    from vpce_console.errors import AwsError
    from vpce_console.services.journal import sha256_text
    from vpce_console.services.tail import PolicyVersions, denial_filter_pattern, parse_since
    from vpce_console.services.tail_live import TailSource, denial_records

    config, target = connect(args)
    groups = list(args.log_group or config.tail.log_groups)
    if not groups:
        raise UsageError("no CloudTrail log group: pass --log-group or set tail.log_groups in the config")
    now = time.time()
    since = parse_since(args.since, now=now)
    timeline = _journal_timeline(args.endpoint)
    tail = _tail(args, args.ring or config.tail.ring_size, timeline)
    async with AwsGateway(target, config) as gateway:
        if not args.no_history:
            try:
                changes = await lookup_policy_changes(
                    gateway,
                    start=datetime.fromtimestamp(since, UTC) - timedelta(days=1),
                    end=datetime.fromtimestamp(now, UTC) + timedelta(minutes=5),
                    endpoint_id=args.endpoint,
                )
                for change in changes:
                    if change.policy_sha256 and not change.error_code:
                        timeline.add(change.endpoint_id, change.event_time, change.policy_sha256)
            except AwsError as exc:
                if exc.kind == "connection" and not args.follow:
                    raise  # nothing else will answer either: one line, not a warning per call
                print(f"vpce tail: policy history unavailable ({exc})", file=sys.stderr)
            if args.endpoint and not len(timeline):
                try:
                    current = await describe_endpoint_policy(gateway, args.endpoint)
                    timeline.add(args.endpoint, 0.0, sha256_text(current.policy_text))
                except AwsError as exc:
                    print(f"vpce tail: cannot read {args.endpoint} ({exc})", file=sys.stderr)
        # versions follow writes made while the tail runs: ours at once (journal), others' through LookupEvents
        versions = PolicyVersions(
            gateway,
            endpoint_id=args.endpoint,
            history=not args.no_history,
            lookup_seconds=max(5.0, args.poll * 5),
            on_error=lambda message: print(f"vpce tail: {message}", file=sys.stderr),
        )
        versions.adopt(timeline, now)

        def warn(group: str, exc: AwsError, wait: float) -> None:
            print(f"vpce tail: {group}: {exc.kind} ({exc.operation}), retrying in {wait:.1f}s", file=sys.stderr)

        source = TailSource(
            tuple(groups),
            denial_filter_pattern(args.endpoint),
            since,
            follow=args.follow,
            live=args.live,
            poll_seconds=args.poll,
            overlap_ms=max(60_000, int(args.poll * 4000)),
        )
        records = denial_records(
            gateway,
            source,
            versions=versions,
            on_retry=warn,
            on_notice=lambda message: print(f"vpce tail: {message}", file=sys.stderr),
        )
        async for record in records:
            denial = tail.ingest(record)
            if denial is not None:
                _emit([denial], args.format)
    return 0


def run(args: argparse.Namespace) -> int:
    """Entry point of `vpce tail`."""
    from vpce_console.services.classify import REASON_CODES

    if args.reason and args.reason not in (*REASON_CODES, "vpce"):
        raise UsageError(f"--reason: one of {', '.join(REASON_CODES)} (or vpce)")
    if args.ring is not None and args.ring < 1:
        raise UsageError("--ring must be at least 1")
    if args.file:
        from vpce_console.services.tail import read_records

        tail = _tail(args, args.ring or 5000, _journal_timeline(args.endpoint))
        _emit(tail.ingest_many(read_records(args.file)), args.format)
        return 0
    return asyncio.run(_follow(args))
