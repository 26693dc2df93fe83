"""After the write: live endpoint denials against what the replay and the plan predicted.

A denial is predicted by the replay (a call the draft denies or leaves undetermined), covered by the plan's own
probes, the replaced document's while the change propagated (the draft certainly allows the call), or
unpredicted — the surprises worth a rollback. The console's rollout screen and `vpce rollout` sort them alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpce_console.policy.partial import compile_partial
from vpce_console.policy.record import IAM_PREFIX, ContextMap, record_request
from vpce_console.services.replay_model import principal_key

if TYPE_CHECKING:
    from vpce_console.services.probes import Probe
    from vpce_console.services.rollout_events import LiveDenialsCompared, Surprise


def _redacted(principal: str | None) -> bool:
    return not principal or principal in ("-", "(redacted)") or principal.startswith("(redacted")


def unpredicted(
    denials: Sequence[Mapping[str, Any]],
    predicted: Sequence[Mapping[str, Any]],
) -> list[Mapping[str, Any]]:
    """The live denials no prediction covers: the surprises worth a rollback (pure).

    A denial is `{account, principal, action}`; a prediction is `{account, principal, action}` where a None
    account (a plan probe of unknown account) or a None principal (a redacted caller) covers the whole account
    or every account. A denial whose principal AWS redacted is covered by any prediction of its account and action.
    """
    exact: set[tuple[str, str, str]] = set()
    per_account: set[tuple[str, str]] = set()
    any_account: set[str] = set()
    for p in predicted:
        action = str(p.get("action") or "")
        account = p.get("account")
        if account is None:
            any_account.add(action)
        elif _redacted(p.get("principal")):
            per_account.add((str(account), action))
        else:
            exact.add((str(account), principal_key(str(p["principal"])), action))
    seen_accounts = {(a, act) for a, _, act in exact} | per_account
    out: list[Mapping[str, Any]] = []
    for d in denials:
        account, action = str(d.get("account") or ""), str(d.get("action") or "")
        if action in any_account or (account, action) in per_account:
            continue
        principal = d.get("principal")
        if _redacted(principal):
            if (account, action) in seen_accounts:
                continue
        elif (account, principal_key(str(principal)), action) in exact:
            continue
        out.append(d)
    return out


def old_document_denials(
    denials: Sequence[Mapping[str, Any]],
    draft: str,
    *,
    endpoint_id: str,
    endpoint_vpc: str | None = None,
    facts: ContextMap | None = None,
) -> list[bool]:
    """For each live denial (`{account, principal, action, source_ip}`): True when the draft certainly allows that
    call, so the document the write replaced denied it while the change propagated — not a surprise of the draft.

    What a denial does not show (a redacted principal's tags, the resource) stays unknown: an undetermined answer
    is False, so a denial is only moved out of the surprises when the draft allows it whatever the unknowns are.
    """
    from vpce_console.policy.evaluator import PolicyError

    try:
        policy = compile_partial(draft)
    except PolicyError:
        return [False] * len(denials)
    reverse = {v: k for k, v in IAM_PREFIX.items()}
    out: list[bool] = []
    for denial in denials:
        principal = str(denial.get("principal") or "")
        account = str(denial.get("account") or "")
        prefix, _, name = str(denial.get("action") or "").partition(":")
        if not name:
            out.append(False)
            continue
        identity: dict[str, Any] = {"type": "AWSAccount", "accountId": account}
        if principal.startswith("arn:") and ":assumed-role/" in principal:
            role = principal.split(":assumed-role/", 1)[1].split("/", 1)[0]
            issuer = f"arn:aws:iam::{principal.split(':')[4]}:role/{role}"
            identity = {
                "type": "AssumedRole",
                "accountId": account,
                "arn": principal,
                "sessionContext": {"sessionIssuer": {"arn": issuer}},
            }
        elif principal.startswith("arn:") and ":user/" in principal:
            identity = {"type": "IAMUser", "accountId": account, "arn": principal}
        record = {
            "userIdentity": identity,
            "eventSource": f"{reverse.get(prefix, prefix)}.amazonaws.com",
            "eventName": name,
            "sourceIPAddress": denial.get("source_ip"),
            "vpcEndpointId": endpoint_id,
        }
        decision = policy.evaluate(record_request(record, endpoint_vpc=endpoint_vpc, facts=facts))
        out.append(decision.kind == "allow")
    return out


def probe_calls(probes: Sequence[Probe], *, allowed_after: bool = False) -> list[dict[str, Any]]:
    """The watch's own calls (`{account, principal, action}`): by default those the new document denies (no
    surprise when denied); with `allowed_after`, those it allows, which the replaced document denies until the
    change is in force."""
    out: list[dict[str, Any]] = []
    for probe in probes:
        if (probe.after == "allow") != allowed_after:
            continue
        identity = probe.identity
        arn = identity.role_arn or identity.persona.role_arn
        principal = arn if arn and arn.startswith("arn:") else None
        out.append({"account": identity.persona.account_id or None, "principal": principal, "action": probe.action})
    return out


@dataclass(frozen=True, slots=True)
class LiveDenials:
    """Live denials since a write, sorted by what explains them (each a `{account, principal, action, …}`)."""

    predicted: tuple[Mapping[str, Any], ...]
    """Calls the replay said the draft denies or leaves undetermined."""
    probes: tuple[Mapping[str, Any], ...]
    """The watch's own probe calls that the plan expects denied."""
    old_document: tuple[Mapping[str, Any], ...]
    """Calls the draft certainly allows: the replaced document denied them while the change propagated."""
    unpredicted: tuple[Mapping[str, Any], ...]
    """Nothing explains them: the surprises worth a rollback."""

    @property
    def total(self) -> int:
        """Every denial sorted."""
        return len(self.predicted) + len(self.probes) + len(self.old_document) + len(self.unpredicted)

    def surprises(self, limit: int = 20) -> list[Surprise]:
        """The unpredicted denials grouped by (account, principal, action), most frequent first."""
        from vpce_console.services.rollout_events import Surprise

        counts: dict[tuple[str, str, str], int] = {}
        for d in self.unpredicted:
            key = (str(d.get("account") or ""), str(d.get("principal") or ""), str(d.get("action") or ""))
            counts[key] = counts.get(key, 0) + 1
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [Surprise(account=a, principal=p or None, action=act, calls=n) for (a, p, act), n in ordered]

    def event(self) -> LiveDenialsCompared:
        """The `live_denials` event of `vpce rollout`."""
        from vpce_console.services.rollout_events import LiveDenialsCompared

        return LiveDenialsCompared(
            compared=True,
            denials=self.total,
            predicted=len(self.predicted),
            probes=len(self.probes),
            old_document=len(self.old_document),
            unpredicted=len(self.unpredicted),
            surprises=tuple(self.surprises()),
        )


