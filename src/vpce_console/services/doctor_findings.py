"""What a doctor finding is: its catalog entry (data/doctor.yaml), where it points, its fix as commands with ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from vpce_console.aws.models import SpokeVpc
from vpce_console.config import Config
from vpce_console.services.inventory import Inventory

ACCOUNT_ROLES = {
    "zone": "hosted zone owner",
    "vpc": "spoke VPC owner",
    "endpoint": "hub endpoint owner",
    "profile": "Route 53 Profile owner",
}
"""What each `account:` of a command template means, in the words the fix line prints."""


@dataclass(frozen=True, slots=True)
class CommandTemplate:
    """One AWS CLI call of a code's fix, as data/doctor.yaml writes it (placeholders in braces)."""

    account: str
    """Whose account runs it: `zone`, `vpc` or `endpoint` (ACCOUNT_ROLES)."""
    run: str
    source: str
    """The CLI reference the syntax was checked against."""
    when: str | None = None
    """`cross-account` or `same-account` to limit the step to that case; None: always."""


@dataclass(frozen=True, slots=True)
class FixCommand:
    """An AWS CLI call with this finding's real ids, and the account that must run it."""

    account_id: str | None
    """The account whose credentials (profile) run the command; None when the inventory does not know it."""
    runs_as: str
    """The role of that account in words (`hosted zone owner`, `spoke VPC owner`, `hub endpoint owner`)."""
    command: str

    @property
    def line(self) -> str:
        """One line for text output: `[account 111122223333, hosted zone owner] aws …`."""
        return f"[account {self.account_id or '?'}, {self.runs_as}] {self.command}"

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape of one fix command."""
        return {"account_id": self.account_id, "runs_as": self.runs_as, "command": self.command}


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One doctor code as documented in data/doctor.yaml."""

    code: str
    severity: str
    title: str
    consequence: str
    hint: str
    source: str
    commands: tuple[CommandTemplate, ...] = ()


@dataclass(frozen=True, slots=True)
class DoctorFinding:
    """One wiring (or policy) problem, located by VPC, account, service and endpoint where they apply."""

    code: str
    """Stable id from data/doctor.yaml, or a policy-lint code from data/findings.yaml."""
    severity: str
    """error, warning or info; errors make `vpce doctor` exit 1."""
    message: str
    """What is wrong here and what it causes."""
    hint: str
    """How to fix it."""
    vpc_id: str | None = None
    account_id: str | None = None
    """The account the finding is located in: the spoke VPC's when a VPC is named, else the endpoint's."""
    service: str | None = None
    endpoint_id: str | None = None
    zone_id: str | None = None
    kind: str = "wiring"
    """`wiring` for doctor codes, `policy` for the engine's findings on an endpoint policy."""
    vpc_name: str | None = None
    """The spoke VPC's Name tag (its id when untagged); None when the VPC was not found in a scanned account."""
    fix_commands: tuple[FixCommand, ...] = ()
    """The AWS CLI calls that fix it, with the real ids, in order, each with the account that runs it."""

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of `vpce doctor --format json`."""
        return {
            "code": self.code,
            "severity": self.severity,
            "kind": self.kind,
            "vpc_id": self.vpc_id,
            "vpc_name": self.vpc_name,
            "account_id": self.account_id,
            "service": self.service,
            "endpoint_id": self.endpoint_id,
            "zone_id": self.zone_id,
            "message": self.message,
            "hint": self.hint,
            "fix_commands": [c.to_json() for c in self.fix_commands],
        }


@cache
def catalog() -> Mapping[str, CatalogEntry]:
    """The doctor's finding catalog, keyed by code."""
    text = resources.files("vpce_console.data").joinpath("doctor.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return {
        e["code"]: CatalogEntry(
            code=e["code"],
            severity=e["severity"],
            title=e["title"],
            consequence=" ".join(str(e["consequence"]).split()),
            hint=" ".join(str(e["hint"]).split()),
            source=e["source"],
            commands=tuple(
                CommandTemplate(
                    account=c["account"],
                    run=" ".join(str(c["run"]).split()),
                    source=c["source"],
                    when=c.get("when"),
                )
                for c in e.get("commands") or ()
            ),
        )
        for e in raw["findings"]
    }


Fill = Mapping[str, str | None]
"""Placeholder values for one set of a code's commands (ids, CIDRs, and `zone_account`/`vpc_account`/…)."""


def fix_commands(code: str, fills: Iterable[Fill]) -> tuple[FixCommand, ...]:
    """The code's command templates filled once per value set; a step whose values are unknown is left out.

    Steps marked `cross-account` appear only when the zone and the VPC belong to different accounts (the zone
    owner must authorize first), `same-account` only when they do not.
    """
    out: list[FixCommand] = []
    for fill in fills:
        cross = bool(
            fill.get("zone_account") and fill.get("vpc_account") and fill["zone_account"] != fill["vpc_account"]
        )
        for template in catalog()[code].commands:
            if (template.when == "cross-account" and not cross) or (template.when == "same-account" and cross):
                continue
            values = {k: v for k, v in fill.items() if v is not None}
            try:
                command = template.run.format_map(values)
            except KeyError:
                continue  # an id the inventory does not have: no command rather than a wrong one
            out.append(FixCommand(fill.get(f"{template.account}_account"), ACCOUNT_ROLES[template.account], command))
    return tuple(dict.fromkeys(out))


def _finding(code: str, specific: str, fills: Iterable[Fill] = (), **where: Any) -> DoctorFinding:
    entry = catalog()[code]
    return DoctorFinding(
        code=code,
        severity=entry.severity,
        message=f"{specific}: {entry.consequence}",
        hint=entry.hint,
        fix_commands=fix_commands(code, fills),
        **where,
    )


def _vpc(spoke: SpokeVpc) -> str:
    """How a finding names a spoke: id, Name tag and account, so nobody has to look the id up."""
    return f"VPC {spoke.vpc_id} ({spoke.name}, account {spoke.account_id})"


def _at(spoke: SpokeVpc) -> dict[str, Any]:
    """The location fields of a finding about one spoke VPC."""
    return {"vpc_id": spoke.vpc_id, "account_id": spoke.account_id, "vpc_name": spoke.name}


Check = Callable[[Inventory, Config], Iterable[DoctorFinding]]


def _environment(vpc: SpokeVpc, config: Config) -> str | None:
    return vpc.tags.get(config.environment_tag)


def _forbidden(vpc_id: str, tags: Mapping[str, str], config: Config) -> str | None:
    for selector in config.forbidden_selectors:
        if selector.matches(vpc_id, tags):
            return str(selector)
    return None


def _hub_services(inventory: Inventory) -> set[str]:
    return {e.service for e in inventory.endpoints} | set(inventory.zone_services.values())
