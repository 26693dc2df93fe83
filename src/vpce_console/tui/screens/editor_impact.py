"""The policy editor's Impact tab: which personas the matrix evaluates, the evaluation, and the table drawn from it.

Personas come from the inventory (and, once the Observed tab replayed the trail, the heaviest real callers as
personas from evidence); the screen runs the evaluation in a thread worker and hands the result here to draw.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import DataTable

from vpce_console.tui.models import EndpointRow, Snapshot
from vpce_console.tui.render import colour, decision_text

if TYPE_CHECKING:
    from vpce_console.policy.impact_matrix import ImpactResult
    from vpce_console.policy.personas import HubEndpoint, Persona
    from vpce_console.policy.record import ContextMap
    from vpce_console.services.replay_matrix import ObservedCell

ObservedRow = tuple[Mapping[str, Any], list["ObservedCell"]]
"""One observed caller (from the replay) and its cells on the matrix's columns."""

MAX_IMPACT_ACTIONS = 6
MAX_IMPACT_RESOURCES = 2


def impact_plan(
    endpoint: EndpointRow, snapshot: Snapshot, deployed: str, draft: str
) -> tuple[Sequence[Persona], list[str], list[str], HubEndpoint] | None:
    """Personas, actions, resources and hub for the matrix: what the policies name for this service, else defaults."""
    from vpce_console.policy.impact_matrix import DEFAULT_ACTIONS, named_in_policies

    if not snapshot.personas or snapshot.hub is None:
        return None
    prefix = endpoint.service.split(".")[0] + ":"
    named = [a for a in named_in_policies((deployed, draft), "Action") if a.lower().startswith(prefix)]
    defaults = [a for a in DEFAULT_ACTIONS if a.startswith(prefix)]
    actions = (named or defaults or [f"{prefix}ListQueues" if prefix == "sqs:" else f"{prefix}Describe"])[
        :MAX_IMPACT_ACTIONS
    ]
    resources = list(named_in_policies((deployed, draft), "Resource"))[:MAX_IMPACT_RESOURCES] or ["*"]
    hub = dataclasses.replace(
        snapshot.hub, endpoint_id=endpoint.endpoint_id, vpc_id=endpoint.vpc_id or snapshot.hub.vpc_id
    )
    return snapshot.personas, actions, resources, hub


def evaluate_impact(
    endpoint: EndpointRow, snapshot: Snapshot, deployed: str, draft: str
) -> tuple[ImpactResult | None, str]:
    """Every persona × action under both documents (CPU work: call it off the event loop); (None, why) if not."""
    from vpce_console.policy.impact_matrix import impact
    from vpce_console.services.personas import change_impact

    pset = snapshot.persona_set
    plan = impact_plan(endpoint, snapshot, deployed, draft)
    if plan is None and pset is None:
        return None, "no personas known: impact cannot be shown"
    try:
        if pset is not None:  # the CLI's selection and NAT-path rule, so both count the same cells
            return (
                change_impact(
                    pset,
                    endpoint.service,
                    deployed,
                    draft,
                    endpoint_id=endpoint.endpoint_id,
                    vpc_id=endpoint.vpc_id or None,
                ),
                "",
            )
        assert plan is not None
        return impact(deployed, draft, *plan), ""
    except ValueError as exc:
        return None, f"draft cannot be evaluated yet: {exc}"


def observed_rows(
    callers: Sequence[Mapping[str, Any]],
    result: ImpactResult,
    deployed: str,
    draft: str,
    endpoint: EndpointRow,
    facts: Callable[[], ContextMap] | None,
) -> list[ObservedRow]:
    """The heaviest observed callers (from the Observed tab's replay) evaluated on the matrix's columns."""
    from vpce_console.services.replay_matrix import observed_matrix

    if not callers or facts is None:
        return []
    columns = list(dict.fromkeys((cell.action, cell.resource) for cell in result.cells))
    try:
        return observed_matrix(
            callers,
            deployed,
            draft,
            columns,
            endpoint_id=endpoint.endpoint_id,
            endpoint_vpc=endpoint.vpc_id or None,
            facts=facts(),
        )
    except ValueError:
        return []


def fill_impact_table(
    table: DataTable[object],
    result: ImpactResult | None,
    note: str,
    observed: Sequence[ObservedRow],
    variables: Mapping[str, str],
) -> int | None:
    """Draw the matrix: one row per persona, one column per action; changed cells say so in words.

    Returns how many cells change (None when there is no result: `note` says why).
    """
    table.clear(columns=True)
    if result is None:
        table.add_column("Impact")
        table.add_row(note)
        return None
    cells = list(result.cells)
    columns = list(dict.fromkeys((cell.action, cell.resource) for cell in cells))
    personas = list(dict.fromkeys(cell.persona.name for cell in cells))
    table.add_column("Persona")
    multi = len({resource for _, resource in columns}) > 1
    for action, resource in columns:
        table.add_column(f"{action} {resource.rsplit(':', 1)[-1]}" if multi else action)
    by_key = {(cell.persona.name, cell.action, cell.resource): cell for cell in cells}
    for name in personas:
        row: list[object] = [name]
        for action, resource in columns:
            cell = by_key.get((name, action, resource))
            if cell is None:
                row.append("")
                continue
            if not cell.through_endpoint:
                row.append(Text("not through the endpoint", style="dim"))
            elif cell.changed:
                before = "✓" if cell.before.allowed else "✗"
                after_word = "NOW ALLOWED" if cell.after.allowed else "NOW DENIED"
                row.append(
                    Text(
                        f"{before}→{'✓' if cell.after.allowed else '✗'} {after_word}",
                        style=f"bold {colour(variables, 'decision-changed')}",
                    )
                )
            else:
                row.append(decision_text(cell.after.kind, variables))
        table.add_row(*row)
    for caller, observed_cells in observed:
        table.add_row(observed_label(caller), *(observed_text_cell(c, variables) for c in observed_cells))
    return sum(1 for cell in cells if cell.changed)


def observed_label(caller: Mapping[str, Any]) -> Text:
    """`◆ observed tools ×121` — a persona from evidence, never confused with an imagined one."""
    if caller.get("redacted"):
        who = f"acct {caller['account']} (account-level)"
    else:
        who = str(caller["principal"]).rsplit("/", 1)[-1]
    return Text(f"◆ observed {who} ×{caller['calls']}", style="italic")


def observed_text_cell(cell: ObservedCell, variables: Mapping[str, str]) -> Text:
    """A three-valued cell: changed in words, undetermined with the keys it hinges on."""
    if cell.after is None:
        keys = ", ".join(cell.depends_on) or "?"
        return Text(f"? undetermined ({keys})", style=colour(variables, "finding-warning"))
    if cell.changed:
        after_word = "NOW ALLOWED" if cell.after else "NOW DENIED"
        before = "✓" if cell.before else "✗"
        return Text(
            f"{before}→{'✓' if cell.after else '✗'} {after_word}",
            style=f"bold {colour(variables, 'decision-changed')}",
        )
    if cell.after:
        return decision_text("allow", variables)
    return Text("✗ deny", style=colour(variables, "decision-deny"))
