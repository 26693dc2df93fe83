"""The services' results as the console's view rows: endpoints, matrix cells, doctor, cost, denials, changes, trail.

Pure translation (no I/O, no clock): the backend adapter calls these after each service answer, and the snapshot
recorder and benchmarks call them on recorded data, so every pane sees rows built one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from vpce_console.services.inventory import LintSummary, is_default_policy
from vpce_console.tui.models import (
    ChangeRow,
    CostRow,
    DenialRow,
    DoctorRow,
    EndpointRow,
    FindingCounts,
    Snapshot,
    SpokeRow,
    SubscriberCell,
    TrailUsage,
    Usage,
)

if TYPE_CHECKING:
    from vpce_console.config import Config
    from vpce_console.services.classify import Denial
    from vpce_console.services.cost import CostReport, ServiceCost
    from vpce_console.services.doctor_findings import DoctorFinding
    from vpce_console.services.inventory import Endpoint, HostedZone, Inventory
    from vpce_console.services.journal import JournalEntry
    from vpce_console.services.personas import PersonaSet
    from vpce_console.services.trail_model import Answer


def epoch(text: str | None) -> float:
    """An ISO time (`…Z` allowed) as epoch seconds; 0 when absent or unreadable (sorts last, shows as unknown)."""
    if not text:
        return 0.0
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def endpoint_row(e: Endpoint, lint: LintSummary, zones: Sequence[HostedZone], subscribers: int) -> EndpointRow:
    """One inventory endpoint as the Endpoints pane's row, with its details lines."""
    details: list[tuple[str, str]] = []
    for eni in e.enis:
        details.append(("ENI", f"{eni.eni_id} {eni.availability_zone or '?'} {eni.private_ip or '?'}"))
    for name in e.dns_names:
        details.append(("DNS", name))
    for group in e.security_groups:
        cidrs = ", ".join(group.https_cidrs) or "none"
        details.append(("SG rule", f"{group.group_id} ({group.name}) 443 from {cidrs}"))
    for zone in zones:
        count = len(zone.vpcs)
        details.append(("Hosted zone", f"{zone.zone_id} {zone.name} ({count} {'VPC' if count == 1 else 'VPCs'})"))
    if lint.codes:
        details.append(("Lint", ", ".join(lint.codes)))
    value = e.bytes_processed
    return EndpointRow(
        endpoint_id=e.endpoint_id,
        service=e.service,
        service_name=e.service_name,
        state=e.state,
        vpc_id=e.vpc_id,
        azs=tuple(e.availability_zones),
        security_groups=tuple(g.group_id for g in e.security_groups),
        private_dns=bool(e.private_dns_enabled),
        policy_text=e.policy_text,
        policy_custom=not is_default_policy(e.policy_text),
        findings=FindingCounts(lint.errors, lint.warnings, lint.infos),
        subscribers=subscribers,
        bytes_24h=tuple(e.bytes_hourly),
        bytes_total=None if value is None else float(value),
        account_id=e.account_id,
        details=tuple(details),
    )


def doctor_row(finding: DoctorFinding) -> DoctorRow:
    """A doctor finding as the doctor pane shows it, with the catalog's consequence as the explanation."""
    from vpce_console.services.doctor import catalog

    entry = catalog().get(finding.code)
    return DoctorRow(
        code=finding.code,
        severity=finding.severity,
        message=finding.message,
        hint=finding.hint,
        explanation=entry.consequence if entry is not None else "",
        vpc_id=finding.vpc_id,
        service=finding.service,
        endpoint_id=finding.endpoint_id,
        account_id=finding.account_id,
        vpc_name=finding.vpc_name,
        fix_commands=tuple(c.line for c in finding.fix_commands),
    )


