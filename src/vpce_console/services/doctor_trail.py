"""Doctor findings from the organization trail's evidence: unused associations and endpoints, unexpected callers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vpce_console.aws.models import Endpoint
from vpce_console.services.doctor_findings import (
    DoctorFinding,
    _at,
    _finding,
    _vpc,
)
from vpce_console.services.inventory import Inventory


@dataclass(frozen=True, slots=True)
class TrailEvidence:
    """What the organization trail showed over a window (from `vpce usage --by vpc` and `--by account`)."""

    since: str
    """Window start (ISO), shown in every finding."""
    calls_by_vpc: Mapping[tuple[str, str], int]
    """(endpoint id, VPC id) -> calls through that endpoint from that VPC (known CIDRs only)."""
    calls_by_endpoint: Mapping[str, int]
    """Endpoint id -> calls through it (every caller)."""
    outside: tuple[tuple[str, str, int], ...] = ()
    """(endpoint id, caller: `account 123…` or `IP 10.…`, calls) for callers outside the configured spokes."""


NOT_NETWORK_EVENT_SOURCES = frozenset({"sts"})
"""Endpoint services CloudTrail records no network activity events for (facts §4b: STS is not in the list), so
silence in the trail says nothing about them."""


def trail_findings(inventory: Inventory, evidence: TrailEvidence) -> list[DoctorFinding]:
    """endpoint-unused, association-unused and unexpected-caller from the trail's evidence (pure)."""
    out: list[DoctorFinding] = []
    by_service = {_service_of(e): e for e in inventory.endpoints}
    window = f"since {evidence.since}"
    for endpoint in inventory.endpoints:
        if _service_of(endpoint) in NOT_NETWORK_EVENT_SOURCES:
            continue
        if evidence.calls_by_endpoint.get(endpoint.endpoint_id, 0) == 0:
            out.append(
                _finding(
                    "endpoint-unused",
                    f"endpoint {endpoint.endpoint_id} ({_service_of(endpoint)}): no call {window}",
                    endpoint_id=endpoint.endpoint_id,
                    account_id=endpoint.account_id,
                    service=_service_of(endpoint),
                )
            )
    zone_by_service = {service: zone_id for zone_id, service in inventory.zone_services.items()}
    for spoke in inventory.spokes:
        for service in inventory.services_by_vpc().get(spoke.vpc_id, ()):
            if service in NOT_NETWORK_EVENT_SOURCES:
                continue
            hub_endpoint = by_service.get(service)
            if hub_endpoint is None or evidence.calls_by_vpc.get((hub_endpoint.endpoint_id, spoke.vpc_id), 0) > 0:
                continue
            if evidence.calls_by_endpoint.get(hub_endpoint.endpoint_id, 0) == 0:
                continue  # the whole endpoint is silent: endpoint-unused says it once
            fills = [
                {
                    "zone_id": zone_by_service.get(service),
                    "vpc_id": spoke.vpc_id,
                    "vpc_region": spoke.region,
                    "vpc_account": spoke.account_id,
                }
            ]
            out.append(
                _finding(
                    "association-unused",
                    f"{_vpc(spoke)} is associated with {service} but made no call through "
                    f"{hub_endpoint.endpoint_id} {window}",
                    fills,
                    service=service,
                    endpoint_id=hub_endpoint.endpoint_id,
                    **_at(spoke),
                )
            )
    for endpoint_id, who, calls in evidence.outside:
        out.append(
            _finding(
                "unexpected-caller",
                f"{who} made {calls} call(s) through {endpoint_id} {window}",
                endpoint_id=endpoint_id,
            )
        )
    return out


def _service_of(endpoint: Endpoint) -> str:
    """`com.amazonaws.us-east-1.sqs` -> `sqs` (the short name zones and expected_services use)."""
    from vpce_console.aws.models import short_service

    return short_service(endpoint.service_name)
