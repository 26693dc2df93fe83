"""The lab's ready-file as the console reads it: one typed value, parsed in one place.

The lab writes the file (`lab/server.py` builds it, `lab/ready.py` writes it atomically); `connect.py` turns it
into a `ReadyFile` here and nowhere else. Its personas are the policy engine's `Persona`s with their keys, and its
`config` section is already in our config schema (the lab writes what a user would write in config.yaml).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vpce_console.errors import UsageError
from vpce_console.policy.persona_file import persona_from_mapping
from vpce_console.policy.personas import HubEndpoint, Persona, PersonaError


@dataclass(frozen=True, slots=True)
class LabPersona:
    """A lab workload: the engine's `Persona` plus the keys that act as it (and the services the lab calls as it)."""

    persona: Persona
    access_key_id: str
    secret_access_key: str
    services: tuple[str, ...] = ()
    """Services the lab's background traffic calls as this workload."""

    @property
    def name(self) -> str:
        """The persona's name (unique in a lab)."""
        return self.persona.name

    def to_json(self) -> dict[str, Any]:
        """The ready-file entry: the persona's fields (None ones left out), its keys and services."""
        p = self.persona
        out: dict[str, Any] = {
            "name": p.name,
            "kind": p.kind,
            "account_id": p.account_id,
            "vpc_id": p.vpc_id,
            "private_ip": p.private_ip,
            "role_arn": p.role_arn,
            "tags": dict(p.tags),
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "session_name": p.session_name,
            "org_id": p.org_id,
            "org_paths": list(p.org_paths),
            "services": list(self.services),
        }
        for key in OPTIONAL_PERSONA_FIELDS:
            value = getattr(p, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, data: Any, index: int) -> LabPersona:
        """One ready-file entry; PersonaError (one line naming `personas[index]` and the field) when it is bad."""
        persona = persona_from_mapping(data, index, ignore_unknown=True)
        keys = [data.get(k) for k in ("access_key_id", "secret_access_key")]
        if not all(isinstance(k, str) and k for k in keys):
            raise PersonaError(f"personas[{index}]: missing access_key_id or secret_access_key")
        services = data.get("services") or ()
        if not isinstance(services, list | tuple) or not all(isinstance(s, str) for s in services):
            raise PersonaError(f"personas[{index}].services must be a list of strings")
        return cls(persona, str(keys[0]), str(keys[1]), tuple(services))


OPTIONAL_PERSONA_FIELDS = (
    "instance_id",
    "function_arn",
    "cluster_arn",
    "namespace",
    "service_account",
    "oidc_provider_arn",
    "pod_name",
    "pod_uid",
    "public_ip",
    "unique_id",
)
"""Persona fields a ready-file entry carries only when they are set."""


@dataclass(frozen=True, slots=True)
class ReadyFile:
    """How to reach a running lab and what it holds, in our own types."""

    endpoint_url: str
    region: str
    access_key_id: str
    """The operator's keys: the base credentials every request starts from."""
    secret_access_key: str
    read_role_name: str
    hub: HubEndpoint
    """The hub as the impact matrix sees it (endpoint id empty: each endpoint fills in its own)."""
    hub_endpoints: Mapping[str, str] = field(default_factory=dict)
    """Short service -> hub endpoint id."""
    accounts: tuple[str, ...] = ()
    personas: tuple[LabPersona, ...] = ()
    config_defaults: Mapping[str, Any] = field(default_factory=dict)
    """Config values (our config.yaml schema) the lab implies; the user's file overrides them."""

    @property
    def credentials(self) -> dict[str, tuple[str, str]]:
        """Persona name -> (access key id, secret): the workloads this machine can act as."""
        return {p.name: (p.access_key_id, p.secret_access_key) for p in self.personas}


REQUIRED = ("endpoint_url", "region", "hub", "operator", "read_role_name", "accounts", "spokes", "personas")
"""Keys every ready-file has; a file without them is not a lab's."""


def read_ready_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ready-file's JSON object, checked for the keys every lab writes; UsageError (one line) otherwise."""
    from vpce_console.safeload import MB, read_text_capped

    try:
        text = read_text_capped(str(path), limit=64 * MB, what="lab ready-file")  # an org-scale lab is a few MB
    except UsageError as exc:
        raise UsageError(f"lab ready-file {exc}") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"lab ready-file {path} is not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"lab ready-file {path} is not a JSON object")
    _check_required(data, str(path))
    return data


def load_ready_file(path: str | os.PathLike[str]) -> ReadyFile:
    """Read and parse a ready-file; UsageError (one line) when it is missing, not a lab's, or malformed."""
    return parse_ready_file(read_ready_json(path), str(path))


