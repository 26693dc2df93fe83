"""Whether each spoke VPC is subscribed to each service as it should be: wiring, config and the doctor's findings."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vpce_console.config import Config
    from vpce_console.services.doctor_findings import DoctorFinding
    from vpce_console.services.inventory_model import Inventory


class SubscriberStatus(StrEnum):
    """One spoke × service cell of the subscribers matrix."""

    ASSOCIATED = "associated"
    """The spoke resolves the service to the hub endpoint, as intended."""
    MISSING = "missing"
    """Expected for the spoke's environment (or a doctor finding says so) but not associated."""
    FORBIDDEN = "forbidden"
    """Associated although the config forbids this VPC."""
    STALE = "stale"
    """An association the doctor finds stale (e.g. a VPC that no longer exists)."""
    NONE = "none"
    """Not associated and not expected."""


def subscriber_status(*, associated: bool, expected: bool, forbidden: bool, codes: Collection[str]) -> SubscriberStatus:
    """The cell's status: the wiring and the config first, then the doctor's findings on it, which win."""
    if associated:
        status = SubscriberStatus.FORBIDDEN if forbidden else SubscriberStatus.ASSOCIATED
    elif expected and not forbidden:
        status = SubscriberStatus.MISSING
    else:
        status = SubscriberStatus.NONE
    if "phz-forbidden-association" in codes:
        return SubscriberStatus.FORBIDDEN
    if not associated and ("phz-missing-association" in codes or "profile-missing-zone" in codes):
        return SubscriberStatus.MISSING
    if "phz-stale-association" in codes:
        return SubscriberStatus.STALE
    return status


@dataclass(frozen=True, slots=True)
class SubscriberState:
    """One spoke × service: its status, the findings on it, and the path it resolves through when associated."""

    vpc_id: str
    service: str
    status: SubscriberStatus
    codes: tuple[str, ...] = ()
    path: str = ""
    """`direct`, `profile` or both (empty when not associated)."""
    profile: str = ""
    """The Route 53 Profile's label when the path goes through one."""
    known: bool = True
    """False for a VPC a hub zone is associated with that is neither a spoke nor a hub VPC."""


def subscriber_states(
    inventory: Inventory, config: Config, findings: Sequence[DoctorFinding], services: Sequence[str]
) -> list[SubscriberState]:
    """Every spoke × service in `services` (spokes in inventory order), then the hub zones' unknown VPCs as stale."""
    states: list[SubscriberState] = []
    env_tag = config.environment_tag
    forbidden_selectors = config.forbidden_selectors
    for spoke in inventory.spokes:
        associated = set(inventory.services_of(spoke.vpc_id))
        env = spoke.tags.get(env_tag)
        expected = set(config.expected_services.get(env, ())) if env else set()
        forbidden = any(sel.matches(spoke.vpc_id, spoke.tags) for sel in forbidden_selectors)
        for service in services:
            codes = tuple(f.code for f in findings if f.vpc_id == spoke.vpc_id and f.service in (None, service))
            on = service in associated
            status = subscriber_status(associated=on, expected=service in expected, forbidden=forbidden, codes=codes)
            sub = inventory.subscription(spoke.vpc_id, service)
            path = sub.path if on else ""
            profile = sub.profile.label if sub.profile is not None and on else ""
            states.append(SubscriberState(spoke.vpc_id, service, status, codes, path, profile))
    known = {s.vpc_id for s in inventory.spokes} | set(inventory.hub_vpc_ids)
    for zone in inventory.zones:
        zone_service = inventory.zone_services.get(zone.zone_id)
        for vpc in zone.vpcs:
            if vpc.vpc_id not in known and zone_service:
                states.append(
                    SubscriberState(
                        vpc.vpc_id, zone_service, SubscriberStatus.STALE, ("phz-stale-association",), known=False
                    )
                )
    return states