def cost_row(row: ServiceCost) -> CostRow:
    """One service's cost comparison as the cost pane shows it."""
    return CostRow(
        service=row.service,
        spokes=row.subscribers,
        gb_month=row.gb_month,
        hub_monthly=row.centralized.total,
        per_vpc_monthly=row.per_vpc.total,
        nat_monthly=row.nat.total,
        break_even_gb=row.break_even_gb_per_spoke,
        verdict=row.verdict,
        gb_per_spoke=row.gb_per_spoke,
        verdict_note=row.verdict_note,
    )


def build_snapshot(
    inventory: Inventory,
    config: Config,
    doctor: Sequence[DoctorFinding],
    cost: CostReport | None,
    persona_set: PersonaSet | None,
) -> Snapshot:
    """The services' results as the console's view models (one snapshot per load)."""
    from vpce_console.services.subscribers import subscriber_states

    endpoints = []
    for e in inventory.endpoints:
        lint = inventory.lint.get(e.endpoint_id, LintSummary())
        zones = inventory.zones_for(e.service)
        row = endpoint_row(e, lint, zones, len(inventory.subscriber_vpc_ids(e.service)))
        carriers = [
            p
            for p in inventory.profiles
            if e.endpoint_id in p.endpoint_ids or set(p.zone_ids) & {z.zone_id for z in zones}
        ]
        if carriers:
            extra = tuple(
                (
                    "Route 53 Profile",
                    f"{p.label} owned by {p.owner_id}: "
                    f"{'endpoint private DNS' if e.endpoint_id in p.endpoint_ids else 'zone'}, "
                    f"{len(inventory.profile_vpcs(p.profile_id))} VPCs",
                )
                for p in carriers
            )
            row = replace(row, details=row.details + extra)
        endpoints.append(row)
    env_tag = config.environment_tag
    spokes = tuple(
        SpokeRow(s.account_id, s.vpc_id, s.name or s.vpc_id, s.tags.get(env_tag, "-")) for s in inventory.spokes
    )
    services = tuple(sorted({e.service for e in inventory.endpoints}))
    states = subscriber_states(inventory, config, doctor, services)
    cells = tuple(SubscriberCell(s.vpc_id, s.service, s.status.value, s.codes, s.path, s.profile) for s in states)
    unknown = {s.vpc_id: SpokeRow("?", s.vpc_id, "(unknown VPC)", "?") for s in states if not s.known}
    return Snapshot(
        endpoints=tuple(endpoints),
        spokes=spokes + tuple(unknown.values()),
        services=services,
        cells=cells,
        doctor=tuple(doctor_row(f) for f in doctor),
        cost=tuple(cost_row(r) for r in (cost.services if cost is not None else ())),
        hub=persona_set.hub if persona_set is not None else None,
        personas=persona_set.personas if persona_set is not None else (),
        persona_set=persona_set,
    )


def partial_snapshot(endpoints: Iterable[Endpoint]) -> Snapshot:
    """Endpoint rows only, before zones, spokes and lint are known (the pane shows those cells as unknown)."""
    return Snapshot(endpoints=tuple(endpoint_row(e, LintSummary(), (), 0) for e in endpoints))


def change_row(entry: JournalEntry) -> ChangeRow:
    """A journal entry as the history pane and the rollout screen show it."""
    return ChangeRow(
        journal_id=entry.journal_id,
        kind=entry.kind,
        endpoint_id=entry.endpoint_id,
        started_at=entry.started_at,
        outcome=entry.outcome or "unfinished",
        before_version=entry.before_sha256[:12],
        after_version=entry.after_sha256[:12],
        after_sha256=entry.after_sha256,
        written=entry.written_at is not None,
        rollback_of=entry.rollback_of,
        caller=str(entry.caller.get("arn", "")) if hasattr(entry.caller, "get") else "",
        before_text=entry.before_text,
    )