def sort_live_denials(
    denials: Sequence[Mapping[str, Any]],
    predicted: Sequence[Mapping[str, Any]],
    probes: Sequence[Mapping[str, Any]],
    old_document: Sequence[bool],
    probes_allowed_after: Sequence[Mapping[str, Any]] = (),
) -> LiveDenials:
    """Sort live denials: predicted by the replay, else covered by the plan's probes, else the replaced document's
    while propagating (`old_document`, per denial, from `old_document_denials`, or a call of the watch's own that
    the new document allows: `probes_allowed_after`), else unpredicted (pure).

    A probe of another account is redacted to its account in the hub's trail, so its principal tags are unknown
    and `old_document_denials` cannot clear it; being the watch's own call, it is known to be the old document's.
    """
    not_replayed = {id(d) for d in unpredicted(denials, predicted)}
    not_probed = {id(d) for d in unpredicted(denials, probes)}
    not_loosened = {id(d) for d in unpredicted(denials, probes_allowed_after)}
    by_replay, by_probe, by_old, surprises = [], [], [], []
    for d, was_old in zip(denials, old_document, strict=True):
        if id(d) not in not_replayed:
            by_replay.append(d)
        elif id(d) not in not_probed:
            by_probe.append(d)
        elif was_old or id(d) not in not_loosened:
            by_old.append(d)
        else:
            surprises.append(d)
    return LiveDenials(tuple(by_replay), tuple(by_probe), tuple(by_old), tuple(surprises))


