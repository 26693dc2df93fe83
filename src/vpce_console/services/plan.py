"""The rollout plan as a person reads it: what changes, who is affected, and which probes will prove it.

Built before anything is written (by the rollout service, for an apply and for a rollback alike) and rendered by
the CLI as text and by the console's rollout screen. Probes are chosen per direction: a change that removes a
restriction ("newly allowed") needs a probe that is denied now, one that adds a restriction ("newly denied") a
probe that is allowed now. When no probe can tell the documents apart, the plan says so before the write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vpce_console.services.observed_probes import ObservedProbe
from vpce_console.services.probes import Probe

NEWLY_DENIED = "newly_denied"
NEWLY_ALLOWED = "newly_allowed"
MAX_PROBES_PER_DIRECTION = 3
"""Probes per direction: enough identities to see the whole fleet converge without flooding it."""

UNOBSERVED_NOTE = (
    "no probe can observe this change: the watch will wait the propagation window and report it as unobserved"
)


@dataclass(frozen=True, slots=True)
class PlanProbe:
    """One probe the watch will run, in words."""

    probe_id: str
    who: str
    action: str
    resource: str
    before: str
    """Endpoint decision under the deployed document (allow, explicit_deny, implicit_deny)."""
    after: str
    direction: str
    """newly_denied | newly_allowed."""
    observed: str = ""
    """The observed caller this probe acts as (`role/orders-app`, or `ACCOUNT VPC` when redacted); '' otherwise."""
    observed_calls: int = 0
    """That caller's calls in the replay's week."""
    observed_heaviest: str = ""
    """That caller's most frequent action (when a probe may not make it, the probe makes its most frequent read)."""

    @property
    def sentence(self) -> str:
        """`client-fn → sqs:ListQueues: allowed now, denied once the change is in force`."""
        target = "" if self.resource == "*" else f" on {self.resource.rsplit(':', 1)[-1]}"
        now = "allowed" if self.before == "allow" else "denied"
        later = "allowed" if self.after == "allow" else "denied"
        return f"{self.who} → {self.action}{target}: {now} now, {later} once the change is in force"

    def observed_lines(self) -> list[str]:
        """`probe acts as observed caller role/app (412 calls/7d)`, then what it calls as whom (two plan lines)."""
        now = "allowed" if self.before == "allow" else "denied"
        later = "allowed" if self.after == "allow" else "denied"
        heaviest = ""
        if self.observed_heaviest and self.observed_heaviest != self.action:
            heaviest = f" (its heaviest, {self.observed_heaviest}, cannot be probed)"
        return [
            f"probe acts as observed caller {self.observed} ({self.observed_calls} calls/7d)",
            f"  as {self.who}: {self.action} {now} now, {later} once in force{heaviest}",
        ]

    def to_json(self) -> dict[str, Any]:
        """Stable JSON."""
        return {
            "probe_id": self.probe_id,
            "who": self.who,
            "action": self.action,
            "resource": self.resource,
            "before": self.before,
            "after": self.after,
            "direction": self.direction,
            "observed": self.observed or None,
            "observed_calls": self.observed_calls,
        }


@dataclass(frozen=True, slots=True)
class AffectedCell:
    """One persona × action × resource whose access flips."""

    persona: str
    action: str
    resource: str
    direction: str
    """newly_denied | newly_allowed."""

    @property
    def sentence(self) -> str:
        """`client-fn sqs:SendMessage on orders`."""
        target = "" if self.resource == "*" else f" on {self.resource.rsplit(':', 1)[-1]}"
        return f"{self.persona} {self.action}{target}"


