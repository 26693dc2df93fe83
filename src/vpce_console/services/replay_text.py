"""Replay in words: the plan step's one line, the editor's Observed tab and its personas from evidence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def observed_line(doc: Mapping[str, Any], days: int = 7) -> str:
    """The one sentence the rollout plan shows: what this draft would have denied of the last days' calls."""
    denied = doc["newly_denied"]
    undetermined = sum(g["calls"] for g in doc["undetermined"])
    line = (
        f"this draft would have denied {denied['calls']} call(s) from {len(denied['accounts'])} account(s) "
        f"in the last {days} days"
    )
    if undetermined:
        line += f" ({undetermined} more undetermined)"
    return line


def observed_text(doc: Mapping[str, Any], days: int = 7, probes: Mapping[str, str] | None = None) -> str:
    """The editor's Observed tab: the flips heaviest first, with counts, then what stays open and the sanity."""
    out = [observed_line(doc, days) + f" — {doc['records']} call(s) replayed", ""]
    for title, key in (("Newly denied (AWS allowed)", "newly_denied"), ("Newly allowed (AWS denied)", "newly_allowed")):
        group = doc[key]
        out.append(f"{title}: {group['calls']} call(s) in {group['shapes']} shape(s)")
        for ex in group["examples"][:8]:
            out.append(f"  {ex['calls']:>6}  {ex['principal']}  {ex['action']}  {ex['vpc']}")
    for g in doc["undetermined"]:
        out.append(f"Undetermined on {', '.join(g['depends_on']) or '?'}: {g['calls']} call(s)")
    sanity = doc["sanity"]
    figure = "n/a" if sanity["agreement"] is None else f"{sanity['agreement'] * 100:.2f} %"
    out.append(f"Sanity: the versions in force reproduce AWS's decisions for {figure} of calls")
    out.extend(["", *persona_lines(doc, probes or {})])
    return "\n".join(out)


def persona_lines(doc: Mapping[str, Any], probes: Mapping[str, str], limit: int = 8) -> list[str]:
    """Personas from evidence: the heaviest observed callers, with their counts and what the draft does to them.

    `probes` maps a role ARN (or `account/vpc` for a caller AWS redacted to its account) to the probe that can
    act as that caller: a configured probe role, or a workload whose keys this machine holds. A redacted caller is
    an account-level persona, and said so.
    """
    callers = list(doc.get("callers", ()))[:limit]
    if not callers:
        return []
    out = [f"Observed personas (heaviest {len(callers)} callers of the week, from the trail):"]
    for c in callers:
        redacted = f"account {c['account']} (account-level: AWS redacted the ARN)"
        who = redacted if c["redacted"] else str(c["principal"])
        actions = ", ".join(a["action"].split(":", 1)[-1] for a in c["actions"][:3])
        verdict = []
        if c.get("draft_denies"):
            verdict.append(f"draft denies {c['draft_denies']}")
        if c.get("draft_undetermined"):
            verdict.append(f"{c['draft_undetermined']} undetermined")
        line = f"  observed {c['calls']:>6}  {who}  {c['vpc']}  {actions}"
        if verdict:
            line += f"  [{', '.join(verdict)}]"
        probe = probes.get(str(c["principal"]) if c["principal"] else f"{c['account']}/{c['vpc']}")
        if probe:
            line += f"  · probe: {probe}"
        out.append(line)
    return out
