"""`vpce replay`: what a draft policy would have done to the calls that really went through an endpoint.

Exit codes: 0 the draft denies no observed call AWS allowed, 1 it does (so CI can gate on it), 2 bad input, no
trail, no objects, no access (one line).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vpce_console.errors import UsageError

if TYPE_CHECKING:
    from vpce_console.services.replay_model import Group, ReplayReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce replay`."""
    parser.add_argument("--endpoint", metavar="ID", required=True, help="the hub endpoint whose calls to replay")
    parser.add_argument("--policy", metavar="DRAFT", required=True, help="the draft policy JSON file (- for stdin)")
    parser.add_argument("--since", default="7d", help="window start: 7d, 24h, 90m or an ISO time (default 7d)")
    parser.add_argument("--engine", choices=("local", "athena"), help="query engine (default: trail.engine, local)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def run(args: argparse.Namespace) -> int:
    """Replay, print, exit 1 when the draft denies observed calls AWS allowed."""
    from vpce_console.commands._input import read_text
    from vpce_console.policy.evaluator import PolicyError
    from vpce_console.policy.partial import compile_partial

    if not args.endpoint.startswith("vpce-"):
        raise UsageError(f"--endpoint: expected a vpce-… id, got {args.endpoint!r}")
    text = read_text(args.policy)
    try:
        draft = compile_partial(text)
    except PolicyError as exc:
        raise UsageError(f"--policy {args.policy}: {exc}") from None
    report = _replay(args, draft)
    if args.format == "json":
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print(report)
    return 1 if report.newly_denied.calls else 0


def _replay(args: argparse.Namespace, draft: Any) -> ReplayReport:
    import asyncio

    from vpce_console.aws.session import AwsGateway
    from vpce_console.commands._inventory_run import StderrProgress
    from vpce_console.connect import connect
    from vpce_console.services.replay import run_replay
    from vpce_console.services.trail import parse_since

    config, target = connect(args)
    now = datetime.now(UTC)
    since = parse_since(args.since, now)
    progress = StderrProgress(args.format == "text")

    async def run() -> ReplayReport:
        async with AwsGateway(target, config) as gateway:
            return await run_replay(
                gateway,
                config,
                args.endpoint,
                draft,
                since=since,
                now=now,
                engine=args.engine or config.trail.engine,
                progress=progress,
                default_region=target.region,
            )

    try:
        return asyncio.run(run())
    finally:
        progress.done()


def _group_lines(title: str, group: Group) -> list[str]:
    lines = [f"{title}: {group.calls} call(s) in {group.shapes} shape(s) from {len(group.accounts)} account(s)"]
    if group.calls:
        lines.append("  accounts: " + ", ".join(f"{a} ({n})" for a, n in group.accounts.most_common(8)))
        lines.append("  vpcs:     " + ", ".join(f"{v} ({n})" for v, n in group.vpcs.most_common(8)))
        lines.append("  actions:  " + ", ".join(f"{a} ({n})" for a, n in group.actions.most_common(5)))
    return lines


def _print(report: ReplayReport) -> None:
    from vpce_console.services.journal import policy_version

    out: list[str] = [
        f"replay of {report.endpoint_id} since {report.since:%Y-%m-%d %H:%M} UTC: "
        f"{report.records} call(s) in {report.shapes} distinct shape(s)"
    ]
    for v in report.versions:
        start = "window start" if v.start is None else f"{v.start:%Y-%m-%d %H:%M:%S}"
        out.append(f"  policy in force from {start}: {policy_version(v.text) or 'unknown'} ({v.source})")
    out += _group_lines("NEWLY DENIED (AWS allowed, the draft denies)", report.newly_denied)
    out += _group_lines("NEWLY ALLOWED (AWS denied, the draft allows)", report.newly_allowed)
    total = sum(g.calls for g in report.undetermined.values())
    out.append(f"UNDETERMINED (the record lacks what the draft needs): {total} call(s)")
    for keys, g in sorted(report.undetermined.items(), key=lambda kv: -kv[1].calls):
        out.append(f"  depends on {', '.join(sorted(keys)) or '?'}: {g.calls} call(s), {g.shapes} shape(s)")
    out.append(f"UNCHANGED: {report.unchanged.calls} call(s) in {report.unchanged.shapes} shape(s)")
    agreement = report.agreement
    figure = "n/a" if agreement is None else f"{agreement * 100:.2f} %"
    out.append(
        f"sanity: replaying the version in force reproduces AWS's decisions for {figure} of calls "
        f"({report.agree} agree, {report.agree_undetermined} undetermined, {report.disagree} disagree"
        + (f", {report.version_unknown} with an unknown version" if report.version_unknown else "")
        + ")"
    )
    for d in report.disagreements[:10]:
        out.append(
            f"  DISAGREES: {d['principal']} {d['action']} — AWS {d['aws']}, replay {d['replayed']} ({d['calls']} calls)"
        )
    print("\n".join(out))
