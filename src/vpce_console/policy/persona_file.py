"""Personas and the hub endpoint read from YAML or JSON (a persona file, the lab's ready-file), strictly: a bad entry is
a PersonaError naming it, never a silent drop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from vpce_console.policy.personas import HubEndpoint, Persona, PersonaError
from vpce_console.policy.vocab import CREDENTIAL_KINDS as CREDENTIAL_KINDS
from vpce_console.safeload import short


@dataclass(frozen=True, slots=True)
class PersonaFile:
    """What a personas YAML file holds: the workloads and, optionally, the hub they reach."""

    personas: tuple[Persona, ...]
    hub: HubEndpoint | None


_FIELDS = {f.name for f in fields(Persona)}


_REQUIRED = ("name", "kind", "account_id", "role_arn")


_ACCOUNT = re.compile(r"^\d{12}$")


def _account(value: Any, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:012d}"
    if not isinstance(value, str) or not _ACCOUNT.match(value):
        raise PersonaError(f"{where}: account id must be 12 digits (quote it in YAML)")
    return value


def _optional_str(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise PersonaError(f"{where} must be a string")


def persona_from_mapping(data: Any, index: int = 0, *, ignore_unknown: bool = False) -> Persona:
    """Build a Persona from one YAML/JSON object (e.g. a lab ready-file entry with `ignore_unknown=True`)."""
    where = f"personas[{index}]"
    if not isinstance(data, Mapping):
        raise PersonaError(f"{where} must be a mapping")
    unknown = set(data) - _FIELDS
    if unknown and not ignore_unknown:
        raise PersonaError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    for name in _REQUIRED:
        if data.get(name) in (None, ""):
            raise PersonaError(f"{where}: missing {name}")
    kind = data["kind"]
    if kind not in CREDENTIAL_KINDS:
        raise PersonaError(f"{where}.kind: {short(kind)} is not one of {', '.join(CREDENTIAL_KINDS)}")
    tags = data.get("tags") or {}
    if not isinstance(tags, Mapping):
        raise PersonaError(f"{where}.tags must be a mapping of tag key to value")
    org_paths = data.get("org_paths") or ()
    if isinstance(org_paths, str):
        org_paths = (org_paths,)
    if not isinstance(org_paths, (list, tuple)) or not all(isinstance(p, str) for p in org_paths):
        raise PersonaError(f"{where}.org_paths must be a list of strings")
    values: dict[str, Any] = {
        "name": str(data["name"]),
        "kind": kind,
        "account_id": _account(data["account_id"], f"{where}.account_id"),
        "role_arn": str(data["role_arn"]),
        "tags": {str(k): str(v) for k, v in tags.items()},
        "org_paths": tuple(org_paths),
    }
    for name in _FIELDS - set(values) - {"session_name"}:
        values[name] = _optional_str(data.get(name), f"{where}.{name}")
    if data.get("session_name") is not None:
        values["session_name"] = str(data["session_name"])
    return Persona(**values)


def hub_from_mapping(data: Any) -> HubEndpoint:
    """Build a HubEndpoint from the `hub:` section of a personas file."""
    if not isinstance(data, Mapping):
        raise PersonaError("hub must be a mapping")
    allowed = {f.name for f in fields(HubEndpoint)}
    unknown = set(data) - allowed
    if unknown:
        raise PersonaError(f"hub: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    for name in ("account_id", "vpc_id", "endpoint_id"):
        if not data.get(name):
            raise PersonaError(f"hub: missing {name}")
    org_paths = data.get("org_paths") or ()
    if isinstance(org_paths, str):
        org_paths = (org_paths,)
    if not isinstance(org_paths, (list, tuple)):
        raise PersonaError("hub.org_paths must be a list of strings")
    return HubEndpoint(
        account_id=_account(data["account_id"], "hub.account_id"),
        vpc_id=str(data["vpc_id"]),
        endpoint_id=str(data["endpoint_id"]),
        region=str(data.get("region") or "us-east-1"),
        org_id=_optional_str(data.get("org_id"), "hub.org_id"),
        org_paths=tuple(str(p) for p in org_paths),
    )


def load_persona_file(text: str) -> PersonaFile:
    """Parse a personas file: either a list of personas, or a mapping with `personas:` and optional `hub:`."""
    from vpce_console.safeload import YamlLimitError, load_yaml

    try:
        data = load_yaml(text)
    except YamlLimitError as exc:
        raise PersonaError(str(exc)) from None
    hub: HubEndpoint | None = None
    if isinstance(data, Mapping):
        unknown = set(data) - {"hub", "personas"}
        if unknown:
            raise PersonaError(f"unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}")
        if data.get("hub") is not None:
            hub = hub_from_mapping(data["hub"])
        data = data.get("personas")
    if not isinstance(data, list):
        raise PersonaError("expected a list of personas (or a mapping with a `personas:` list)")
    personas = tuple(persona_from_mapping(entry, i) for i, entry in enumerate(data))
    names = [p.name for p in personas]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PersonaError(f"duplicate persona name(s): {', '.join(duplicates)}")
    return PersonaFile(personas, hub)


def load_personas(text: str) -> list[Persona]:
    """The personas of a personas file (see `load_persona_file` for the hub section)."""
    return list(load_persona_file(text).personas)
