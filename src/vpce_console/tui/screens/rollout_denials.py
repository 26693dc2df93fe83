"""Live denials after a rollout's write, grouped by what explains them, and the lines that show them.

A denial since the write is predicted by the replay, caused by the watch's own probes, the replaced document's
while the change propagated, or a surprise: only the surprises are worth a rollback, so they are counted apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text

from vpce_console.tui.models import DenialRow, EndpointRow
from vpce_console.tui.render import colour

if TYPE_CHECKING:
    from vpce_console.policy.personas import Persona
    from vpce_console.services.plan import RolloutPlan

DENIAL_SLACK_SECONDS = 2.0
"""Event times are whole seconds: a denial stamped in the second of the write counts as after it."""
LIVE_DENIALS_KEPT = 2000

OldDocumentKey = tuple[str, str, str, str]
"""One live denial's call (account, principal, action, source ip): the unit the old-document check is cached by."""
DenialGroups = tuple[list[DenialRow], list[DenialRow], list[DenialRow], list[DenialRow]]
"""(predicted by the replay, the watch's own probes, the replaced document's while propagating, unpredicted)."""


def denials_since(rows: Sequence[DenialRow], endpoint_id: str, written_at: float) -> list[DenialRow]:
    """This endpoint's denials made after the write (with a second of slack for whole-second event times)."""
    since = written_at - DENIAL_SLACK_SECONDS
    return [r for r in rows if r.endpoint_id == endpoint_id and r.at >= since]


def probe_calls(
    plan: RolloutPlan | None,
    personas: Sequence[Persona],
    roles: Callable[[], Mapping[str, str]] | None,
    *,
    allowed_after: bool = False,
) -> list[dict[str, Any]]:
    """The watch's own probes (`{account, principal, action}`) the plan expects denied — no surprise — or, with
    `allowed_after`, those it expects allowed, which the replaced document denies until the change is in force."""
    if plan is None:
        return []
    known = {p.name: (p.account_id, p.role_arn) for p in personas}
    for name, arn in (roles() if roles is not None else {}).items():
        known[name] = (arn.split(":")[4] if arn.count(":") >= 5 else "", arn)
    out: list[dict[str, Any]] = []
    for probe in plan.probes_allowed if allowed_after else plan.probes_denied:
        account, arn = known.get(probe.who, ("", ""))
        principal = arn if arn.startswith("arn:") else None
        out.append({"account": account or None, "principal": principal, "action": probe.action})
    return out


def old_document_flags(
    rows: Sequence[DenialRow], cache: dict[OldDocumentKey, bool], draft: str, endpoint: EndpointRow
) -> list[bool]:
    """Per denial: the draft certainly allows the call, so the replaced document denied it while the change
    propagated (cached per call in `cache`: the tail keeps adding rows while the screen redraws)."""
    from vpce_console.services.replay_live import old_document_denials

    keys = [(d.account_id, d.principal, d.action, str((d.raw or {}).get("source_ip") or "")) for d in rows]
    missing = [k for k in dict.fromkeys(keys) if k not in cache]
    if missing:
        answers = old_document_denials(
            [{"account": a, "principal": p, "action": act, "source_ip": ip or None} for a, p, act, ip in missing],
            draft,
            endpoint_id=endpoint.endpoint_id,
            endpoint_vpc=endpoint.vpc_id,
        )
        cache.update(zip(missing, answers, strict=True))
    return [cache[k] for k in keys]


def group_denials(
    rows: Sequence[DenialRow],
    replay_doc: Mapping[str, Any] | None,
    probes: Sequence[Mapping[str, Any]],
    old: Sequence[bool],
    loosened: Sequence[Mapping[str, Any]] = (),
) -> DenialGroups:
    """Sort live denials by what explains them first: the replay, then the probes, then the replaced document
    (`services.replay_live.sort_live_denials`, as `vpce rollout` sorts them)."""
    from vpce_console.services.replay_live import sort_live_denials

    shapes = [{"account": d.account_id, "principal": d.principal, "action": d.action} for d in rows]
    row_of = {id(s): d for s, d in zip(shapes, rows, strict=True)}
    predicted = list((replay_doc or {}).get("predicted_denials", ()))
    live = sort_live_denials(shapes, predicted, probes, old, loosened)
    return (
        [row_of[id(s)] for s in live.predicted],
        [row_of[id(s)] for s in live.probes],
        [row_of[id(s)] for s in live.old_document],
        [row_of[id(s)] for s in live.unpredicted],
    )


def live_text(
    rows: Sequence[DenialRow], groups: DenialGroups | None, *, read_only: bool, variables: Mapping[str, str]
) -> Text:
    """Live denials since the write against the prediction (`groups` None: no replay ran); surprises first."""
    text = Text()
    if groups is None:
        text.append(f"Denials since the write: {len(rows)} (no replay ran: nothing to compare them with)\n")
        return text
    by_replay, by_probe, by_old, surprises = groups
    text.append(
        f"Denials since the write: {len(rows)} — {len(by_replay)} predicted by the replay, "
        f"{len(by_probe)} covered by the plan's probes, "
        + (f"{len(by_old)} by the replaced document while the change propagated, " if by_old else "")
        + f"{len(surprises)} unpredicted",
        style="bold",
    )
    if not surprises:
        text.append("\n")
        return text
    text.append("\n")
    text.append(
        f"⚠ {len(surprises)} unpredicted denial(s) — the surprises worth a rollback{'' if read_only else ' (b)'}:\n",
        style=f"bold {colour(variables, 'finding-error')}",
    )
    counts: dict[tuple[str, str, str], int] = {}
    for d in surprises:
        key = (d.account_id, d.principal, d.action)
        counts[key] = counts.get(key, 0) + 1
    for (account, principal, action), n in sorted(counts.items(), key=lambda kv: -kv[1])[:4]:
        who = principal.split(":", 5)[-1] if principal.startswith("arn:") else principal  # the account is shown
        text.append(f"  {n:>3} × {action}  {who}  ({account})\n")
    return text