@dataclass(frozen=True, slots=True)
class RolloutPlan:
    """Everything a person reviews before typing the endpoint id: built without writing anything."""

    kind: str
    """apply | rollback."""
    endpoint_id: str
    service: str
    caller: str
    deployed_version: str
    """First 12 hex digits of the deployed document's sha256."""
    new_version: str
    """The same for the document that will be written."""
    changes: tuple[str, ...]
    """What changes, one statement per line (`adds Deny sqs:* when …`)."""
    diff: str
    newly_denied: tuple[AffectedCell, ...] = ()
    newly_allowed: tuple[AffectedCell, ...] = ()
    personas: int = 0
    """Personas the impact was evaluated for."""
    personas_source: str = ""
    not_through_endpoint: tuple[str, ...] = ()
    """Personas whose VPC is not associated with the service's zone: NAT path, the policy cannot deny them."""
    probes_denied: tuple[PlanProbe, ...] = ()
    """Probes that are allowed now and denied under the new document."""
    probes_allowed: tuple[PlanProbe, ...] = ()
    """Probes that are denied now and allowed under the new document."""
    lint_errors: int = 0
    lint_warnings: int = 0
    rollback_of: str | None = None
    """For a rollback: the journal entry whose previous document is restored."""
    refused: str = ""
    """Why nothing may be written (lint errors, nothing to do …); empty when the plan can be applied."""
    notes: tuple[str, ...] = ()
    probes: tuple[Probe, ...] = field(default=(), repr=False, compare=False)
    """The probes the watch runs (both directions), with their identities."""

    @property
    def observable(self) -> bool:
        """True when at least one probe can tell the old document from the new one."""
        return bool(self.probes_denied or self.probes_allowed)

    @property
    def ready(self) -> bool:
        """True when the change may be written (after the typed confirmation)."""
        return not self.refused

    def lines(self) -> list[str]:
        """The plan as a person reads it, one line each (no colour, fits 80 columns where it can)."""
        verb = "Roll back" if self.kind == "rollback" else "Apply"
        out = [f"{verb} {self.endpoint_id} ({self.service}): {self.deployed_version} → {self.new_version}"]
        if self.rollback_of:
            out.append(f"  restores the document in force before change {self.rollback_of}")
        if self.refused and not self.diff and not self.changes:
            return [*out, f"Refused: {self.refused}"]  # refused before the diff: nothing was compared
        out.append("What changes:")
        out += [f"  {line}" for line in self.changes] or ["  (whitespace only: same statements)"]
        out.append(f"Who is affected ({self.personas} personas, {self.personas_source or 'none known'}):")
        if not self.newly_denied and not self.newly_allowed:
            out.append("  nobody's access changes")
        for title, cells in (("newly denied", self.newly_denied), ("newly allowed", self.newly_allowed)):
            if cells:
                shown = ", ".join(c.sentence for c in cells[:6])
                more = f" and {len(cells) - 6} more" if len(cells) > 6 else ""
                out.append(f"  {title} ({len(cells)}): {shown}{more}")
        if self.not_through_endpoint:
            out.append(
                f"  not through the endpoint (NAT path, the policy cannot deny them): "
                f"{', '.join(self.not_through_endpoint)}"
            )
        out.append("Which probes will prove it:")
        for title, probes, cells in (
            ("newly denied", self.probes_denied, self.newly_denied),
            ("newly allowed", self.probes_allowed, self.newly_allowed),
        ):
            for p in probes:
                if p.observed:
                    first, second = p.observed_lines()
                    out += [f"  {title}: {first}", f"  {second}"]
                else:
                    out.append(f"  {title}: {p.sentence}")
            if not probes and cells:
                out.append(f"  {title}: no probe can act as an affected workload")
        if not self.observable:
            out.append(f"  {UNOBSERVED_NOTE}")
        out += [f"Note: {note}" for note in self.notes]
        if self.refused:
            out.append(f"Refused: {self.refused}")
        return out

    def to_json(self) -> dict[str, Any]:
        """Stable JSON (the `plan` event of `--format json`)."""
        return {
            "kind": self.kind,
            "endpoint_id": self.endpoint_id,
            "service": self.service,
            "caller": self.caller,
            "deployed_version": self.deployed_version,
            "new_version": self.new_version,
            "changes": list(self.changes),
            "newly_denied": [c.sentence for c in self.newly_denied],
            "newly_allowed": [c.sentence for c in self.newly_allowed],
            "personas": self.personas,
            "personas_source": self.personas_source,
            "not_through_endpoint": list(self.not_through_endpoint),
            "probes_denied": [p.to_json() for p in self.probes_denied],
            "probes_allowed": [p.to_json() for p in self.probes_allowed],
            "observable": self.observable,
            "unobserved_note": "" if self.observable else UNOBSERVED_NOTE,
            "rollback_of": self.rollback_of,
            "lint_errors": self.lint_errors,
            "lint_warnings": self.lint_warnings,
            "refused": self.refused,
            "notes": list(self.notes),
        }


def direction_of(before: str, after: str) -> str | None:
    """newly_denied, newly_allowed, or None when access does not flip."""
    if before == "allow" and after != "allow":
        return NEWLY_DENIED
    if before != "allow" and after == "allow":
        return NEWLY_ALLOWED
    return None


