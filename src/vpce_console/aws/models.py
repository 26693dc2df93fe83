"""Frozen values the `aws/` layer returns; nothing above `aws/` ever sees an AWS response dict."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache


def short_service(service_name: str) -> str:
    """`com.amazonaws.us-east-1.ecr.api` -> `ecr.api`; other names are returned as they are."""
    parts = service_name.split(".")
    if len(parts) >= 5 and parts[:3] == ["com", "amazonaws", "vpce"]:
        return ".".join(parts[4:])  # endpoint services: com.amazonaws.vpce.<region>.vpce-svc-…
    if len(parts) >= 4 and parts[0] == "com" and parts[1] == "amazonaws":
        return ".".join(parts[3:])
    return service_name


def normalize_state(state: str | None) -> str:
    """Endpoint state compared case-insensitively (the API enum is PascalCase, filters are lowerCamel)."""
    return (state or "unknown").strip().lower()


@lru_cache(maxsize=65536)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """Parsed CIDR (cached: the doctor compares the same blocks thousands of times at org scale)."""
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


def cidrs_overlap(a: str, b: str) -> bool:
    """True when two CIDR blocks share any address (invalid blocks never overlap)."""
    na, nb = _network(a), _network(b)
    return na is not None and nb is not None and na.version == nb.version and na.overlaps(nb)


def cidr_covers(outer: str, inner: str) -> bool:
    """True when every address of `inner` is inside `outer`."""
    o, i = _network(outer), _network(inner)
    return o is not None and i is not None and o.version == i.version and i.subnet_of(o)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Eni:
    """One endpoint network interface (one per AZ)."""

    eni_id: str
    subnet_id: str | None
    availability_zone: str | None
    private_ip: str | None
    availability_zone_id: str | None = None
    """AZ id (e.g. `use1-az1`): the same physical AZ in every account, unlike AZ names."""


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    """A security group with the inbound rules that admit HTTPS (tcp/443)."""

    group_id: str
    name: str
    https_cidrs: tuple[str, ...]
    """IPv4/IPv6 CIDRs allowed to reach port 443 (rules for tcp 443, a range containing it, or all traffic)."""
    https_source_groups: tuple[str, ...] = ()
    """Security groups referenced as sources for 443."""
    https_prefix_lists: tuple[str, ...] = ()
    """Prefix lists referenced as sources for 443 (not expanded)."""

    def allows_cidr(self, cidr: str) -> bool:
        """True when some rule admits the whole `cidr` on 443."""
        return any(cidr_covers(allowed, cidr) for allowed in self.https_cidrs)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One interface VPC endpoint in a hub."""

    endpoint_id: str
    account_id: str
    region: str
    vpc_id: str
    service_name: str
    """Full name, e.g. `com.amazonaws.us-east-1.sqs`."""
    endpoint_type: str
    state: str
    """Lower-case state (`available`, `pending`, `failed`, …)."""
    private_dns_enabled: bool
    policy_text: str | None
    """The endpoint policy exactly as stored (None when the service has no policy)."""
    subnet_ids: tuple[str, ...] = ()
    enis: tuple[Eni, ...] = ()
    security_groups: tuple[SecurityGroup, ...] = ()
    dns_names: tuple[str, ...] = ()
    """Regional and per-AZ DNS names (lower case, no trailing dot), regional first as DnsEntries lists them."""
    dns_zone_id: str | None = None
    """HostedZoneId of the regional DNS entry (DnsEntries[0]): the AliasTarget zone of a service zone's record."""
    tags: Mapping[str, str] = field(default_factory=dict)
    policy_supported: bool | None = None
    """From DescribeVpcEndpointServices `VpcEndpointPolicySupported`; None when unknown."""
    service_private_dns_name: str | None = None
    """The service's own DNS name (DescribeVpcEndpointServices `PrivateDnsName`), e.g. `sqs.us-east-1.amazonaws.com`."""
    bytes_processed: float | None = None
    """BytesProcessed summed over the metrics window (CloudWatch), None when not read."""
    bytes_hourly: tuple[float, ...] = ()
    """Hourly BytesProcessed over the metrics window, oldest first, missing hours 0; sums to `bytes_processed`."""

    @property
    def service(self) -> str:
        """Short service name, e.g. `sqs` or `ecr.api`."""
        return short_service(self.service_name)

    @property
    def availability_zones(self) -> tuple[str, ...]:
        """AZs where the endpoint has an ENI."""
        return tuple(sorted({e.availability_zone for e in self.enis if e.availability_zone}))

    @property
    def availability_zone_ids(self) -> tuple[str, ...]:
        """AZ ids where the endpoint has an ENI (empty when not reported)."""
        return tuple(sorted({e.availability_zone_id for e in self.enis if e.availability_zone_id}))

    def is_target(self, dns_name: str) -> bool:
        """True when an alias target names this endpoint (one of its DNS names, or a name starting with its id)."""
        name = dns_name.lower().rstrip(".")
        if name.startswith("dualstack."):
            name = name[len("dualstack.") :]
        if name in self.dns_names:
            return True
        return name.startswith(self.endpoint_id + "-") or name.startswith(self.endpoint_id + ".")