def denial_row(denial: Denial) -> DenialRow:
    """A live tail denial as the Denials pane shows it."""
    return DenialRow(
        at=epoch(denial.event_time),
        endpoint_id=denial.endpoint_id or "-",
        service=denial.service,
        account_id=denial.account_id or "-",
        principal=denial.principal or "(redacted)",
        action=f"{denial.service}:{denial.event_name}",
        reason=denial.reason,
        policy_version=denial.policy_version or "",
        message=denial.error_message,
        raw=denial.to_row(),
    )


def history_rows(answer: Answer, service_of: dict[str, str]) -> tuple[DenialRow, ...]:
    """The trail's denials grouped by account × principal × action (the Denials pane's backfill), newest first."""
    rows = []
    for row in answer.rows:
        account, principal, source, action = row.key
        service = service_of.get(row.endpoint_id) or source.split(".")[0]
        rows.append(
            DenialRow(
                at=epoch(row.last_seen),
                endpoint_id=row.endpoint_id,
                service=service,
                account_id=account or "-",
                principal=principal or "(redacted)",
                action=f"{source.split('.')[0]}:{action}",
                reason="VpceAccessDenied",
                message=f"{row.denials} denial(s) from {row.first_seen} to {row.last_seen} (org trail)",
                raw={
                    "history": True,
                    "endpoint_id": row.endpoint_id,
                    "account_id": account,
                    "principal": principal,
                    "event_source": source,
                    "event_name": action,
                    "denials": row.denials,
                    "first_seen": row.first_seen,
                    "last_seen": row.last_seen,
                },
                count=row.denials,
                history=True,
            )
        )
    rows.sort(key=lambda r: -r.at)
    return tuple(rows)


def trail_usage(answer: Answer, window: str, inventory: Inventory | None) -> TrailUsage:
    """Calls and denials per endpoint, and per spoke × service where the source IP maps to a known VPC."""
    from vpce_console.services.trail import IpMap, map_vpcs, networks_from_inventory

    endpoints: dict[str, Usage] = {}
    for row in answer.rows:
        old = endpoints.get(row.endpoint_id, Usage(0, 0))
        endpoints[row.endpoint_id] = Usage(
            old.calls + row.calls, old.denials + row.denials, max(old.last_seen, row.last_seen)
        )
    cells: dict[tuple[str, str], Usage] = {}
    if inventory is not None:
        service_of = {e.endpoint_id: e.service for e in inventory.endpoints}
        for row in map_vpcs(answer.rows, IpMap(networks_from_inventory(inventory))):
            service = service_of.get(row.endpoint_id)
            if service is None or row.detail.get("account_id") == "unknown":
                continue  # another account's endpoint, or an IP outside every known CIDR (`vpce usage` names it)
            key = (row.key[0], service)
            old = cells.get(key, Usage(0, 0))
            cells[key] = Usage(old.calls + row.calls, old.denials + row.denials, max(old.last_seen, row.last_seen))
    return TrailUsage(
        "ok",
        window,
        since=answer.question.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        endpoints=endpoints,
        cells=cells,
        records=answer.records_in_window,
        skipped=skip_lines(answer),
        note=answer_note(answer),
    )


def skip_lines(answer: Answer) -> tuple[str, ...]:
    """What an answer left out, in the CLI's words (`skipped 3 objects: truncated or corrupt gzip`)."""
    return tuple(f"skipped {s.count} {s.what}: {s.reason}" for s in answer.skipped)


def answer_note(answer: Answer) -> str:
    """The engine's summary line: records read, the sync or the Athena scan."""
    sync = answer.sync
    how = (
        f"synced {sync.downloaded} of {sync.listed} objects in {sync.seconds:.1f} s"
        if sync is not None
        else f"athena {(answer.scanned_bytes or 0) / 1e6:.1f} MB scanned, ~${answer.athena_cost_usd or 0.0:.6f}"
    )
    since = f"{answer.question.since:%Y-%m-%d %H:%M}"
    return f"{answer.records_in_window:,} records since {since} UTC ({answer.engine}, {how})"
