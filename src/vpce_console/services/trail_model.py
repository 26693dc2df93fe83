"""What a trail question returns (rows, skips, sync cost) and the IP -> VPC map that names the callers' VPCs."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from vpce_console.errors import UsageError
from vpce_console.policy.vocab import Progress as Progress  # the shared name; trail modules import it from here
from vpce_console.services.trail_sql import Question

if TYPE_CHECKING:
    pass


UNKNOWN = "unknown"


ATHENA_USD_PER_TB = 5.0
"""Athena SQL query price per TB scanned (https://aws.amazon.com/athena/pricing/; 10 MB minimum per query)."""


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `24h`, `90m` or an ISO time -> an aware UTC datetime; UsageError otherwise."""
    m = re.fullmatch(r"(\d+)([dhm])", text.strip())
    if m:
        n = int(m.group(1))
        return now - timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[m.group(2)]: n})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since: expected 7d, 24h, 90m or an ISO time, got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Skip:
    """Objects or records left out of an answer, and why (shown with every answer)."""

    what: str
    """`objects` or `records`."""
    count: int
    reason: str


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What bringing the window's objects here cost."""

    listed: int
    downloaded: int
    downloaded_bytes: int
    cached_bytes: int
    evicted: int
    seconds: float
    listings: int

    def to_json(self) -> dict[str, Any]:
        """Stable keys for --format json and the benchmark."""
        return {
            "objects_listed": self.listed,
            "objects_downloaded": self.downloaded,
            "mb_downloaded": round(self.downloaded_bytes / 1e6, 3),
            "cache_mb": round(self.cached_bytes / 1e6, 3),
            "evicted": self.evicted,
            "listings": self.listings,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One group: who/where/what, with its calls, denials and first/last seen in the window."""

    endpoint_id: str
    key: tuple[str, ...]
    calls: int
    denials: int
    first_seen: str
    last_seen: str
    detail: Mapping[str, str] = field(default_factory=dict)
    """For `--by vpc`: the VPC's account and name (or `unknown` for an IP outside every known CIDR)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """Rows plus everything needed to trust them: the window, the engine, what was skipped."""

    question: Question
    rows: tuple[UsageRow, ...]
    engine: str
    skipped: tuple[Skip, ...] = ()
    sync: SyncReport | None = None
    query_seconds: float = 0.0
    records_in_window: int = 0
    scanned_bytes: int | None = None
    """Athena only: DataScannedInBytes of the query (what it is billed on)."""
    query_id: str | None = None

    @property
    def athena_cost_usd(self) -> float | None:
        """Athena's charge for the query: $5 per TB scanned, 10 MB minimum (aws.amazon.com/athena/pricing)."""
        if self.scanned_bytes is None:
            return None
        return max(self.scanned_bytes, 10 * 1024 * 1024) / 1024**4 * ATHENA_USD_PER_TB


@dataclass(frozen=True, slots=True)
class Network:
    """A known CIDR: whose VPC it is."""

    cidr: str
    vpc_id: str
    account_id: str
    name: str


class IpMap:
    """Source IP -> the spoke or hub VPC whose CIDR holds it (most specific wins)."""

    def __init__(self, networks: Iterable[Network]) -> None:
        nets = []
        for n in networks:
            try:
                nets.append((ipaddress.ip_network(n.cidr, strict=False), n))
            except ValueError:
                continue
        self._nets = sorted(nets, key=lambda p: -p[0].prefixlen)
        self._memo: dict[str, Network | None] = {}

    def lookup(self, ip: str) -> Network | None:
        """The VPC of `ip`, or None when no known CIDR holds it (shown as unknown)."""
        if ip not in self._memo:
            found = None
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                addr = None
            if addr is not None:
                found = next((n for net, n in self._nets if addr.version == net.version and addr in net), None)
            self._memo[ip] = found
        return self._memo[ip]


def networks_from_inventory(inventory: Any) -> list[Network]:
    """Every spoke and hub VPC CIDR of an inventory (default VPCs share 172.31/16 everywhere: left out)."""
    out = [Network(c, v.vpc_id, v.account_id, v.name) for v in inventory.spokes if not v.is_default for c in v.cidrs]
    for hub in inventory.hubs:
        for v in hub.vpcs:
            out.extend(Network(c, v.vpc_id, v.account_id, v.tags.get("Name", v.vpc_id)) for c in v.cidrs)
    return out


def map_vpcs(rows: Sequence[UsageRow], ip_map: IpMap) -> list[UsageRow]:
    """Merge per-IP rows into per-VPC rows; IPs outside every known CIDR stay rows of their own, marked unknown."""
    merged: dict[tuple[str, str], UsageRow] = {}
    for row in rows:
        ip = row.key[0]
        net = ip_map.lookup(ip)
        key = (row.endpoint_id, net.vpc_id if net else f"{UNKNOWN} ({ip})")
        detail = {"account_id": net.account_id, "name": net.name} if net else {"account_id": UNKNOWN, "name": ip}
        old = merged.get(key)
        if old is None:
            merged[key] = UsageRow(
                row.endpoint_id, (key[1],), row.calls, row.denials, row.first_seen, row.last_seen, detail
            )
        else:
            merged[key] = UsageRow(
                row.endpoint_id,
                old.key,
                old.calls + row.calls,
                old.denials + row.denials,
                min(old.first_seen, row.first_seen),
                max(old.last_seen, row.last_seen),
                old.detail,
            )
    return sorted(merged.values(), key=lambda r: (-r.calls, r.endpoint_id, r.key))
