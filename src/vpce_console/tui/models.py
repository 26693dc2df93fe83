"""What the console renders: small frozen view models the backend adapter fills from the services.

The panes know only these, so a change in a service's result type touches one adapter, not every widget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vpce_console.policy.personas import HubEndpoint, Persona
    from vpce_console.services.personas import PersonaSet
    from vpce_console.services.plan import RolloutPlan


@dataclass(frozen=True, slots=True)
class HeaderInfo:
    """Who and where the console is talking to, for the header badges."""

    account_id: str
    region: str
    caller_arn: str
    """The caller identity ARN (STS GetCallerIdentity)."""
    read_only: bool
    """True unless `--allow-write`: the header shows READ-ONLY, otherwise a loud WRITE badge."""
    is_lab: bool
    """True when talking to the embedded lab (LAB badge)."""
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class FindingCounts:
    """Lint findings of a deployed policy, by severity."""

    errors: int = 0
    warnings: int = 0
    infos: int = 0

    @property
    def total(self) -> int:
        """All findings."""
        return self.errors + self.warnings + self.infos


@dataclass(frozen=True, slots=True)
class EndpointRow:
    """One interface endpoint as the Endpoints pane shows it."""

    endpoint_id: str
    service: str
    """Short service name (`sqs`, `ecr.api`)."""
    service_name: str
    """Full service name (`com.amazonaws.us-east-1.sqs`), used to pick the lint rules."""
    state: str
    vpc_id: str
    azs: tuple[str, ...]
    security_groups: tuple[str, ...]
    private_dns: bool
    policy_text: str | None
    """The deployed policy document verbatim; None when AWS reports none (the default full-access policy)."""
    policy_custom: bool
    """False when the policy is the default full-access document."""
    findings: FindingCounts
    subscribers: int
    bytes_24h: tuple[float, ...] = ()
    """Hourly BytesProcessed for the last 24 h, when the inventory has the series."""
    bytes_total: float | None = None
    """BytesProcessed summed over the last 24 h (None when metrics are unavailable)."""
    account_id: str = ""
    details: tuple[tuple[str, str], ...] = ()
    """Extra (label, value) lines for the details screen: ENIs, DNS entries, SG rules."""
    calls: int | None = None
    """Network activity records through this endpoint over the trail window; None until known (or no trail)."""
    denials: int | None = None
    """Of those, VpceAccessDenied; None until known."""


@dataclass(frozen=True, slots=True)
class SpokeRow:
    """One spoke VPC, a row of the subscribers matrix."""

    account_id: str
    vpc_id: str
    name: str
    environment: str


@dataclass(frozen=True, slots=True)
class SubscriberCell:
    """One (spoke VPC, service) cell of the subscribers matrix."""

    vpc_id: str
    service: str
    status: str
    """`associated`, `missing`, `forbidden`, `stale` or `none` (not expected to subscribe)."""
    findings: tuple[str, ...] = ()
    """Doctor finding codes that concern this cell."""
    path: str = ""
    """How the VPC reaches the service: `direct` (PHZ association), `profile` (Route 53 Profile), `both`, or ""."""
    profile: str = ""
    """The Profile's `name (id)` when the path goes through one."""
    calls: int | None = None
    """Calls from this VPC to the service's hub endpoint(s) over the trail window; None until known (or no trail)."""
    denials: int | None = None
    last_seen: str = ""
    """eventTime of the newest of those calls (ISO, UTC); empty when none."""


@dataclass(frozen=True, slots=True)
class DoctorRow:
    """One doctor finding as the Doctor pane lists it."""

    code: str
    severity: str
    """`error`, `warning` or `info`."""
    message: str
    hint: str = ""
    explanation: str = ""
    vpc_id: str | None = None
    service: str | None = None
    endpoint_id: str | None = None
    account_id: str | None = None
    vpc_name: str | None = None
    """The spoke VPC's Name tag, shown next to its id."""
    fix_commands: tuple[str, ...] = ()
    """AWS CLI calls that fix it, each prefixed with the account that runs it (`[account …, role] aws …`)."""


@dataclass(frozen=True, slots=True)
class CostRow:
    """One service in the cost report: monthly dollars centralized vs per-VPC vs NAT, and the break-even."""

    service: str
    spokes: int
    gb_month: float
    hub_monthly: float
    per_vpc_monthly: float
    nat_monthly: float
    break_even_gb: float | None
    """GB/month per spoke above which per-VPC endpoints are cheaper than the hub; None when never."""
    verdict: str = ""
    """The cheapest design of the row (`centralize`, `per-vpc`, `nat`), or `unused` without subscribers."""
    gb_per_spoke: float = 0.0
    """Average GB/month per subscribing spoke, compared against the break-even."""
    verdict_note: str = ""
    """The verdict in one sentence with the figures (what it costs against the others)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the panes show after one inventory load."""

    endpoints: tuple[EndpointRow, ...] = ()
    spokes: tuple[SpokeRow, ...] = ()
    services: tuple[str, ...] = ()
    cells: tuple[SubscriberCell, ...] = ()
    doctor: tuple[DoctorRow, ...] = ()
    cost: tuple[CostRow, ...] = ()
    hub: HubEndpoint | None = None
    """The hub endpoint the impact matrix evaluates against (None until known)."""
    personas: tuple[Persona, ...] = ()
    """The workloads of the impact matrix."""
    persona_set: PersonaSet | None = None
    """The persona selection (personas, hub, zone associations) the CLI uses too; None until known."""