@dataclass(frozen=True, slots=True)
class ZoneVpc:
    """A VPC associated with a private hosted zone."""

    vpc_id: str
    region: str


@dataclass(frozen=True, slots=True)
class AliasRecord:
    """An alias record in a hosted zone."""

    name: str
    record_type: str
    target_dns_name: str
    """Alias target, lower case, no trailing dot."""
    target_zone_id: str


@dataclass(frozen=True, slots=True)
class HostedZone:
    """A Route 53 private hosted zone with its associations and alias records."""

    zone_id: str
    name: str
    """Zone name without the trailing dot, e.g. `sqs.us-east-1.amazonaws.com`."""
    account_id: str
    private: bool
    vpcs: tuple[ZoneVpc, ...] = ()
    aliases: tuple[AliasRecord, ...] = ()
    record_count: int = 0


@dataclass(frozen=True, slots=True)
class DnsProfile:
    """A Route 53 Profile and the DNS resources attached to it (private hosted zones, interface endpoints)."""

    profile_id: str
    name: str
    owner_id: str
    """The account that owns the Profile (and pays for its associations)."""
    region: str
    zone_ids: tuple[str, ...] = ()
    """Private hosted zones attached to the Profile (ListProfileResourceAssociations)."""
    endpoint_ids: tuple[str, ...] = ()
    """Interface endpoints attached to the Profile: their own private DNS reaches every associated VPC."""
    share_status: str = ""
    """NOT_SHARED, SHARED_BY_ME or SHARED_WITH_ME as the reading account saw it."""

    @property
    def label(self) -> str:
        """`name (rp-…)` for messages and the matrix explanation."""
        return f"{self.name} ({self.profile_id})"


@dataclass(frozen=True, slots=True)
class ProfileAssociation:
    """One VPC associated with a Route 53 Profile (a VPC has at most one)."""

    profile_id: str
    vpc_id: str
    account_id: str
    """The VPC owner's account, which made (and lists) the association."""
    region: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Subnet:
    """A subnet of a spoke VPC."""

    subnet_id: str
    availability_zone: str
    cidr: str
    availability_zone_id: str | None = None
    """AZ id (e.g. `use1-az1`), comparable across accounts."""


@dataclass(frozen=True, slots=True)
class Route:
    """One route of a route table."""

    destination: str
    """Destination CIDR (or prefix-list id)."""
    target_kind: str
    """tgw, pcx, local, igw, nat, vgw, eni, other."""
    target_id: str
    state: str = "active"


@dataclass(frozen=True, slots=True)
class RouteTable:
    """A route table with the subnets it serves."""

    route_table_id: str
    main: bool
    subnet_ids: tuple[str, ...]
    routes: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class SpokeVpc:
    """A VPC in a spoke account (subscribing or not)."""

    vpc_id: str
    account_id: str
    region: str
    cidrs: tuple[str, ...]
    tags: Mapping[str, str] = field(default_factory=dict)
    is_default: bool = False
    dns_support: bool | None = None
    """enableDnsSupport (None when not read)."""
    dns_hostnames: bool | None = None
    """enableDnsHostnames (None when not read)."""
    subnets: tuple[Subnet, ...] = ()
    route_tables: tuple[RouteTable, ...] = ()
    tgw_attachments: tuple[str, ...] = ()
    """Transit Gateway attachment ids of this VPC (available/pending)."""
    peering_connections: tuple[str, ...] = ()
    """Active peering connection ids involving this VPC."""

    @property
    def name(self) -> str:
        """The Name tag, or the id."""
        return self.tags.get("Name", self.vpc_id)

    @property
    def availability_zones(self) -> tuple[str, ...]:
        """AZs the VPC has subnets in."""
        return tuple(sorted({s.availability_zone for s in self.subnets}))

    @property
    def availability_zone_ids(self) -> tuple[str, ...]:
        """AZ ids the VPC has subnets in (empty when not reported)."""
        return tuple(sorted({s.availability_zone_id for s in self.subnets if s.availability_zone_id}))


@dataclass(frozen=True, slots=True)
class HubVpc:
    """The hub VPC that hosts shared endpoints."""

    vpc_id: str
    account_id: str
    region: str
    cidrs: tuple[str, ...]
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceDetail:
    """What DescribeVpcEndpointServices says about one service."""

    service_name: str
    policy_supported: bool | None
    private_dns_name: str | None
    availability_zones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Account:
    """An account from Organizations ListAccounts."""

    account_id: str
    name: str
    status: str
