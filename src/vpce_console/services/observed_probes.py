"""Personas from evidence as watch probes: the heaviest callers of the replay's week, probed as themselves.

A replay names who really called the endpoint (`ReplayReport.callers`). Where this machine can act as one of them
— a configured probe role with that role ARN, or a workload whose keys it holds in the same account and VPC (for a
caller AWS redacted to its account) — the watch probes as that caller, making the call it made most among the
cheap read calls a probe may make (`probes.PROBE_ACTIONS`). Only calls the draft changes can show the change
take effect, so only those become probes; the plan says why any other heavy caller is not probed. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vpce_console.policy.evaluator import compile_policy, evaluate
from vpce_console.policy.personas import HubEndpoint, persona_request
from vpce_console.services.probes import PROBE_ACTIONS, Probe, ProbeIdentity, candidate_resources

OBSERVED_PROBE_CALLERS = 3
"""Heaviest observed callers probed as themselves: each adds `--samples` calls a round (8 by default) beside the
derived probes', so three stay a light load while covering the callers that carry most of the week's traffic."""


@dataclass(frozen=True, slots=True)
class ObservedProbe:
    """A probe that acts as an observed caller, with what the plan says about that caller."""

    probe: Probe
    caller: str
    """`role/orders-app` or `222222222222 vpc-0abc…` (a caller AWS redacted to its account)."""
    calls: int
    """The caller's calls in the replay's window."""
    heaviest: str
    """The caller's most frequent action; the probe makes it when a probe may, else its most frequent read call."""


def caller_label(caller: Mapping[str, Any]) -> str:
    """A caller in a few words: its role (or user) name with kind, or its account and VPC when redacted."""
    principal = caller.get("principal")
    if principal:
        return str(principal).split(":", 5)[-1]
    return f"{caller.get('account')} {caller.get('vpc')}"


def identity_for(caller: Mapping[str, Any], identities: Sequence[ProbeIdentity]) -> ProbeIdentity | None:
    """Who this machine can act as to make that caller's calls: the same role or user ARN, or — for a caller AWS
    redacted to its account — an identity of that account in that VPC (at its source IP first); None otherwise."""
    principal = caller.get("principal")
    for identity in identities:
        arn = identity.role_arn or identity.persona.role_arn
        if principal and arn == principal:
            return identity
    if principal:
        return None
    same = [
        i
        for i in identities
        if i.persona.account_id == caller.get("account") and i.persona.vpc_id and i.persona.vpc_id == caller.get("vpc")
    ]
    # the workload at the caller's own address first: the one whose calls these most likely were
    same.sort(key=lambda i: i.persona.private_ip is None or i.persona.private_ip != caller.get("source_ip"))
    return same[0] if same else None


def observed_probes(
    callers: Sequence[Mapping[str, Any]],
    identities: Sequence[ProbeIdentity],
    *,
    service: str,
    hub: HubEndpoint,
    before: str,
    after: str,
    limit: int = OBSERVED_PROBE_CALLERS,
) -> tuple[list[ObservedProbe], list[str]]:
    """(probes acting as the heaviest observed callers the draft changes, notes on heavy callers not probed).

    `callers` is the replay's `callers` JSON, heaviest first. A caller no identity can act as is skipped silently
    (the Observed tab lists them); one whose observed calls include no probe call, or whose probe calls the draft
    does not change while it denies others of its calls, gets a note.
    """
    probeable = dict(PROBE_ACTIONS.get(service, ()))
    compiled_before, compiled_after = compile_policy(before), compile_policy(after)
    chosen: list[ObservedProbe] = []
    notes: list[str] = []
    used: set[str] = set()
    for caller in callers:
        if len(chosen) >= limit:
            break
        identity = identity_for(caller, identities)
        if identity is None or identity.name in used:
            continue
        actions = [str(a["action"]) for a in caller.get("actions", ()) if a.get("action")]
        calls = int(caller.get("calls", 0))
        label = caller_label(caller)
        readable = [a for a in actions if a in probeable]
        if actions and not readable:
            notes.append(
                f"observed caller {label} ({calls} calls/7d): none of its calls ({', '.join(actions[:3])}) is one a "
                f"probe may make ({', '.join(probeable) or 'none for ' + service}); not probed"
            )
            continue
        probe = None
        for action in readable:
            kind = probeable[action]
            resources = ["*"] if kind == "*" else candidate_resources(service, kind, hub, before, after)
            for resource in resources:
                request = persona_request(identity.persona, hub, action, resource)
                was = evaluate(compiled_before, request).kind
                will = evaluate(compiled_after, request).kind
                if was != will:
                    probe_id = f"{identity.name}:{action}:{resource}"
                    probe = Probe(probe_id, identity, action, resource, was, will, observed=caller_label(caller))
                    break
            if probe is not None:
                break
        if probe is None:
            if int(caller.get("draft_denies", 0)):
                notes.append(
                    f"observed caller {label} ({calls} calls/7d): the draft denies {caller['draft_denies']} of its "
                    f"calls, but none a probe may make ({', '.join(readable)}) changes; not probed"
                )
            continue
        used.add(identity.name)
        chosen.append(ObservedProbe(probe, label, calls, actions[0] if actions else probe.action))
    return chosen, notes