async def endpoint_denials_since(
    gateway: Any, log_groups: Sequence[str], endpoint_id: str, start_ms: int
) -> list[dict[str, Any]]:
    """This endpoint's endpoint-policy denials CloudTrail has delivered to `log_groups` since `start_ms`, once
    each (`{account, principal, action, source_ip, event_id, event_time}`); AwsError when a group cannot be read."""
    import time

    from vpce_console.aws.logs import filter_log_events
    from vpce_console.services.classify import ENDPOINT_REASONS, classify
    from vpce_console.services.tail_follow import denial_filter_pattern, follow_log_groups

    async def fetch(group: str, pattern: str, start: int, token: str | None) -> Any:
        return await filter_log_events(gateway, group, pattern, start, token)

    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    records = follow_log_groups(
        fetch,
        list(log_groups),
        denial_filter_pattern(endpoint_id),
        start_ms=start_ms,
        follow=False,
        clock_ms=lambda: int(time.time() * 1000),
        give_up_after=3,
    )
    async for record in records:
        denial = classify(record)
        if denial is None or denial.endpoint_id != endpoint_id or denial.reason not in ENDPOINT_REASONS:
            continue
        if denial.event_id in seen:
            continue
        seen.add(denial.event_id)
        out.append(
            {
                "account": denial.account_id,
                "principal": denial.principal,
                "action": f"{denial.service}:{denial.event_name}",
                "source_ip": denial.source_ip,
                "event_id": denial.event_id,
                "event_time": denial.event_time,
            }
        )
    return out


DENIAL_SLACK_SECONDS = 2.0
"""Event times are whole seconds: a denial stamped in the second of the write counts as after it."""


async def compare_live_denials(
    gateway: Any,
    log_groups: Sequence[str],
    endpoint_id: str,
    written_at: float | None,
    *,
    draft: str,
    replay: Mapping[str, Any] | None,
    probes: Sequence[Probe],
    endpoint_vpc: str | None = None,
) -> tuple[LiveDenialsCompared, LiveDenials | None]:
    """The endpoint's denials CloudTrail delivered since the write (epoch seconds), sorted against the replay's
    prediction and the plan's probes exactly as the console's rollout screen sorts them; the event says what was
    compared, or why nothing was (no replay, no log groups, a group that cannot be read)."""
    from vpce_console.errors import AwsError
    from vpce_console.services.rollout_events import LiveDenialsCompared

    if replay is None:
        return LiveDenialsCompared(compared=False, reason="no replay ran: nothing to compare live denials with"), None
    if not log_groups:
        return LiveDenialsCompared(compared=False, reason="no tail.log_groups configured: live denials not read"), None
    if written_at is None:
        return LiveDenialsCompared(compared=False, reason="the journal has no write time for this change"), None
    start_ms = int((written_at - DENIAL_SLACK_SECONDS) * 1000)
    try:
        denials = await endpoint_denials_since(gateway, log_groups, endpoint_id, start_ms)
    except AwsError as exc:
        return LiveDenialsCompared(compared=False, reason=f"the log groups could not be read: {exc}"), None
    old = old_document_denials(denials, draft, endpoint_id=endpoint_id, endpoint_vpc=endpoint_vpc)
    predicted = list(replay.get("predicted_denials", ()))
    loosened = probe_calls(probes, allowed_after=True)
    live = sort_live_denials(denials, predicted, probe_calls(probes), old, loosened)
    return live.event(), live


def rollout_exit_code(code: int, live: LiveDenials | None) -> int:
    """A rollout's exit code (`RolloutSummary.exit_code`), except that unpredicted live denials after a change
    that stays written (converged 0, unobserved 3) are problems found (1): the surprises worth a rollback."""
    if live is not None and live.unpredicted and code in (0, 3):
        return 1
    return code