def _check_required(data: Mapping[str, Any], where: str) -> None:
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise UsageError(f"lab ready-file {where} lacks {', '.join(missing)}")


def parse_ready_file(data: Mapping[str, Any], where: str) -> ReadyFile:
    """The typed ready-file from its JSON object (`where` names the file in messages); UsageError (one line)."""
    _check_required(data, where)
    try:
        operator = data["operator"]
        hub = data["hub"] or {}
        region = str(data.get("region") or "us-east-1")
        personas = []
        for index, item in enumerate(data["personas"] or ()):
            try:
                personas.append(LabPersona.from_json(item, index))
            except PersonaError as exc:
                raise UsageError(f"lab ready-file {where}: {exc}") from None
        return ReadyFile(
            endpoint_url=str(data["endpoint_url"]),
            region=region,
            access_key_id=str(operator["access_key_id"]),
            secret_access_key=str(operator["secret_access_key"]),
            read_role_name=str(data["read_role_name"]),
            hub=HubEndpoint(
                account_id=str(hub.get("account_id", "")),
                vpc_id=str(hub.get("vpc_id", "")),
                endpoint_id="",
                region=region,
                org_id=hub.get("org_id"),
                org_paths=tuple(hub.get("org_paths") or ()),
            ),
            hub_endpoints={str(k): str(v) for k, v in (hub.get("endpoints") or {}).items()},
            accounts=tuple(str(a) for a in data["accounts"] or ()),
            personas=tuple(personas),
            config_defaults=config_defaults(data, personas),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"lab ready-file {where} is malformed: {type(exc).__name__} {exc}") from None


def config_defaults(data: Mapping[str, Any], personas: Sequence[LabPersona] = ()) -> dict[str, Any]:
    """Config defaults a ready-file implies: its hub, spoke accounts, read role, log group, trail, propagation window
    and the lab's `config` section (already in our schema, over the rest)."""
    from vpce_console.config import deep_merge

    defaults: dict[str, Any] = {}
    hub = data.get("hub") or {}
    if hub.get("account_id"):
        defaults["hubs"] = [
            {
                k: v
                for k, v in (
                    ("account_id", hub.get("account_id")),
                    ("region", data.get("region")),
                    ("vpc_id", hub.get("vpc_id")),
                )
                if v
            }
        ]
    accounts: list[str] = []
    for spoke in data.get("spokes") or ():
        account = str(spoke.get("account_id", ""))
        if account and account not in accounts:
            accounts.append(account)
    if accounts:
        defaults["spokes"] = {"accounts": accounts}
    if data.get("read_role_name"):
        defaults["roles"] = {"read_role_name": data["read_role_name"]}
    if data.get("cloudtrail_log_group"):
        defaults["tail"] = {"log_groups": [data["cloudtrail_log_group"]]}
    trail = data.get("trail")
    if isinstance(trail, Mapping) and trail.get("bucket"):
        keys = ("bucket", "prefix", "organization_id", "account_id", "accounts", "regions", "athena")
        defaults["trail"] = {k: trail[k] for k in keys if trail.get(k) is not None}
    replay = _replay_facts(data, personas)
    if replay:
        defaults["replay"] = replay
    window = data.get("propagation_seconds")
    if isinstance(window, list) and window and all(isinstance(v, int | float) for v in window):
        # a change no probe can see is in force everywhere once the lab's longest window has passed
        defaults["watch"] = {"propagation_window_seconds": float(max(window)) + 1.0}
    suggestions = data.get("config")
    if isinstance(suggestions, Mapping):
        defaults = deep_merge(defaults, suggestions)
    return defaults


def _replay_facts(data: Mapping[str, Any], personas: Sequence[LabPersona]) -> dict[str, Any]:
    """What the lab's organization knows and a trail record does not: org id and paths per account, role tags."""
    org = data.get("organization") or {}
    org_id = org.get("id") if isinstance(org, Mapping) else None
    if not org_id:
        return {}
    paths: dict[str, list[str]] = {}
    hub = data.get("hub") or {}
    if hub.get("account_id"):
        paths[str(hub["account_id"])] = [str(p) for p in hub.get("org_paths") or ()]
    role_tags: dict[str, dict[str, str]] = {}
    for lab_persona in personas:
        persona = lab_persona.persona
        for path in persona.org_paths:
            if path not in paths.setdefault(persona.account_id, []):
                paths[persona.account_id].append(path)
        if persona.role_arn.startswith("arn:aws:iam::") and ":role/" in persona.role_arn:
            role_tags[persona.role_arn] = dict(persona.tags)
    accounts = {str(a): {"org_id": org_id, "org_paths": paths.get(str(a), [])} for a in data.get("accounts") or ()}
    return {"accounts": accounts, "role_tags": role_tags}
