"""`vpce simulate`: evaluate request contexts against an endpoint policy, offline.

Exit codes: 0 when every request was evaluated (the decision is data, whatever it is), 2 on bad input
(unreadable file, invalid policy, invalid request line N) with one line naming the file and line.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from vpce_console.commands._input import read_text
from vpce_console.errors import UsageError
from vpce_console.safeload import MAX_REQUESTS_BYTES, load_json

EPILOG = """\
request JSON: {"principal": ARN, "action": "sqs:SendMessage", "resource": ARN or "*",
               "context": {"aws:SourceVpc": "vpc-…", "aws:PrincipalOrgPaths": ["o-…/r-…/ou-…/"]}}
answer JSON:  {"decision": "allow|explicit_deny|implicit_deny", "matched": [{"sid", "index", "effect"}]}
              with a target (--lab, --lab-ready, --profile) a --persona whose VPC is not associated with the
              service's zone answers {"decision": "not_through_endpoint"}: NAT path, the policy cannot deny it.
an unknown --action (a typo) is an input error: exit 2 with the nearest real action (request files are
evaluated exactly as given).
The context is evaluated exactly as given: add the keys the real service would see, or let
--persona NAME synthesize them (personas from --personas F, the config's `personas:`, a lab's workloads, else
the built-in demo set, examples/personas.yaml: the console's selection).
exit codes: 0 every request evaluated (whatever the decisions), 2 unreadable/invalid input.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `vpce simulate`."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--policy", metavar="F", help="endpoint policy JSON file ('-' for stdin); required")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--request", metavar="F", help="one request as a JSON object")
    source.add_argument("--requests", metavar="F", help="many requests, one JSON object per line (JSON Lines)")
    source.add_argument(
        "--persona",
        metavar="NAME",
        help="synthesize the request a persona sends through the hub endpoint (with --action, --resource)",
    )
    persona = parser.add_argument_group("persona requests (--persona)")
    persona.add_argument(
        "--personas", metavar="F", help="personas YAML (default: config personas:, a lab's, the built-in demo set)"
    )
    persona.add_argument("--action", metavar="A", help="action, e.g. sqs:SendMessage")
    persona.add_argument("--resource", metavar="R", default="*", help="resource ARN (default *)")
    persona.add_argument("--via-nat", action="store_true", help="the request bypasses the endpoint (NAT path)")
    persona.add_argument(
        "--show-context", action="store_true", help="include the synthesized request in the answer (json only)"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="add a per-statement trace (action, principal, resource and each condition's result) to every answer",
    )
    parser.add_argument(
        "--format",
        choices=("json", "jsonl"),
        default=None,
        help="json: one indented object (or a list for --requests); jsonl: one line per request, in order "
        "(default: json for --request, jsonl for --requests)",
    )


def check_action(action: str, where: str) -> None:
    """An action the IAM data does not know is an input error with the nearest real one (a typo decides nothing)."""
    import difflib

    from vpce_console.data.knowledge import default_knowledge

    prefix, sep, name = action.partition(":")
    if not sep or not prefix or not name:
        raise UsageError(f'{where}: {action!r} is not an action: write "service:ActionName", e.g. sqs:SendMessage')
    knowledge = default_knowledge()
    data = knowledge.service(prefix.lower())
    if data is None:
        near = difflib.get_close_matches(prefix.lower(), sorted(knowledge.service_names), n=1, cutoff=0.75)
        hint = f" (did you mean {near[0]}:{name}?)" if near else ""
        raise UsageError(f"{where}: unknown service prefix {prefix!r} in {action}{hint}")
    if "*" in name or "?" in name or knowledge.action_exists(prefix.lower(), name):
        return
    near = difflib.get_close_matches(name.lower(), list(data.actions), n=1, cutoff=0.7)
    hint = f" (did you mean {prefix}:{data.actions[near[0]]}?)" if near else ""
    raise UsageError(f"{where}: unknown action {action}{hint}")


def parse_request(data: Any, where: str) -> Any:
    """Validate one request object and build a Request; raise UsageError naming `where` on bad input."""
    from vpce_console.policy.evaluator import Request

    if not isinstance(data, Mapping):
        raise UsageError(f"{where}: a request must be a JSON object")
    unknown = set(data) - {"principal", "action", "resource", "context"}
    if unknown:
        raise UsageError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for name in ("principal", "action", "resource"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise UsageError(f"{where}: '{name}' must be a non-empty string")
    context = data.get("context", {})
    if context is None:
        context = {}
    if not isinstance(context, Mapping):
        raise UsageError(f"{where}: 'context' must be an object of key -> value or [values]")
    for key, value in context.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, (str, bool, int, float)) for v in values):
            raise UsageError(f"{where}: context key {key!r} must be a string, number, boolean or a list of them")
    return Request(data["principal"], data["action"], data["resource"], dict(context))


