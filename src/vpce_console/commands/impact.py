"""`vpce impact`: which workloads change from allow to deny (and back) between two endpoint policies.

Exit codes: 0 when no persona loses access, 1 when at least one cell goes from allow to deny (a rollout
would break someone: review it), 2 on bad input. Cells that only gain access do not fail the command.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from vpce_console.commands._input import read_text
from vpce_console.errors import UsageError

EPILOG = """\
personas: --personas F, else the config's `personas:`, else a lab's workloads (--lab, --lab-ready), else the
built-in demo set (one persona per credential kind, as examples/personas.yaml) -- the console's selection.
with a target (--lab, --lab-ready or --profile) the hub and each service zone's associated VPCs are read: a
persona whose VPC is not associated with the service's zone takes NAT, so the endpoint policy cannot deny it
("not through the endpoint", never counted as a change); actions and resources are the console's choice.
personas file: YAML with a `hub:` section (account_id, vpc_id, endpoint_id, region, org_id, org_paths) and a
`personas:` list (name, kind, account_id, role_arn, vpc_id, private_ip, tags, …); see examples/personas.yaml.
Default actions: those named literally in either policy; default resources: likewise, else "*".
exit codes: 0 nobody loses access, 1 at least one allow -> deny, 2 unreadable or invalid input.
"""

DEFAULT_HUB = {"account_id": "000000000000", "vpc_id": "vpc-hub", "endpoint_id": "vpce-hub"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce impact`."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--from", dest="from_file", metavar="F", help="deployed policy JSON (required)")
    parser.add_argument("--to", dest="to_file", metavar="F", help="draft policy JSON (required)")
    parser.add_argument(
        "--personas",
        metavar="F",
        help="personas YAML with a hub: section (default: the built-in demo set, one persona per credential kind)",
    )
    parser.add_argument(
        "--service",
        metavar="NAME",
        help="the endpoint's service (sqs, kms, …) whose zone decides who goes through it (default: the one "
        "service the policies' actions name)",
    )
    parser.add_argument("--actions", metavar="A,B", help="comma-separated actions to check")
    parser.add_argument("--resources", metavar="R1,R2", help="comma-separated resource ARNs (or *) to check")
    parser.add_argument(
        "--via-nat",
        action="store_true",
        help="synthesize requests that reach the public endpoint through NAT instead of the hub endpoint",
    )
    parser.add_argument("--changed-only", action="store_true", help="text: list only cells whose access changes")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def demo_personas_text() -> str:
    """The packaged demo personas (a copy of examples/personas.yaml), used when --personas is not given."""
    from vpce_console.services.personas import demo_personas_text as text

    return text()


def has_target(args: argparse.Namespace) -> bool:
    """True when the command names somewhere to read facts from: a lab (`--lab`, `--lab-ready`) or an account."""
    return bool(getattr(args, "lab", False) or getattr(args, "lab_ready", None) or getattr(args, "profile", None))


def persona_set_for(args: argparse.Namespace, services: tuple[str, ...] | None) -> tuple[Any, dict[str, str]]:
    """The console's persona selection for this command: with a target, its personas and zone associations.

    Also returns service -> hub endpoint id where the target names them (a lab's ready-file).
    """
    from vpce_console.config import load_config
    from vpce_console.services.personas import select_personas

    if not has_target(args):
        config = load_config(getattr(args, "config", None))
        return select_personas(config=config, personas_file=getattr(args, "personas", None)), {}
    import asyncio

    from vpce_console.connect import connect_lab

    config, target, lab = connect_lab(args)

    async def zones() -> Any:
        from vpce_console.aws.session import AwsGateway
        from vpce_console.services.personas import load_zone_vpcs

        async with AwsGateway(target, config) as gateway:
            return await load_zone_vpcs(gateway, config, services)

    pset = select_personas(
        lab=lab,
        config=config,
        personas_file=getattr(args, "personas", None),
        zone_vpcs=asyncio.run(zones()),
    )
    return pset, dict(lab.hub_endpoints) if lab is not None else {}


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


MAX_ACTIONS = 32
"""Named actions checked at most (columns of the matrix); more is unreadable and costs time, not insight."""
MAX_RESOURCES = 8
"""Named resources checked at most per action."""


def _word(decision: Any) -> str:
    return {"allow": "✓ allow", "explicit_deny": "✗ deny (explicit)", "implicit_deny": "✗ deny (implicit)"}[
        decision.kind
    ]


def _sids(decision: Any) -> list[dict[str, Any]]:
    return [{"sid": m.sid, "index": m.index, "effect": m.effect} for m in decision.matched]


def to_json(result: Any, hub: Any) -> dict[str, Any]:
    """The stable JSON shape of an impact matrix."""
    return {
        "hub": {"account_id": hub.account_id, "vpc_id": hub.vpc_id, "endpoint_id": hub.endpoint_id},
        "summary": {
            "cells": len(result.cells),
            "changed": len(result.changed_cells),
            "revoked": len(result.revoked),
            "granted": len(result.granted),
            "not_through_endpoint": sum(1 for cell in result.cells if not cell.through_endpoint),
        },
        "cells": [
            {
                "persona": cell.persona.name,
                "through_endpoint": cell.through_endpoint,
                "kind": cell.persona.kind,
                "action": cell.action,
                "resource": cell.resource,
                "before": cell.before.kind,
                "after": cell.after.kind,
                "changed": cell.changed,
                "direction": cell.direction,
                "before_matched": _sids(cell.before),
                "after_matched": _sids(cell.after),
            }
            for cell in result.cells
        ],
    }


def _cell_text(cell: Any) -> str:
    if not cell.through_endpoint:
        return "not through the endpoint"
    if cell.direction == "revoked":
        return "! ✓→✗ LOSES"
    if cell.direction == "granted":
        return "! ✗→✓ gains"
    return "✓ allow" if cell.after.allowed else "✗ deny"


def _statement_names(decision: Any) -> str:
    names = [f"{m.effect} {m.sid or '#' + str(m.index)}" for m in decision.matched]
    return ", ".join(names) if names else "no statement matched"


def to_text(result: Any, *, changed_only: bool = False) -> str:
    """A persona × action matrix with ✓/✗ and words, changed cells marked `!`, then one line per change."""
    columns = [(a, r) for a in result.actions for r in result.resources]
    multi_resource = len(result.resources) > 1
    headers = [f"{a} @ {r}" if multi_resource else a for a, r in columns]
    by_key = {(c.persona.name, c.action, c.resource): c for c in result.cells}
    rows: list[list[str]] = [["persona (kind)", *headers]]
    for persona in result.personas:
        cells = [by_key[(persona.name, a, r)] for a, r in columns]
        if changed_only and not any(c.changed for c in cells):
            continue
        rows.append([f"{persona.name} ({persona.kind})", *(_cell_text(c) for c in cells)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in rows]
    details = []
    for cell in result.changed_cells:
        verb = "loses access" if cell.direction == "revoked" else "gains access"
        details.append(
            f"! {cell.persona.name} {verb}: {cell.action} on {cell.resource}: "
            f"deployed {cell.before.kind} ({_statement_names(cell.before)}) -> "
            f"draft {cell.after.kind} ({_statement_names(cell.after)})"
        )
    summary = (
        f"{len(result.cells)} cells: {len(result.revoked)} lose access (allow -> deny), "
        f"{len(result.granted)} gain access (deny -> allow), "
        f"{len(result.cells) - len(result.changed_cells)} unchanged"
    )
    nat = sorted({c.persona.name for c in result.cells if not c.through_endpoint})
    if nat:
        summary += f" ({len(nat)} persona(s) not through the endpoint, NAT path: {', '.join(nat)})"
    legend = "legend: ✓ allow  ✗ deny  ! changed (✓→✗ loses access, ✗→✓ gains access)"
    return "\n".join([*lines, "", *details, *([""] if details else []), summary, legend])


def run(args: argparse.Namespace) -> int:
    """Compare the two policies for every persona; exit 1 when anyone would lose access."""
    from vpce_console.policy.evaluator import PolicyError, compile_policy
    from vpce_console.policy.impact_matrix import DEFAULT_ACTIONS, impact, named_in_policies
    from vpce_console.services.personas import change_impact, impact_axes, infer_service

    if not args.from_file or not args.to_file:
        raise UsageError("--from F and --to F are both required")
    before_text = read_text(args.from_file)
    after_text = read_text(args.to_file)
    policies = []
    for path, text in ((args.from_file, before_text), (args.to_file, after_text)):
        try:
            policies.append(compile_policy(text))
        except PolicyError as exc:
            raise UsageError(f"{path}: unusable policy: {exc} (run `vpce lint {path}`)") from None
    texts = (before_text, after_text)
    service = args.service or infer_service(texts)
    if has_target(args) and not service:
        raise UsageError("--service NAME is needed: the policies name actions of several services (or none)")
    pset, endpoints = persona_set_for(args, (service,) if service else None)
    if not pset.personas:
        raise UsageError(f"{pset.source}: no personas")
    note = ""
    if has_target(args):
        assert service is not None
        endpoint_id = endpoints.get(service, "")
        actions_default, resources_default = impact_axes(service, before_text, after_text)
        result = change_impact(
            pset,
            service,
            policies[0],
            policies[1],
            endpoint_id=endpoint_id,
            actions=_split(args.actions) or actions_default,
            resources=_split(args.resources) or resources_default,
            now=datetime.now(UTC),
        )
        hub = pset.hub_for(endpoint_id)
    else:
        hub = pset.hub
        actions = _split(args.actions) or named_in_policies(texts, "Action") or DEFAULT_ACTIONS
        resources = _split(args.resources) or named_in_policies(texts, "Resource") or ("*",)
        # every named action × every named resource grows with the square of the statements: cap the columns so
        # the work stays linear in statements × personas (pass --actions/--resources to choose others)
        capped = len(actions) > MAX_ACTIONS or len(resources) > MAX_RESOURCES
        note = (
            f"note: checked the first {min(len(actions), MAX_ACTIONS)} of {len(actions)} actions and "
            f"{min(len(resources), MAX_RESOURCES)} of {len(resources)} resources the policies name; "
            "pass --actions/--resources for others"
            if capped
            else ""
        )
        actions, resources = actions[:MAX_ACTIONS], resources[:MAX_RESOURCES]
        result = impact(
            policies[0],
            policies[1],
            pset.personas,
            actions,
            resources,
            hub,
            through_endpoint=not args.via_nat,
            now=datetime.now(UTC),
        )
    if args.format == "json":
        document = to_json(result, hub)
        if note:
            document["note"] = note
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(to_text(result, changed_only=args.changed_only) + (f"\n{note}" if note else ""))
    return 1 if result.revoked else 0
