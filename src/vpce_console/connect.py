"""Pick where AWS is: the real AWS (standard botocore credential chain) or an embedded lab.

This is the one place outside `lab/` that knows a lab exists. A lab differs from AWS only in the endpoint URL
and the credentials, which this module puts into a `Target`; everything downstream treats both the same.
"""

from __future__ import annotations

import argparse
import atexit
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpce_console.config import Config, load_config
from vpce_console.errors import UsageError


@dataclass(frozen=True, slots=True)
class Target:
    """Where requests go and with which base credentials."""

    endpoint_url: str | None
    """Endpoint URL for every service (a lab), or None for AWS's own endpoints."""
    region: str
    """Region to use; empty means the profile's/environment's region (resolved by the gateway)."""
    profile: str | None
    """Named profile for the standard credential chain (None: env, SSO cache, instance role …)."""
    access_key_id: str | None = None
    """Explicit base keys (a lab's operator); None means the standard chain."""
    secret_access_key: str | None = None
    read_role_name: str | None = None
    """Role name to assume in other accounts when the config does not name one (a lab's read role)."""
    is_lab: bool = False
    lab_ready: Mapping[str, Any] | None = None
    """The lab's ready-file, when running on a lab."""
    lab_handle: Any = field(default=None, compare=False, repr=False)
    """The running lab child started by `--lab` (kept alive for the life of the process)."""

    @property
    def description(self) -> str:
        """One line for headers and logs: `lab at http://…` or `AWS (profile x, us-east-1)`."""
        if self.is_lab:
            return f"lab at {self.endpoint_url}"
        profile = self.profile or "default chain"
        return f"AWS ({profile}, {self.region or 'profile region'})"


def resolve_target(args: argparse.Namespace, config: Config) -> Target:
    """The target named by the common flags: `--lab`, `--lab-ready FILE`, or AWS with `--profile/--region`."""
    region_flag = getattr(args, "region", None)
    if getattr(args, "lab", False):
        from vpce_console.lab.child import start_lab_child

        handle = start_lab_child(propagation=getattr(args, "lab_propagation", None), dns=getattr(args, "lab_dns", None))
        atexit.register(_stop_quietly, handle)
        return _lab_target(dict(handle.ready), region_flag, handle)
    ready_path = getattr(args, "lab_ready", None)
    if ready_path:
        from vpce_console.lab.ready import read_ready_file

        return _lab_target(read_ready_file(ready_path), region_flag, None)
    region = region_flag or next((hub.region for hub in config.hubs if hub.region), None) or ""
    return Target(endpoint_url=None, region=region, profile=getattr(args, "profile", None))


def connect(args: argparse.Namespace) -> tuple[Config, Target]:
    """Load the config and resolve the target; on a lab the ready-file supplies config defaults."""
    config = load_config(getattr(args, "config", None))
    target = resolve_target(args, config)
    if target.lab_ready is not None:
        config = load_config(getattr(args, "config", None), defaults=lab_config_defaults(target.lab_ready))
    return config, target


def lab_config_defaults(ready: Mapping[str, Any]) -> dict[str, Any]:
    """Config defaults a lab's ready-file implies: its hub, spoke accounts, read role, log group, suggestions."""
    defaults: dict[str, Any] = {}
    hub = ready.get("hub") or {}
    if hub.get("account_id"):
        defaults["hubs"] = [
            {
                k: v
                for k, v in (
                    ("account_id", hub.get("account_id")),
                    ("region", ready.get("region")),
                    ("vpc_id", hub.get("vpc_id")),
                )
                if v
            }
        ]
    accounts: list[str] = []
    for spoke in ready.get("spokes") or ():
        account = str(spoke.get("account_id", ""))
        if account and account not in accounts:
            accounts.append(account)
    if accounts:
        defaults["spokes"] = {"accounts": accounts}
    if ready.get("read_role_name"):
        defaults["roles"] = {"read_role_name": ready["read_role_name"]}
    if ready.get("cloudtrail_log_group"):
        defaults["tail"] = {"log_groups": [ready["cloudtrail_log_group"]]}
    trail = ready.get("trail")
    if isinstance(trail, Mapping) and trail.get("bucket"):
        keys = ("bucket", "prefix", "organization_id", "account_id", "accounts", "regions", "athena")
        defaults["trail"] = {k: trail[k] for k in keys if trail.get(k) is not None}
    replay = _lab_replay_facts(ready)
    if replay:
        defaults["replay"] = replay
    window = ready.get("propagation_seconds")
    if isinstance(window, list) and window and all(isinstance(v, int | float) for v in window):
        # a change no probe can see is in force everywhere once the lab's longest window has passed
        defaults["watch"] = {"propagation_window_seconds": float(max(window)) + 1.0}
    suggestions = ready.get("config")
    if isinstance(suggestions, Mapping):
        from vpce_console.config import deep_merge

        defaults = deep_merge(defaults, _translate_lab_config(suggestions, ready))
    return defaults