def _persona_request(args: argparse.Namespace) -> tuple[Any, bool]:
    """The request a persona sends, and whether it goes through the endpoint (the console's persona selection)."""
    from vpce_console.commands.impact import has_target, persona_set_for
    from vpce_console.policy.impact_matrix import resource_account
    from vpce_console.policy.personas import persona_request
    from vpce_console.services.personas import service_of_action

    if not args.action:
        raise UsageError("--persona needs --action (and optionally --resource)")
    check_action(args.action, "--action")
    service = service_of_action(args.action)
    pset, endpoints = persona_set_for(args, (service,))
    persona = pset.by_name(args.persona)
    through = pset.through_endpoint(persona, service) if has_target(args) else True
    request = persona_request(
        persona,
        pset.hub_for(endpoints.get(service, pset.hub.endpoint_id)),
        args.action,
        args.resource,
        through_endpoint=through and not args.via_nat,
        resource_account=resource_account(args.resource),
        now=datetime.now(UTC),
    )
    return request, through


def _requests(args: argparse.Namespace) -> Iterator[tuple[str, Any]]:
    if args.persona:
        request, through = _persona_request(args)
        args.through_endpoint = through
        yield args.persona, request
        return
    if args.request:
        text = read_text(args.request, limit=MAX_REQUESTS_BYTES, what="request file")
        data = load_json(text, args.request)
        yield args.request, parse_request(data, args.request)
        return
    text = read_text(args.requests, limit=MAX_REQUESTS_BYTES, what="requests file")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{args.requests}:{number}"
        data = load_json(line, where)
        yield where, parse_request(data, where)


def answer(decision: Any) -> dict[str, Any]:
    """The stable JSON shape of one decision."""
    return {
        "decision": decision.kind,
        "matched": [{"sid": m.sid, "index": m.index, "effect": m.effect} for m in decision.matched],
    }


def trace_json(trace: Any) -> dict[str, Any]:
    """The stable JSON shape of one statement trace (--explain)."""
    return {
        "index": trace.index,
        "sid": trace.sid,
        "effect": trace.effect,
        "applies": trace.applies,
        "action": trace.action,
        "principal": trace.principal,
        "resource": trace.resource,
        "conditions": [
            {"operator": c.operator, "key": c.key, "result": c.result, "key_present": c.key_present}
            for c in trace.conditions
        ],
    }


def run(args: argparse.Namespace) -> int:
    """Evaluate every request; all input is validated before anything is printed."""
    from vpce_console.policy.evaluator import PolicyError, compile_policy

    if not args.policy:
        raise UsageError("--policy F is required")
    if not (args.request or args.requests or args.persona):
        raise UsageError("one of --request F, --requests F.jsonl or --persona NAME is required")
    policy_text = read_text(args.policy)
    try:
        compiled = compile_policy(policy_text)
    except PolicyError as exc:
        raise UsageError(f"{args.policy}: unusable policy: {exc} (run `vpce lint {args.policy}`)") from None
    answers = []
    for _, request in _requests(args):
        item = answer(compiled.evaluate(request))
        if args.persona and not getattr(args, "through_endpoint", True):
            # the persona's VPC is not associated with the service's zone: NAT path, the endpoint policy never sees it
            item = {
                "decision": "not_through_endpoint",
                "matched": [],
                "note": f"{args.persona}'s VPC is not associated with this service's hosted zone: its calls go out "
                "through NAT, so the endpoint policy cannot allow or deny them",
            }
        if args.explain:
            item["statements"] = [trace_json(t) for t in compiled.explain(request)]
        if args.persona and args.show_context:
            item["request"] = {
                "principal": request.principal,
                "action": request.action,
                "resource": request.resource,
                "context": dict(request.context),
            }
        answers.append(item)
    fmt = args.format or ("jsonl" if args.requests else "json")
    if fmt == "jsonl":
        for item in answers:
            print(json.dumps(item, separators=(", ", ": ")))
    elif args.request or args.persona:
        print(json.dumps(answers[0], indent=2))
    else:
        print(json.dumps(answers, indent=2))
    return 0
