"""`vpce rollout`: apply an endpoint policy with compare-and-swap and watch until it is really in force.

Exit codes: 0 converged, 1 timed out / refused / rolled back / unpredicted live denials after the write, 2 input or
credential errors (nothing written), 3 unobserved, 4 superseded, 5 written but not verified.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TextIO

from vpce_console.commands._input import read_text
from vpce_console.errors import UsageError

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway
    from vpce_console.aws.writes import EndpointPolicy
    from vpce_console.config import Config
    from vpce_console.connect import Target
    from vpce_console.policy.personas import Persona
    from vpce_console.readyfile import ReadyFile
    from vpce_console.services.journal import Journal
    from vpce_console.services.probes import ProbeIdentity
    from vpce_console.services.replay import PlanReplay
    from vpce_console.services.replay_live import LiveDenials
    from vpce_console.services.rollout import Rollout, RolloutEvent, RolloutSummary
    from vpce_console.services.rollout_events import LiveDenialsCompared

EPILOG = """\
writes need --allow-write (or allow_write: true in the config) AND --confirm repeating the endpoint id.
--base F: the version you edited from; if the deployed document differs, nothing is written (exit 1).
plan: before writing, what changes, who is affected (newly denied / newly allowed / not through the endpoint)
and which probes will prove it in each direction.
probes: this machine's own identity, the config's `probes:` roles (assumed with session tags) and, on a lab,
the lab's workloads (their keys are in the ready-file); only workloads whose VPC reaches the endpoint.
UNOBSERVED: when no probe can tell the old document from the new one, the plan says so before the write, the
watch waits the propagation window (watch.propagation_window_seconds; a lab: its window) and ends UNOBSERVED.
json: one event object per line, the last one {"event": "summary", "status": converged|unobserved|timed_out|
refused|rolled_back|superseded|written_unverified|unreachable, "propagation_seconds", "poll_seconds", "probes",
"journal_id", ...}.
exit codes: 0 converged, 3 unobserved (written, no probe could see it), 1 timed out/refused/rolled back or
unpredicted live denials after the write, 2 input or credential error (nothing written), 4 superseded (someone
else wrote the endpoint during the watch),
5 written but not verified (the read-back failed or the endpoint became unreachable mid-watch:
`vpce rollout --endpoint ID --resume` verifies and watches).
lease: a write holds /vpce-console/lease/<endpoint> (SSM, hub account) from before the dry run to the end.
replay: before the plan, the draft is replayed against the last 7 days of the trail ("Observed: this draft would
have denied N call(s) from K account(s)"); the heaviest observed callers this machine can act as become probes.
No trail (or --no-trail) or a failed replay is said and does not block (--require-replay makes it refuse).
After the watch, the endpoint's denials since the write (tail.log_groups) are sorted: predicted by the replay,
the plan's probes, the replaced document's while propagating, unpredicted. Unpredicted denials are the surprises
worth a rollback: exit 1 even when the change converged (summary "unpredicted_denials").
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce rollout`."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--endpoint", metavar="ID", help="VPC endpoint id (vpce-…), required")
    parser.add_argument("--policy", metavar="F", help="the new policy document (written byte for byte)")
    parser.add_argument("--base", metavar="F", help="the deployed version you edited from (compare-and-swap)")
    parser.add_argument("--confirm", metavar="ID", help="type the endpoint id again to confirm the write")
    parser.add_argument("--allow-write", action="store_true", help="leave read-only mode for this command")
    parser.add_argument("--poll", type=float, metavar="S", help="seconds between probe rounds (config watch)")
    parser.add_argument("--timeout", type=float, metavar="S", help="give up watching after S seconds (default 900)")
    parser.add_argument("--required-streak", type=int, metavar="N", help="new-looking rounds in a row (default 3)")
    parser.add_argument("--samples", type=int, default=8, metavar="N", help="calls per probe per round (default 8)")
    parser.add_argument("--settle", type=float, metavar="S", help="keep watching S seconds after convergence")
    parser.add_argument(
        "--rollback-on-denials", type=int, metavar="N", help="roll back if > N endpoint denials/minute after converging"
    )
    parser.add_argument("--force-lint", action="store_true", help="apply even with lint errors")
    parser.add_argument("--personas", metavar="F", help="personas YAML for the impact preview and passive evidence")
    parser.add_argument(
        "--no-self-probe",
        action="store_true",
        help="do not probe as this machine's own identity (always off on a lab, whose operator is control plane)",
    )
    parser.add_argument(
        "--no-workload-probes",
        action="store_true",
        help="do not probe as the target's workloads (a lab's personas, whose keys its ready-file holds)",
    )
    parser.add_argument("--resume", action="store_true", help="resume the watch of an unfinished change (no write)")
    parser.add_argument("--account", metavar="ID", help="hub account owning the endpoint (default: the caller's)")
    parser.add_argument(
        "--no-trail", action="store_true", help="do not replay the draft against the trail's last 7 days (said plainly)"
    )
    parser.add_argument(
        "--require-replay", action="store_true", help="refuse to write when the replay cannot run (no trail, failed)"
    )
    add_lease_argument(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")


read_policy_file = read_text
"""The policy file's exact text, as the bytes that will be written."""


async def build_context(
    gateway: Any,
    config: Config,
    target: Target,
    *,
    lab: ReadyFile | None = None,
    journal: Any = None,
    personas_file: str | None = None,
    self_probe: bool = True,
    workload_probes: bool = True,
    services: tuple[str, ...] | None = None,
    zone_vpcs: Mapping[str, frozenset[str]] | None = None,
) -> Any:
    """The rollout's collaborators, the same for the CLI and the console.

    Personas and hub come from the one shared selection (services.personas); probes act as this machine, the
    config's `probes:` roles, and every workload whose keys the target hands out (a lab's personas), limited to
    those whose VPC reaches the endpoint.
    """
    from vpce_console.errors import AwsError
    from vpce_console.services.journal import Journal
    from vpce_console.services.personas import load_zone_vpcs, select_personas
    from vpce_console.services.probes import workload_identities
    from vpce_console.services.rollout import RolloutContext

    caller = await gateway.caller_identity()
    if zone_vpcs is None:
        try:
            zone_vpcs = await load_zone_vpcs(gateway, config, services)
        except AwsError:
            zone_vpcs = None  # unknown: every persona counts as going through the endpoint
    pset = select_personas(lab=lab, config=config, personas_file=personas_file, zone_vpcs=zone_vpcs)
    identities = probe_identities(config, caller.arn, caller.account_id, self_probe=self_probe and not target.is_lab)
    if workload_probes:
        identities += workload_identities(pset.personas, pset.credentials)
    return RolloutContext(
        gateway=gateway,
        journal=journal if journal is not None else Journal(),
        identities=identities,
        personas=pset.personas,
        persona_set=pset,
        log_groups=tuple(config.tail.log_groups),
    )


def load_personas_file(path: str | None) -> list[Persona]:
    """Personas from a YAML file, or none."""
    if not path:
        return []
    from vpce_console.policy.persona_file import load_personas

    text = read_policy_file(path)
    try:
        return load_personas(text)
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None


def probe_identities(config: Config, caller_arn: str, account_id: str, *, self_probe: bool) -> list[ProbeIdentity]:
    """Whom probes act as: ourselves (unless disabled) and every configured probe role."""
    from vpce_console.services.probes import role_identity, self_identity

    identities = [self_identity(caller_arn, account_id)] if self_probe else []
    for probe in config.probes:
        identities.append(
            role_identity(
                probe.name,
                probe.role_arn,
                kind=probe.persona_kind,
                session_tags=dict(probe.session_tags),
                vpc_id=probe.vpc_id,
                private_ip=probe.private_ip,
            )
        )
    return identities


def printer(fmt: str, out: TextIO | None = None) -> Callable[[RolloutEvent], None]:
    """Print events: one JSON object per line, or a readable live progress line."""

    def emit(event: RolloutEvent) -> None:
        stream = out or sys.stdout
        if fmt == "json":
            stream.write(json.dumps(event.to_json(), default=str) + "\n")
        else:
            stream.write(render_event(event) + "\n")
        stream.flush()

    return emit


def render_event(event: RolloutEvent) -> str:
    """One human line per event (text format)."""
    from vpce_console.services import rollout_events as ev

    match event:
        case ev.Planned(plan=plan):
            return "\n".join(["", *plan.lines(), ""])
        case ev.Refused(reason=reason, diff=diff):
            return f"REFUSED   {reason}" + (f"\n{diff}" if diff else "")
        case ev.LintChecked(errors=errors, warnings=warnings, findings=findings):
            lines = [f"lint      {errors} error(s), {warnings} warning(s)"]
            lines += [f"          {f.severity:<7} line {f.line}: {f.code} {f.message}" for f in findings]
            return "\n".join(lines)
        case ev.Diffed(diff=diff):
            return "diff\n" + (diff or "          (no textual difference)")
        case ev.ImpactAssessed(changed=changed, cells=cells, not_through_endpoint=nat, note=note):
            via = f", {len(nat)} not through the endpoint" if nat else ""
            return f"impact    {len(changed)} changed cell(s) of {cells or 0}{via}" + (f" ({note})" if note else "")
        case ev.ProbeRound(report=report):
            streaks = " ".join(f"{p.probe_id.split(':', 1)[-1][:40]}={p.streak}" for p in report.probes)
            return f"watch     {event.elapsed:7.1f}s {report.status:<9} flaps={report.flaps} {streaks}"
        case ev.ProbesChosen(count=count):
            return f"watch     {count} probe(s), see the plan above"
        case ev.NoProbes(message=message):
            return f"probes    {message}"
        case ev.Replayed(line=observed):
            return f"\nObserved: {observed}"
        case ev.LiveDenialsCompared():
            return live_denials_text(event)
    line = event.to_json()
    parts = " ".join(
        f"{k}={v}" for k, v in line.items() if k not in ("event", "time") and not isinstance(v, list | dict)
    )
    return f"{event.KIND:<9} {parts}"


def live_denials_text(event: LiveDenialsCompared) -> str:
    """Live denials since the write against the prediction; the unpredicted ones are the surprises."""
    if not event.compared:
        return f"denials   {event.reason or 'not compared'}"
    old = f"{event.old_document} by the replaced document while the change propagated, " if event.old_document else ""
    lines = [
        f"denials   since the write: {event.denials} — {event.predicted} predicted by the replay, "
        f"{event.probes} covered by the plan's probes, {old}{event.unpredicted} unpredicted"
    ]
    if event.unpredicted:
        lines.append(f"⚠ {event.unpredicted} unpredicted denial(s) — the surprises worth a rollback:")
        for s in event.surprises[:8]:
            lines.append(f"  {s.calls:>3} × {s.action}  {s.principal or '(redacted)'}  ({s.account})")
        lines.append("  (CloudTrail delivers minutes late: `vpce tail` shows the denials that arrive after this)")
    return "\n".join(lines)


def summary_line(
    summary: RolloutSummary, fmt: str, out: TextIO | None = None, extra: Mapping[str, Any] | None = None
) -> None:
    """The closing line: the summary JSON object (with `extra` keys), or a sentence."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps({**summary.to_json(), **(extra or {})}) + "\n")
    else:
        prop = "" if summary.propagation_seconds is None else f" after {summary.propagation_seconds:.1f}s"
        why = f": {summary.reason}" if summary.reason else ""
        journal = f" (journal {summary.journal_id})" if summary.journal_id else ""  # a refusal wrote no entry
        out.write(f"{summary.status.upper()}{prop}{journal}{why}\n")
    out.flush()


async def run_async(
    args: argparse.Namespace, config: Config, target: Target, action: str, lab: ReadyFile | None = None
) -> RolloutSummary:
    """Connect and run one rollout, resume or rollback; prints events and the summary, returns the summary."""
    summary, _ = await run_rollout(args, config, target, action, lab)
    return summary


async def run_rollout(
    args: argparse.Namespace, config: Config, target: Target, action: str, lab: ReadyFile | None = None
) -> tuple[RolloutSummary, LiveDenials | None]:
    """`run_async`, and for an apply the live denials since the write sorted against the plan step's replay."""
    from vpce_console.aws.session import AwsGateway
    from vpce_console.aws.writes import describe_endpoint_policy
    from vpce_console.services.journal import Journal
    from vpce_console.services.rollout import Rollout, RolloutOptions, RolloutSummary
    from vpce_console.services.rollout_events import Refused

    policy_text = read_policy_file(args.policy) if action == "apply" else ""
    base_text = read_policy_file(args.base) if getattr(args, "base", None) else None
    account = getattr(args, "account", None)
    live: LiveDenials | None = None
    async with AwsGateway(target, config) as gateway:
        endpoint = await describe_endpoint_policy(gateway, args.endpoint, account_id=account)
        ctx = await build_context(
            gateway,
            config,
            target,
            lab=lab,
            journal=Journal(),
            personas_file=getattr(args, "personas", None),
            self_probe=not getattr(args, "no_self_probe", False),
            workload_probes=not getattr(args, "no_workload_probes", False),
            services=(endpoint.service,),
        )
        emit = printer(args.format)
        rollout = Rollout(ctx, emit)
        rollout.known_endpoint = endpoint
        poll = args.poll if getattr(args, "poll", None) is not None else config.watch.poll_seconds
        timeout = getattr(args, "timeout", None)
        opts = RolloutOptions(
            endpoint_id=args.endpoint,
            policy_text=policy_text,
            base_text=base_text,
            poll_seconds=poll,
            timeout_seconds=timeout if timeout is not None else config.watch.timeout_seconds,
            required_streak=getattr(args, "required_streak", None) or config.watch.required_streak,
            samples=max(1, getattr(args, "samples", 8)),
            settle_seconds=getattr(args, "settle", None),
            rollback_on_denials=getattr(args, "rollback_on_denials", None),
            force_lint=getattr(args, "force_lint", False),
            account_id=account,
            propagation_window_seconds=config.watch.propagation_window_seconds,
        )
        replay = None
        if action == "apply":  # read-only and before the lease: a slow first sync holds no one up
            from vpce_console.services.replay import plan_replay

            replay = await plan_replay(
                gateway,
                config,
                args.endpoint,
                policy_text,
                enabled=not getattr(args, "no_trail", False),
                default_region=gateway.region,
            )
            emit(replace(replay.event(), at=time.time()))
            rollout.observed_callers = list((replay.doc or {}).get("callers", ()))
        lease = None
        if action in ("apply", "rollback"):  # a write: one writer per endpoint, from before the dry run to the end
            from vpce_console.services.lease import EndpointLease

            caller = await gateway.caller_identity()
            lease = EndpointLease(
                gateway,
                args.endpoint,
                account_id=account,
                holder=caller.arn,
                break_token=getattr(args, "break_stale_lease", None),
            )
        try:
            if replay is not None and replay.state != "ready" and getattr(args, "require_replay", False):
                reason = f"--require-replay: {replay.line}"
                emit(Refused(reason=reason, at=time.time()))
                summary = RolloutSummary("refused", None, poll, 0, None, reason=reason)
            elif action == "rollback":
                to = getattr(args, "to", None)
                summary = await _leased(
                    lease, rollout, lambda: rollout.rollback(args.endpoint, to=to, account_id=account, opts=opts)
                )
            elif action == "preview-rollback":
                plan = await rollout.rollback_plan(args.endpoint, to=getattr(args, "to", None), account_id=account)
                summary = RolloutSummary(
                    "refused" if plan.refused else "preview", None, poll, 0, None, reason=plan.refused, kind="rollback"
                )
            else:
                summary = await _leased(
                    lease, rollout, lambda: rollout.resume(opts) if action == "resume" else rollout.apply(opts)
                )
            if replay is not None and summary.journal_id and summary.status in COMPARED:
                compared, live = await _compare(
                    gateway, config, ctx.journal, rollout, summary, replay, policy_text, endpoint
                )
                emit(replace(compared, at=time.time()))
        finally:
            await rollout.close()
    if summary.status != "preview":
        extra = {} if replay is None else {"unpredicted_denials": None if live is None else len(live.unpredicted)}
        summary_line(summary, args.format, extra=extra)
    return summary, live


COMPARED = frozenset({"converged", "unobserved", "timed_out"})
"""Endings after which the new document stays written: its live denials are compared with the prediction."""


async def _compare(
    gateway: AwsGateway,
    config: Config,
    journal: Journal,
    rollout: Rollout,
    summary: RolloutSummary,
    replay: PlanReplay,
    draft: str,
    endpoint: EndpointPolicy,
) -> tuple[LiveDenialsCompared, LiveDenials | None]:
    """The endpoint's denials since this change's write (the journal's time) against the replay and the plan."""
    from vpce_console.services.replay_live import compare_live_denials

    entry = next((e for e in journal.entries(endpoint.endpoint_id) if e.journal_id == summary.journal_id), None)
    return await compare_live_denials(
        gateway,
        list(config.tail.log_groups),
        endpoint.endpoint_id,
        entry.written_at if entry is not None else None,
        draft=draft,
        replay=replay.doc,
        probes=rollout.planned_probes,
        endpoint_vpc=endpoint.vpc_id,
    )


async def _leased(lease: Any, rollout: Any, work: Callable[[], Any]) -> RolloutSummary:
    """`work()` under the endpoint lease (writes), or as it is (`--resume` only watches)."""
    if lease is None:
        return await work()  # type: ignore[no-any-return]
    from vpce_console.services.lease import run_leased

    return await run_leased(lease, rollout, work)


def add_lease_argument(parser: argparse.ArgumentParser) -> None:
    """`--break-stale-lease LEASE_ID`: the explicit flag and typed confirmation that breaks a dead holder's lease."""
    parser.add_argument(
        "--break-stale-lease",
        metavar="LEASE_ID",
        help="break an EXPIRED lease whose holder is gone: type the lease id the refusal printed",
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of `vpce rollout`."""
    from vpce_console.connect import connect_lab
    from vpce_console.services.rollout import check_write_gate

    if not args.endpoint:
        raise UsageError("--endpoint ID is required")
    if args.poll is not None and args.poll <= 0:
        raise UsageError("--poll must be positive")
    if args.required_streak is not None and args.required_streak < 1:
        raise UsageError("--required-streak must be at least 1")
    if args.resume:
        config, target, lab = connect_lab(args)
        return asyncio.run(run_async(args, config, target, "resume", lab)).exit_code
    if not args.policy:
        raise UsageError("--policy F is required (or --resume)")
    read_policy_file(args.policy)  # unreadable input is exit 2 before anything else
    config, target, lab = connect_lab(args)
    check_write_gate(
        allow_write=args.allow_write, config_allows=config.allow_write, confirm=args.confirm, endpoint_id=args.endpoint
    )
    from vpce_console.services.replay_live import rollout_exit_code

    summary, live = asyncio.run(run_rollout(args, config, target, "apply", lab))
    return rollout_exit_code(summary.exit_code, live)
