"""The cost picture that justifies (or not) centralizing: hub vs per-VPC endpoints vs NAT, per service.

Pure arithmetic over the inventory (endpoint AZ counts, subscribers, BytesProcessed) and a `PriceList`
(data/prices.yaml, config overrides). Model (facts §6/§10): an interface endpoint costs an hourly charge per
AZ plus processing per GB; centralizing replaces each spoke's own endpoints with one hub endpoint and adds
Transit Gateway processing for every GB that crosses it; NAT charges processing per GB instead. Endpoint
processing is paid in both endpoint designs, so the break-even per spoke and service is
`spoke AZs × AZ-hour price × hours / TGW price per GB` (3 AZ: 21.90 / 0.02 = 1,095 GB/month).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpce_console.data.prices import BYTES_PER_GB, PriceList
from vpce_console.services.inventory import Inventory

DEFAULT_SPOKE_AZS = 3
"""AZ count assumed for a spoke whose subnets are unknown (the common 3-AZ layout of facts §10)."""


@dataclass(frozen=True, slots=True)
class DesignCost:
    """Monthly cost of one design, split by what AWS bills."""

    hourly: float
    """Endpoint (or NAT/TGW attachment) hourly charges for the month."""
    processing: float
    """Per-GB processing charges (endpoint or NAT)."""
    transit: float = 0.0
    """Transit Gateway per-GB (and dedicated attachment) charges."""
    dns: float = 0.0
    """Route 53 Profile association charges (this service's share), when spokes subscribe through Profiles."""

    @property
    def total(self) -> float:
        """Everything together."""
        return self.hourly + self.processing + self.transit + self.dns

    def __add__(self, other: DesignCost) -> DesignCost:
        return DesignCost(
            self.hourly + other.hourly,
            self.processing + other.processing,
            self.transit + other.transit,
            self.dns + other.dns,
        )

    def to_json(self) -> dict[str, float]:
        """Dollars rounded to cents."""
        return {
            "hourly": round(self.hourly, 2),
            "processing": round(self.processing, 2),
            "transit": round(self.transit, 2),
            "dns": round(self.dns, 2),
            "total": round(self.total, 2),
        }


ZERO = DesignCost(0.0, 0.0, 0.0)

CHEAPEST_MARK = "★"
"""Marks the cheapest figure of a row; the break-even has its own symbol (◆) in the console's chart."""

DESIGN_WORDS = {"centralize": "hub", "per-vpc": "per-VPC endpoints", "nat": "NAT"}
"""How the verdict words read in a sentence."""


@dataclass(frozen=True, slots=True)
class ServiceCost:
    """One service: what it costs now (centralized), per-VPC, and via NAT, and where the lines cross."""

    service: str
    endpoints: int
    hub_az_hours: float
    """Endpoint-AZ hours this month in the hub (AZs × hours)."""
    subscribers: int
    gb_month: float
    """GB processed per month (the metrics window scaled to the month)."""
    centralized: DesignCost
    per_vpc: DesignCost
    nat: DesignCost
    typical_spoke_azs: int
    """Most common AZ count of the subscribing spokes (default 3)."""
    break_even_gb_per_spoke: float
    """GB/month per spoke above which a spoke's own endpoint is cheaper than reaching the hub over the TGW."""
    gb_per_spoke: float
    """Average GB/month per subscribing spoke (0 without subscribers)."""
    nat_break_even_gb: float | None
    """GB/month of the whole service above which the hub endpoint is cheaper than NAT (None: NAT never costs more)."""

    @property
    def cheapest(self) -> str | None:
        """The design with the lowest monthly total among the three columns shown (None without subscribers).

        Compared in cents, as printed, so the word always matches the figures a person reads; a tie keeps the
        design that exists (centralized), then per-VPC endpoints, before NAT.
        """
        if self.subscribers == 0:
            return None
        totals = {"centralize": self.centralized.total, "per-vpc": self.per_vpc.total, "nat": self.nat.total}
        return min(totals, key=lambda design: (round(totals[design], 2), list(totals).index(design)))

    @property
    def verdict(self) -> str:
        """One word for the table: the cheapest design (centralize, per-vpc, nat), or unused without subscribers."""
        return self.cheapest or "unused"

    @property
    def verdict_note(self) -> str:
        """Why, in one sentence with the figures: what the verdict saves against the others, and what NAT costs."""
        if self.cheapest is None:
            return f"no spoke uses the {self.service} endpoint: its ${self.centralized.total:,.2f}/month buys nothing"
        totals = {"centralize": self.centralized.total, "per-vpc": self.per_vpc.total, "nat": self.nat.total}
        best = totals[self.cheapest]
        others = ", ".join(f"{DESIGN_WORDS[d]} ${v:,.2f}" for d, v in totals.items() if d != self.cheapest)
        note = f"{DESIGN_WORDS[self.cheapest]} ${best:,.2f}/month is the cheapest (vs {others})"
        if self.cheapest == "nat":
            note += "; through NAT no endpoint policy applies"
        return note

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape of one service row."""
        return {
            "service": self.service,
            "endpoints": self.endpoints,
            "hub_az_hours": round(self.hub_az_hours, 2),
            "subscribers": self.subscribers,
            "gb_month": round(self.gb_month, 3),
            "centralized": self.centralized.to_json(),
            "per_vpc": self.per_vpc.to_json(),
            "nat": self.nat.to_json(),
            "typical_spoke_azs": self.typical_spoke_azs,
            "break_even_gb_per_spoke": round(self.break_even_gb_per_spoke, 2),
            "gb_per_spoke": round(self.gb_per_spoke, 3),
            "nat_break_even_gb": None if self.nat_break_even_gb is None else round(self.nat_break_even_gb, 2),
            "verdict": self.verdict,
            "verdict_note": self.verdict_note,
        }


@dataclass(frozen=True, slots=True)
class CostReport:
    """The whole hub's month, per service and in total."""

    month_hours: float
    prices: PriceList
    services: tuple[ServiceCost, ...]
    metrics_window_hours: float
    profile_associations: int = 0
    """Route 53 Profile-VPC associations read (0: spokes subscribe by direct PHZ associations only)."""
    profile_monthly: float = 0.0
    """The Profiles bill for the month, already spread over the services' centralized column."""

    @property
    def centralized(self) -> DesignCost:
        """Total of the centralized design (what the hub costs now)."""
        return sum((s.centralized for s in self.services), ZERO)

    @property
    def per_vpc(self) -> DesignCost:
        """Total if every subscription had its own endpoint in its VPC."""
        return sum((s.per_vpc for s in self.services), ZERO)

    @property
    def nat(self) -> DesignCost:
        """Total if every subscription went through NAT."""
        return sum((s.nat for s in self.services), ZERO)

    @property
    def hub_az_hours(self) -> float:
        """Endpoint-AZ hours this month in the hub."""
        return sum(s.hub_az_hours for s in self.services)

    @property
    def gb_month(self) -> float:
        """GB processed this month by the hub endpoints."""
        return sum(s.gb_month for s in self.services)

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape of `vpce cost --format json`."""
        return {
            "month_hours": self.month_hours,
            "metrics_window_hours": self.metrics_window_hours,
            "prices": {
                "as_of": self.prices.as_of,
                "region": self.prices.region,
                "currency": self.prices.currency,
                "values": dict(self.prices.values),
                "overridden": list(self.prices.overridden),
                "sources": dict(self.prices.sources),
                "unconfirmed": list(self.prices.unconfirmed),
            },
            "route53_profiles": {
                "associations": self.profile_associations,
                "monthly": round(self.profile_monthly, 2),
            },
            "hub": {"az_hours": round(self.hub_az_hours, 2), "gb_month": round(self.gb_month, 3)},
            "totals": {
                "centralized": self.centralized.to_json(),
                "per_vpc": self.per_vpc.to_json(),
                "nat": self.nat.to_json(),
                "saving_vs_per_vpc": round(self.per_vpc.total - self.centralized.total, 2),
            },
            "services": [s.to_json() for s in self.services],
        }


def _spoke_azs(count: int, fallback: int) -> int:
    return count if count > 0 else fallback


def cost_report(
    inventory: Inventory,
    prices: PriceList,
    *,
    month_hours: float = 730,
    metrics_window_hours: float = 24,
    dedicated_tgw_attachments: bool = False,
) -> CostReport:
    """Monthly cost per service for the hub as it is, per-VPC endpoints instead, and NAT instead (pure)."""
    az_hour = prices["endpoint_az_hour"]
    scale = month_hours / metrics_window_hours
    profile_share = _profile_charges(inventory, prices, month_hours)
    spokes = {s.vpc_id: s for s in inventory.spokes}
    subscribers_by_service: dict[str, list[int]] = {}
    for service in {e.service for e in inventory.endpoints}:
        # The same subscribers the Endpoints pane counts; a VPC outside the scanned accounts has unknown AZs (0).
        subscribers_by_service[service] = [
            len(spokes[v].availability_zone_ids or spokes[v].availability_zones) if v in spokes else 0
            for v in sorted(inventory.subscriber_vpc_ids(service))
        ]
    services = sorted({e.service for e in inventory.endpoints})
    rows = []
    for service in services:
        endpoints = inventory.endpoints_for(service)
        hub_azs = sum(len(e.enis) or len(e.subnet_ids) for e in endpoints)
        spoke_az_counts = [_spoke_azs(n, hub_azs or DEFAULT_SPOKE_AZS) for n in subscribers_by_service.get(service, [])]
        gb = sum((e.bytes_processed or 0.0) for e in endpoints) / BYTES_PER_GB * scale
        hub_hours = hub_azs * month_hours
        processing = gb * prices["endpoint_gb"]
        transit = gb * prices["tgw_gb"]
        if dedicated_tgw_attachments:
            transit += len(spoke_az_counts) * prices["tgw_attachment_hour"] * month_hours
        centralized = DesignCost(hub_hours * az_hour, processing, transit, profile_share.get(service, 0.0))
        per_vpc = DesignCost(sum(spoke_az_counts) * az_hour * month_hours, processing, 0.0)
        nat = DesignCost(0.0, gb * prices["nat_gb"], 0.0)
        typical = Counter(spoke_az_counts).most_common(1)[0][0] if spoke_az_counts else DEFAULT_SPOKE_AZS
        break_even = typical * az_hour * month_hours / prices["tgw_gb"] if prices["tgw_gb"] > 0 else float("inf")
        margin = prices["nat_gb"] - prices["endpoint_gb"] - prices["tgw_gb"]
        nat_break_even = (hub_hours * az_hour / margin) if margin > 0 else None
        rows.append(
            ServiceCost(
                service=service,
                endpoints=len(endpoints),
                hub_az_hours=hub_hours,
                subscribers=len(spoke_az_counts),
                gb_month=gb,
                centralized=centralized,
                per_vpc=per_vpc,
                nat=nat,
                typical_spoke_azs=typical,
                break_even_gb_per_spoke=break_even,
                gb_per_spoke=gb / len(spoke_az_counts) if spoke_az_counts else 0.0,
                nat_break_even_gb=nat_break_even,
            )
        )
    return CostReport(
        month_hours=month_hours,
        prices=prices,
        services=tuple(rows),
        metrics_window_hours=metrics_window_hours,
        profile_associations=len(inventory.profile_associations),
        profile_monthly=round(sum(profile_share.values()), 6),
    )


def profile_monthly_charge(associations: int, prices: PriceList, month_hours: float) -> float:
    """One account and Region's Route 53 Profiles bill: the hourly charge with its first 100 associations, then per
    association-hour beyond them (0 without associations)."""
    if associations <= 0:
        return 0.0
    extra = max(0, associations - 100)
    return (prices["profile_hour"] + extra * prices["profile_association_hour"]) * month_hours


def _profile_charges(inventory: Inventory, prices: PriceList, month_hours: float) -> dict[str, float]:
    """Service -> its share of the Profile owners' bills, split evenly over the (VPC, service) pairs served
    through a Profile, so the shares add up to the whole bill and sit in the centralized column."""
    by_owner: Counter[tuple[str, str]] = Counter()
    profiles = {p.profile_id: p for p in inventory.profiles}
    for assoc in inventory.profile_associations:
        profile = profiles.get(assoc.profile_id)
        by_owner[(profile.owner_id if profile else "?", assoc.region)] += 1
    bill = sum(profile_monthly_charge(n, prices, month_hours) for n in by_owner.values())
    if bill <= 0:
        return {}
    pairs: Counter[str] = Counter()
    for assoc in inventory.profile_associations:
        profile = inventory.profile_of(assoc.vpc_id)
        if profile is not None:
            pairs.update(inventory.profile_services(profile))
    total = sum(pairs.values())
    return {service: bill * n / total for service, n in pairs.items()} if total else {}


def cost_text(report: CostReport) -> str:
    """A readable table for `vpce cost` (dollars per month)."""
    lines = [
        f"Prices {report.prices.region} as of {report.prices.as_of} ({report.prices.currency}); "
        f"month = {report.month_hours:g} h; GB (2^30 bytes) scaled from the last {report.metrics_window_hours:g} h",
        f"Hub: {report.hub_az_hours:,.0f} endpoint-AZ hours, {report.gb_month:,.1f} GB processed this month",
        "",
        f"{'service':<16}{'subs':>5}{'GB/mo':>10}{'hub $':>12}{'per-VPC $':>12}{'NAT $':>12}"
        f"{'break-even GB/spoke':>21}{'GB/spoke':>10}  verdict",
    ]
    for s in report.services:
        mark = {d: CHEAPEST_MARK if s.cheapest == d else " " for d in DESIGN_WORDS}
        lines.append(
            f"{s.service:<16}{s.subscribers:>5}{s.gb_month:>10,.1f}{s.centralized.total:>11,.2f}{mark['centralize']}"
            f"{s.per_vpc.total:>11,.2f}{mark['per-vpc']}{s.nat.total:>11,.2f}{mark['nat']}"
            f"{s.break_even_gb_per_spoke:>21,.0f}{s.gb_per_spoke:>10,.1f}  {s.verdict}"
        )
    saving = report.per_vpc.total - report.centralized.total
    counts = Counter(s.verdict for s in report.services)
    if report.profile_associations:
        unconfirmed = " (price UNCONFIRMED)" if "profile_hour" in report.prices.unconfirmed else ""
        lines += [
            "",
            f"Route 53 Profiles: {report.profile_associations} VPC association(s), "
            f"${report.profile_monthly:,.2f}/month{unconfirmed}, included in the hub column",
        ]
    lines += [
        "",
        f"{CHEAPEST_MARK} cheapest design of the row (the verdict); break-even = GB/month per spoke above which a "
        "spoke's own endpoint costs less than the hub; nat = calls leave through NAT, where no endpoint policy applies",
        "Verdicts: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())),
        f"Total: centralized ${report.centralized.total:,.2f} (TGW ${report.centralized.transit:,.2f}), "
        f"per-VPC ${report.per_vpc.total:,.2f}, NAT ${report.nat.total:,.2f}; "
        f"centralizing saves ${saving:,.2f}/month against per-VPC endpoints",
    ]
    return "\n".join(lines)


def prices_for(overrides: Mapping[str, float] | None = None) -> PriceList:
    """The bundled prices with config overrides (convenience for callers that only have a Config)."""
    from vpce_console.data.prices import load_prices

    return load_prices(overrides)
