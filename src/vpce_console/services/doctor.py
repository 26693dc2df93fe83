"""The wiring doctor: pure checks over an `Inventory` that find what breaks a centralized-endpoint deployment.

`diagnose(inventory, config)` returns findings with codes from data/doctor.yaml (plus the policy engine's own
codes for each endpoint's policy). Every check is a small function over frozen values, so tests build an
inventory by hand and assert the codes.
"""

from __future__ import annotations

from collections.abc import Iterable

from vpce_console.config import Config
from vpce_console.policy.vocab import SEVERITY_ORDER
from vpce_console.services.doctor_dns import (
    check_alias_targets,
    check_forbidden_associations,
    check_forbidden_profiles,
    check_missing_associations,
    check_private_dns,
    check_profile_and_direct,
    check_stale_associations,
)
from vpce_console.services.doctor_findings import (
    ACCOUNT_ROLES,
    CatalogEntry,
    Check,
    DoctorFinding,
    FixCommand,
    catalog,
    fix_commands,
)
from vpce_console.services.doctor_network import (
    check_az_coverage,
    check_dns_attributes,
    check_endpoint_state,
    check_incomplete,
    check_overlapping_cidrs,
    check_policy_support,
    check_routes,
    check_security_groups,
    policy_findings,
)
from vpce_console.services.doctor_trail import (
    NOT_NETWORK_EVENT_SOURCES,
    TrailEvidence,
    trail_findings,
)
from vpce_console.services.inventory import Inventory

__all__ = [
    "ACCOUNT_ROLES",
    "CHECKS",
    "NOT_NETWORK_EVENT_SOURCES",
    "SEVERITY_ORDER",
    "CatalogEntry",
    "DoctorFinding",
    "FixCommand",
    "TrailEvidence",
    "catalog",
    "diagnose",
    "fix_commands",
    "has_errors",
    "trail_findings",
]


CHECKS: tuple[Check, ...] = (
    check_endpoint_state,
    check_private_dns,
    check_policy_support,
    check_alias_targets,
    check_missing_associations,
    check_profile_and_direct,
    check_forbidden_associations,
    check_forbidden_profiles,
    check_stale_associations,
    check_security_groups,
    check_routes,
    check_dns_attributes,
    check_overlapping_cidrs,
    check_az_coverage,
    check_incomplete,
    policy_findings,
)


def diagnose(inventory: Inventory, config: Config) -> list[DoctorFinding]:
    """Every finding for the deployment, errors first, then by code and location (pure)."""
    findings = [f for check in CHECKS for f in check(inventory, config)]
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_ORDER.get(f.severity, 3),
            f.code,
            f.service or "",
            f.vpc_id or "",
            f.endpoint_id or "",
            f.message,
        ),
    )


def has_errors(findings: Iterable[DoctorFinding]) -> bool:
    """True when `vpce doctor` must exit 1."""
    return any(f.severity == "error" for f in findings)
