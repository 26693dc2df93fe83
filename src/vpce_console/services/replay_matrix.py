"""Personas from evidence in the impact matrix: the heaviest observed callers evaluated on the matrix's columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vpce_console.policy.partial import compile_partial
from vpce_console.policy.record import IAM_PREFIX, ContextMap, record_request
from vpce_console.services.replay_model import Shape


@dataclass(frozen=True, slots=True)
class ObservedCell:
    """One observed caller × one matrix column under the deployed document and the draft (three-valued)."""

    before: bool | None
    after: bool | None
    depends_on: tuple[str, ...]
    """The unknown keys an undetermined `after` hinges on."""

    @property
    def changed(self) -> bool:
        """Known on both sides and different."""
        return self.before is not None and self.after is not None and self.before != self.after


def observed_matrix(
    callers: Sequence[Mapping[str, Any]],
    deployed: str,
    draft: str,
    columns: Sequence[tuple[str, str]],
    *,
    endpoint_id: str,
    endpoint_vpc: str | None,
    facts: ContextMap,
    limit: int = 5,
) -> list[tuple[Mapping[str, Any], list[ObservedCell]]]:
    """The heaviest observed callers as matrix rows: each (action, resource) column evaluated as that caller's call
    would be, from what its trail records show; what they do not show stays unknown (pure)."""
    reverse = {v: k for k, v in IAM_PREFIX.items()}
    before_policy, after_policy = compile_partial(deployed), compile_partial(draft)
    rows: list[tuple[Mapping[str, Any], list[ObservedCell]]] = []
    for caller in callers[:limit]:
        principal = caller.get("principal")
        role = principal is not None and ":role/" in str(principal)
        cells: list[ObservedCell] = []
        for action, resource in columns:
            prefix, _, name = action.partition(":")
            session = f"{str(principal).replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/observed"
            shape = Shape(
                ("AssumedRole" if role else "IAMUser") if principal else "AWSAccount",
                (session if role else str(principal)) if principal else None,
                str(caller["account"]),
                str(principal) if role else None,
                f"{reverse.get(prefix, prefix)}.amazonaws.com",
                name,
                caller.get("source_ip"),
                None,
                None,
                False,
                0,
                int(caller.get("calls", 0)),
                "",
                "",
            )
            record = shape.record(endpoint_id)
            if resource != "*":
                record["resources"] = [{"ARN": resource}]
            request = record_request(record, endpoint_vpc=endpoint_vpc, facts=facts)
            before, after = before_policy.evaluate(request), after_policy.evaluate(request)
            keys = tuple(sorted(after.allow_depends_on or after.depends_on)) if after.allowed is None else ()
            cells.append(ObservedCell(before.allowed, after.allowed, keys))
        rows.append((caller, cells))
    return rows
