"""Whom an impact preview and a rollout's probes stand for: one persona selection for the CLI and the console.

A persona only meets the endpoint policy when its VPC is associated with the service's private hosted zone;
otherwise its calls go out through NAT to the public endpoint, and no endpoint policy can deny them. Both the
CLI (`vpce impact`, `vpce simulate`, `vpce rollout`) and the console build their `PersonaSet` here and ask it
the same questions, so they count the same cells for the same change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vpce_console.errors import UsageError
from vpce_console.policy.personas import HubEndpoint, Persona

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway
    from vpce_console.config import Config
    from vpce_console.policy.impact_matrix import ImpactResult, PolicyInput
    from vpce_console.readyfile import ReadyFile
    from vpce_console.services.inventory_model import Inventory

MAX_IMPACT_ACTIONS = 6
MAX_IMPACT_RESOURCES = 2
NAT_WORDS = "not through the endpoint"
"""How a persona whose VPC is not associated with the service's zone is shown: the policy cannot deny it."""


@dataclass(frozen=True, slots=True)
class PersonaSet:
    """Workloads to evaluate, the hub they reach, and which VPCs each service's zone is associated with."""

    personas: tuple[Persona, ...]
    hub: HubEndpoint
    source: str
    """Where the personas came from: `lab`, `config personas: F`, or `built-in demo personas`."""
    zone_vpcs: Mapping[str, frozenset[str]] | None = None
    """Short service -> VPC ids associated with its private hosted zone; None when unknown (all go through)."""
    credentials: Mapping[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    """Persona name -> (access key id, secret) for workloads this machine can act as (a lab's personas)."""

    def through_endpoint(self, persona: Persona, service: str) -> bool:
        """True when this persona's calls to `service` reach the hub endpoint (and so meet its policy)."""
        if persona.kind == "aws-service":
            return False
        if self.zone_vpcs is None:
            return True
        if not persona.vpc_id:
            return False
        if persona.vpc_id == self.hub.vpc_id:
            return True
        return persona.vpc_id in self.zone_vpcs.get(service, frozenset())

    def nat_personas(self, service: str) -> frozenset[str]:
        """Names of personas whose calls to `service` go out through NAT."""
        return frozenset(p.name for p in self.personas if not self.through_endpoint(p, service))

    def hub_for(self, endpoint_id: str, vpc_id: str | None = None) -> HubEndpoint:
        """The hub as one endpoint's policy sees it."""
        return dataclasses.replace(self.hub, endpoint_id=endpoint_id, vpc_id=vpc_id or self.hub.vpc_id)

    def by_name(self, name: str) -> Persona:
        """One persona by name; UsageError naming the known ones otherwise."""
        for persona in self.personas:
            if persona.name == name:
                return persona
        known = ", ".join(p.name for p in self.personas)
        raise UsageError(f"{self.source}: no persona named {name!r} (known: {known})")


def select_personas(
    *,
    lab: ReadyFile | None = None,
    config: Config | None = None,
    personas_file: str | None = None,
    zone_vpcs: Mapping[str, frozenset[str]] | None = None,
) -> PersonaSet:
    """The personas to use, first found: `--personas F`, the config's `personas:` file, the lab's, the demo set."""
    from vpce_console.policy.persona_file import hub_from_mapping, load_persona_file
    from vpce_console.policy.personas import PersonaError

    path = personas_file or (config.personas if config is not None else None)
    creds = lab.credentials if lab is not None else {}
    if path:
        source = f"personas {path}" if personas_file else f"config personas: {path}"
        try:
            loaded = load_persona_file(_read(path))
        except PersonaError as exc:
            raise UsageError(f"{path}: {exc}") from None
        if not loaded.personas:
            raise UsageError(f"{path}: no personas")
        hub = loaded.hub or (lab.hub if lab is not None else hub_from_mapping(DEFAULT_HUB))
        return PersonaSet(loaded.personas, hub, source, zone_vpcs, creds)
    if lab is not None and lab.personas:
        return PersonaSet(tuple(p.persona for p in lab.personas), lab.hub, "lab", zone_vpcs, creds)
    loaded = load_persona_file(demo_personas_text())
    return PersonaSet(loaded.personas, loaded.hub or hub_from_mapping(DEFAULT_HUB), "built-in demo personas", None)


DEFAULT_HUB = {"account_id": "000000000000", "vpc_id": "vpc-hub", "endpoint_id": "vpce-hub"}
"""The hub assumed when a personas file names none (offline use)."""


def demo_personas_text() -> str:
    """The packaged demo personas (a copy of examples/personas.yaml)."""
    from importlib.resources import files

    return files("vpce_console.data").joinpath("demo_personas.yaml").read_text(encoding="utf-8")


def _read(path: str) -> str:
    from vpce_console.safeload import MAX_PERSONAS_BYTES, read_text_capped

    return read_text_capped(str(Path(path).expanduser()), limit=MAX_PERSONAS_BYTES, what="personas file")


def zone_vpcs_of(inventory: Inventory) -> dict[str, frozenset[str]]:
    """Service -> VPC ids associated with its zone, from a loaded inventory (the console has one already)."""
    out: dict[str, set[str]] = {}
    for zone in inventory.zones:
        service = inventory.zone_services.get(zone.zone_id)
        if service is not None:
            out.setdefault(_canonical_service(service), set()).update(v.vpc_id for v in zone.vpcs)
    for endpoint in inventory.endpoints:  # VPCs a Route 53 Profile gives the service's zone reach the endpoint too
        out.setdefault(endpoint.service, set()).update(inventory.subscriber_vpc_ids(endpoint.service))
    return {service: frozenset(vpcs) for service, vpcs in out.items()}


async def load_zone_vpcs(
    gateway: AwsGateway, config: Config, services: Sequence[str] | None = None
) -> dict[str, frozenset[str]]:
    """Service -> VPC ids associated with its private hosted zone, read from Route 53 in each hub account.

    With `services`, only those services' zones are read (one rollout needs one zone, not all of them). A VPC
    associated with a Route 53 Profile that carries the service's zone reaches the endpoint too, exactly as the
    console's inventory counts it, so the CLI and the console put the same personas on the NAT path.
    """
    from vpce_console.aws import route53
    from vpce_console.services.inventory import map_zones_to_services, read_profiles, spoke_accounts_of

    caller = await gateway.caller_identity()
    accounts = sorted({h.account_id or caller.account_id for h in config.hubs} or {caller.account_id})
    regions = sorted({h.region or gateway.region for h in config.hubs} or {gateway.region})
    out: dict[str, set[str]] = {}
    service_of_zone: dict[str, str] = {}
    for account in accounts:
        listed = await route53.list_private_zones(gateway, account_id=account)
        zone_services = map_zones_to_services(listed, [], regions)
        for zone_id, name in listed:
            service = zone_services.get(zone_id)
            if service is None or (services is not None and _canonical_service(service) not in services):
                continue
            service_of_zone[zone_id] = _canonical_service(service)
            zone = await route53.zone_details(gateway, zone_id, name, account_id=account)
            out.setdefault(_canonical_service(service), set()).update(v.vpc_id for v in zone.vpcs)
    warnings: list[str] = []
    spoke_accounts = await spoke_accounts_of(gateway, config, caller, warnings)
    profiles, associations = await read_profiles(
        gateway, accounts, spoke_accounts, regions, warnings, lambda _message: None
    )
    zones_of_profile = {p.profile_id: p.zone_ids for p in profiles}
    for association in associations:
        for zone_id in zones_of_profile.get(association.profile_id, ()):
            if zone_id in service_of_zone:
                out.setdefault(service_of_zone[zone_id], set()).add(association.vpc_id)
    return {service: frozenset(vpcs) for service, vpcs in out.items()}


def _canonical_service(zone_service: str) -> str:
    """`api.ecr` (from the zone `api.ecr.<region>.amazonaws.com`) -> `ecr.api`, the endpoint's short name."""
    if zone_service == "api.ecr":
        return "ecr.api"
    return zone_service


def service_of_action(action: str) -> str:
    """The endpoint service an action goes through: `ecr:GetAuthorizationToken` -> `ecr.api`, `sqs:X` -> `sqs`."""
    prefix = action.split(":", 1)[0].lower()
    return {"ecr": "ecr.api"}.get(prefix, prefix)


def impact_axes(service: str, deployed: str, draft: str) -> tuple[list[str], list[str]]:
    """Actions and resources the preview checks: what the policies name for this service, else common calls."""
    from vpce_console.policy.impact_matrix import DEFAULT_ACTIONS, named_in_policies

    prefix = service.split(".")[0] + ":"
    named = [a for a in named_in_policies((deployed, draft), "Action") if a.lower().startswith(prefix)]
    defaults = [a for a in DEFAULT_ACTIONS if a.startswith(prefix)]
    fallback = f"{prefix}ListQueues" if prefix == "sqs:" else f"{prefix}Describe"
    actions = (named or defaults or [fallback])[:MAX_IMPACT_ACTIONS]
    resources = list(named_in_policies((deployed, draft), "Resource"))[:MAX_IMPACT_RESOURCES] or ["*"]
    return actions, resources


def change_impact(
    pset: PersonaSet,
    service: str,
    deployed: PolicyInput,
    draft: PolicyInput,
    *,
    endpoint_id: str = "",
    vpc_id: str | None = None,
    actions: Sequence[str] | None = None,
    resources: Sequence[str] | None = None,
    now: datetime | None = None,
) -> ImpactResult:
    """Every persona × action × resource under both documents; NAT-path personas never count as changed."""
    from vpce_console.policy.impact_matrix import impact

    texts = (deployed if isinstance(deployed, str) else "", draft if isinstance(draft, str) else "")
    default_actions, default_resources = impact_axes(service, *texts)
    return impact(
        deployed,
        draft,
        pset.personas,
        list(actions or default_actions),
        list(resources or default_resources),
        pset.hub_for(endpoint_id or pset.hub.endpoint_id, vpc_id),
        now=now,
        nat_personas=pset.nat_personas(service),
    )


def infer_service(texts: Sequence[str]) -> str | None:
    """The one service whose actions the policies name, wildcards included (None when none, or several)."""
    import json

    prefixes: set[str] = set()
    for text in texts:
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            continue
        statements = doc.get("Statement") if isinstance(doc, Mapping) else None
        for statement in [statements] if isinstance(statements, Mapping) else statements or []:
            if not isinstance(statement, Mapping):
                continue
            for key in ("Action", "NotAction"):
                value = statement.get(key)
                for action in value if isinstance(value, list) else [value]:
                    if isinstance(action, str) and ":" in action and "*" not in action.split(":", 1)[0]:
                        prefixes.add(service_of_action(action))
    return prefixes.pop() if len(prefixes) == 1 else None