def _lab_replay_facts(ready: Mapping[str, Any]) -> dict[str, Any]:
    """What the lab's organization knows and a trail record does not: org id and paths per account, role tags."""
    org = ready.get("organization") or {}
    org_id = org.get("id") if isinstance(org, Mapping) else None
    if not org_id:
        return {}
    paths: dict[str, list[str]] = {}
    hub = ready.get("hub") or {}
    if hub.get("account_id"):
        paths[str(hub["account_id"])] = [str(p) for p in hub.get("org_paths") or ()]
    role_tags: dict[str, dict[str, str]] = {}
    for persona in ready.get("personas") or ():
        account = str(persona.get("account_id", ""))
        for path in persona.get("org_paths") or ():
            if path not in paths.setdefault(account, []):
                paths[account].append(str(path))
        if str(persona.get("role_arn", "")).startswith("arn:aws:iam::") and ":role/" in str(persona["role_arn"]):
            role_tags[str(persona["role_arn"])] = {str(k): str(v) for k, v in (persona.get("tags") or {}).items()}
    accounts = {str(a): {"org_id": org_id, "org_paths": paths.get(str(a), [])} for a in ready.get("accounts") or ()}
    return {"accounts": accounts, "role_tags": role_tags}


def _lab_target(ready: Mapping[str, Any], region_flag: str | None, handle: Any) -> Target:
    try:
        operator = ready["operator"]
        return Target(
            endpoint_url=str(ready["endpoint_url"]),
            region=region_flag or str(ready.get("region") or "us-east-1"),
            profile=None,
            access_key_id=str(operator["access_key_id"]),
            secret_access_key=str(operator["secret_access_key"]),
            read_role_name=ready.get("read_role_name"),
            is_lab=True,
            lab_ready=ready,
            lab_handle=handle,
        )
    except (KeyError, TypeError) as exc:
        raise UsageError(f"lab ready-file is missing {exc}") from None


def _stop_quietly(handle: Any) -> None:
    try:
        handle.stop()
    except Exception:
        return


def _translate_lab_config(suggestions: Mapping[str, Any], ready: Mapping[str, Any]) -> dict[str, Any]:
    """Map the lab's `config` suggestions onto our config keys; keys we do not use are ignored (not user input)."""
    out: dict[str, Any] = {}
    hub_account = suggestions.get("hub_account_id")
    region = suggestions.get("region") or ready.get("region")
    hub_vpcs = suggestions.get("hub_vpc_ids") or []
    if hub_account:
        out["hubs"] = [
            {k: v for k, v in (("account_id", hub_account), ("region", region), ("vpc_id", vpc)) if v}
            for vpc in (hub_vpcs or [None])
        ]
    forbidden: list[str] = []
    for selector in [*(suggestions.get("forbidden_selectors") or ()), *(suggestions.get("forbidden") or ())]:
        if isinstance(selector, str):
            forbidden.append(selector)
        elif isinstance(selector, Mapping) and selector.get("vpc_id"):
            forbidden.append(str(selector["vpc_id"]))
        elif isinstance(selector, Mapping) and selector.get("tag"):
            forbidden.append(f"{selector['tag']}={selector.get('value', '')}")
    if forbidden:
        out["forbidden"] = forbidden
    expected = suggestions.get("expected_services")
    if isinstance(expected, Mapping):
        out["expected_services"] = {str(k): list(v) for k, v in expected.items()}
    if suggestions.get("read_role_name"):
        out["roles"] = {"read_role_name": suggestions["read_role_name"]}
    return out