@dataclass(frozen=True, slots=True)
class DenialRow:
    """One classified denial from the tail."""

    at: float
    """Epoch seconds of the event."""
    endpoint_id: str
    service: str
    account_id: str
    principal: str
    action: str
    reason: str
    """Classification code (e.g. `vpce-implicit-deny`)."""
    policy_version: str = ""
    """Which policy version was live at that time (journal id or hash), when known."""
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """The JSON-ready record for export."""
    count: int = 1
    """How many denials the row stands for (a history row groups the trail's records; a live row is one)."""
    history: bool = False
    """True for a row backfilled from the trail (`at` is the group's newest eventTime), False for the live tail."""


@dataclass(frozen=True, slots=True)
class ProbeView:
    """One probe in the propagation watch."""

    name: str
    expected: str
    """`allow` or `deny` under the new policy."""
    last: str
    """Last observed outcome (`allow`, `deny`, `error`, `-`)."""
    streak: int
    flaps: int


@dataclass(frozen=True, slots=True)
class WatchView:
    """Where a rollout stands: its steps so far, then each round of the propagation watch."""

    status: str
    """`planning`, `refused`, `pending`, `converged`, `flapping`, `timed_out` or `rolled_back`."""
    elapsed: float
    """Seconds since the write was confirmed (0 before it)."""
    probes: tuple[ProbeView, ...] = ()
    evidence: tuple[str, ...] = ()
    """Step log and passive evidence lines (journal, dry run, write, denials seen …), newest last."""
    applied: bool = False
    """True once the new document is written and verified."""
    done: bool = False
    reason: str = ""
    """Why it ended (refusal reason, timeout …)."""
    journal_id: str = ""
    """The journal entry of this change once it is journaled (what `b` rolls back)."""
    plan: RolloutPlan | None = None
    """What changes, who is affected and which probes prove it, once built."""
    stale_lease: str = ""
    """On a refusal by a stale lease (its holder gone or expired): the lease id a typed confirmation may break."""


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One journal entry (an apply or a rollback) as the history pane and the rollout screen show it."""

    journal_id: str
    kind: str
    """`apply` or `rollback`."""
    endpoint_id: str
    started_at: float
    """Epoch seconds the change began."""
    outcome: str
    """`converged`, `timed_out`, `applied`, `rolled_back`, … or `unfinished` (the process died mid-change)."""
    before_version: str
    """First 12 hex digits of the sha256 of the document the change replaced."""
    after_version: str
    """The same for the document it wrote."""
    after_sha256: str
    """Full sha256 of the written document: equal to the deployed one's while this change is in force."""
    written: bool
    """True when the write reached AWS (ModifyVpcEndpoint succeeded)."""
    rollback_of: str | None = None
    """For a rollback: the journal id of the change it undid."""
    caller: str = ""
    before_text: str = ""
    """The document in force before this change: what rolling it back restores."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Calls and denials over the trail window for one endpoint or one (spoke VPC, service) cell."""

    calls: int
    denials: int
    last_seen: str = ""
    """Newest eventTime (ISO, UTC)."""


@dataclass(frozen=True, slots=True)
class TrailUsage:
    """What the organization trail says about the window: per endpoint and per spoke × service, or why not."""

    state: str
    """`ok`, `off` (no `trail:` in the config), `failed` (the query did not answer: `note` says why)."""
    window: str = "7d"
    """The window as the user wrote it (`7d`), for column titles."""
    since: str = ""
    """Window start, ISO UTC."""
    endpoints: Mapping[str, Usage] = field(default_factory=dict)
    cells: Mapping[tuple[str, str], Usage] = field(default_factory=dict)
    """(VPC id, short service) -> usage; IPs outside every known CIDR are left out (`vpce usage --by vpc` has them)."""
    records: int = 0
    """Network activity records in the window (what the engine read)."""
    skipped: tuple[str, ...] = ()
    """`3 objects skipped: truncated or corrupt gzip`: what the answer left out, as the CLI prints it."""
    note: str = ""
    """Why there is no answer (state `off` or `failed`), or the engine's summary."""


@dataclass(frozen=True, slots=True)
class DenialHistory:
    """Denials of the last window from the trail, grouped like `vpce denials`, for the Denials pane's backfill."""

    state: str
    """`ok`, `off` or `failed`."""
    window: str = "24h"
    rows: tuple[DenialRow, ...] = ()
    skipped: tuple[str, ...] = ()
    note: str = ""


NO_TRAIL = "no trail configured (trail: in config.yaml — see docs/console.md)"
"""What every trail-backed view says when the config has no `trail:` section."""


def with_usage(snapshot: Snapshot, usage: TrailUsage | None) -> Snapshot:
    """The snapshot with the trail's calls and denials on each endpoint row and matrix cell (and a details line).

    Without an answer (loading, no trail, failed) the counts stay None and the panes say why instead.
    """
    import dataclasses

    if usage is None or usage.state != "ok":
        return snapshot
    none = Usage(0, 0)
    endpoints = []
    for row in snapshot.endpoints:
        got = usage.endpoints.get(row.endpoint_id, none)
        line = (
            f"{got.calls:,} calls, {got.denials:,} denied, last {got.last_seen}"
            if got.calls
            else "no network activity events for this endpoint in the window"
        )
        details = (*tuple(d for d in row.details if not d[0].startswith("Trail ")), (f"Trail {usage.window}", line))
        endpoints.append(dataclasses.replace(row, calls=got.calls, denials=got.denials, details=details))
    cells = tuple(
        dataclasses.replace(
            cell,
            calls=usage.cells.get((cell.vpc_id, cell.service), none).calls,
            denials=usage.cells.get((cell.vpc_id, cell.service), none).denials,
            last_seen=usage.cells.get((cell.vpc_id, cell.service), none).last_seen,
        )
        for cell in snapshot.cells
    )
    return dataclasses.replace(snapshot, endpoints=tuple(endpoints), cells=cells)