def choose_probes(discriminating: Sequence[Probe]) -> tuple[tuple[Probe, ...], tuple[Probe, ...]]:
    """Up to MAX_PROBES_PER_DIRECTION probes per direction, distinct identities first."""
    chosen: dict[str, list[Probe]] = {NEWLY_DENIED: [], NEWLY_ALLOWED: []}
    for direction in chosen:
        candidates = [p for p in discriminating if direction_of(p.before, p.after) == direction]
        seen: set[str] = set()
        for probe in candidates:  # one per identity first, then fill up
            if probe.identity.name not in seen and len(chosen[direction]) < MAX_PROBES_PER_DIRECTION:
                chosen[direction].append(probe)
                seen.add(probe.identity.name)
        for probe in candidates:
            if probe not in chosen[direction] and len(chosen[direction]) < MAX_PROBES_PER_DIRECTION:
                chosen[direction].append(probe)
    return tuple(chosen[NEWLY_DENIED]), tuple(chosen[NEWLY_ALLOWED])


def plan_probe(probe: Probe, observed: ObservedProbe | None = None) -> PlanProbe:
    """A probe in words (and the observed caller it acts as, when it does)."""
    return PlanProbe(
        probe.probe_id,
        probe.identity.name,
        probe.action,
        probe.resource,
        probe.before,
        probe.after,
        direction_of(probe.before, probe.after) or "",
        observed.caller if observed is not None else "",
        observed.calls if observed is not None else 0,
        observed.heaviest if observed is not None else "",
    )


def with_observed(
    denied: Sequence[Probe], allowed: Sequence[Probe], observed: Sequence[ObservedProbe]
) -> tuple[tuple[PlanProbe, ...], tuple[PlanProbe, ...], tuple[Probe, ...]]:
    """The chosen probes per direction plus the observed callers' (a derived probe making the very same call is
    the observed one, not a second probe): (newly denied, newly allowed, every probe the watch runs)."""
    by_id = {o.probe.probe_id: o for o in observed}
    out: dict[str, list[PlanProbe]] = {NEWLY_DENIED: [], NEWLY_ALLOWED: []}
    probes: list[Probe] = []
    for candidate in [*denied, *allowed, *(o.probe for o in observed)]:
        probe = by_id[candidate.probe_id].probe if candidate.probe_id in by_id else candidate
        if any(p.probe_id == probe.probe_id for p in probes):
            continue
        probes.append(probe)
        planned = plan_probe(probe, by_id.get(probe.probe_id))
        out.setdefault(planned.direction, []).append(planned)
    return tuple(out[NEWLY_DENIED]), tuple(out[NEWLY_ALLOWED]), tuple(probes)


def _statements(text: str) -> list[Any]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return []
    statements = doc.get("Statement") if isinstance(doc, Mapping) else None
    if isinstance(statements, Mapping):
        return [statements]
    return list(statements) if isinstance(statements, list) else []


def _listed(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(str(v) for v in items[:4]) + (f" (+{len(items) - 4})" if len(items) > 4 else "")


def describe_statement(statement: Any) -> str:
    """`Deny sqs:* on * when aws:PrincipalTag/env StringNotEquals dev (Sid DevOnly)`."""
    if not isinstance(statement, Mapping):
        return "a malformed statement"
    effect = str(statement.get("Effect", "?"))
    actions = statement.get("Action")
    action = _listed(actions) if actions is not None else "all actions except " + _listed(statement.get("NotAction"))
    resources = statement.get("Resource")
    target = _listed(resources) if resources is not None else "all but " + _listed(statement.get("NotResource"))
    conditions = []
    cond = statement.get("Condition")
    if isinstance(cond, Mapping):
        for operator, pairs in cond.items():
            if isinstance(pairs, Mapping):
                for key, value in pairs.items():
                    conditions.append(f"{key} {operator} {_listed(value)}")
    when = f" when {' and '.join(conditions)}" if conditions else ""
    sid = f" (Sid {statement['Sid']})" if statement.get("Sid") else ""
    return f"{effect} {action} on {target}{when}{sid}"


def describe_changes(before: str, after: str) -> tuple[str, ...]:
    """Statements the new document adds and removes, in words (unchanged statements are not listed)."""
    old = _statements(before)
    new = _statements(after)

    def key(statement: Any) -> str:
        return json.dumps(statement, sort_keys=True)

    old_keys = {key(s) for s in old}
    new_keys = {key(s) for s in new}
    lines = [f"removes {describe_statement(s)}" for s in old if key(s) not in new_keys]
    lines += [f"adds {describe_statement(s)}" for s in new if key(s) not in old_keys]
    if not new and after.strip() and not lines:
        lines.append("the new document cannot be read as a policy")
    return tuple(lines)
