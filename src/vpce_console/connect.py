"""Pick where AWS is: the real AWS (standard botocore credential chain) or an embedded lab.

This is the one place outside `lab/` that knows a lab exists. A lab differs from AWS only in the endpoint URL
and the credentials, which this module puts into a `Target`; everything downstream treats both the same. The
lab's ready-file (`readyfile.ReadyFile`) travels beside the target, never inside it: the commands that use the
lab's personas get it from `connect_lab`.
"""

from __future__ import annotations

import argparse
import atexit
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpce_console.config import Config, load_config

if TYPE_CHECKING:
    from vpce_console.readyfile import ReadyFile


@dataclass(frozen=True, slots=True)
class Target:
    """Where requests go and with which base credentials; a lab differs from AWS only in these."""

    endpoint_url: str | None
    """Endpoint URL for every service (a lab), or None for AWS's own endpoints."""
    region: str
    """Region to use; empty means the profile's/environment's region (resolved by the gateway)."""
    profile: str | None
    """Named profile for the standard credential chain (None: env, SSO cache, instance role …)."""
    access_key_id: str | None = None
    """Explicit base keys (a lab's operator); None means the standard chain."""
    secret_access_key: str | None = None
    is_lab: bool = False
    """True when the endpoint URL is a lab's (the header's LAB badge, faster polling, no self-probe)."""

    @property
    def description(self) -> str:
        """One line for headers and logs: `lab at http://…` or `AWS (profile x, us-east-1)`."""
        if self.is_lab:
            return f"lab at {self.endpoint_url}"
        profile = self.profile or "default chain"
        return f"AWS ({profile}, {self.region or 'profile region'})"


def lab_ready(args: argparse.Namespace) -> ReadyFile | None:
    """The lab named by the common flags, read once: `--lab` starts one (stopped at exit), `--lab-ready FILE`."""
    from vpce_console.readyfile import load_ready_file, parse_ready_file

    if getattr(args, "lab", False):
        from vpce_console.lab.child import start_lab_child

        handle = start_lab_child(propagation=getattr(args, "lab_propagation", None), dns=getattr(args, "lab_dns", None))
        atexit.register(_stop_quietly, handle)  # also keeps the handle (and so the child) alive with the process
        return parse_ready_file(handle.ready, str(handle.ready_file))
    ready_path = getattr(args, "lab_ready", None)
    if ready_path:
        return load_ready_file(ready_path)
    return None


def resolve_target(args: argparse.Namespace, config: Config, ready: ReadyFile | None = None) -> Target:
    """The target: a lab's endpoint and operator keys, or AWS with `--profile/--region` (else the config's region)."""
    region_flag = getattr(args, "region", None)
    if ready is not None:
        return Target(
            endpoint_url=ready.endpoint_url,
            region=region_flag or ready.region,
            profile=None,
            access_key_id=ready.access_key_id,
            secret_access_key=ready.secret_access_key,
            is_lab=True,
        )
    region = region_flag or next((hub.region for hub in config.hubs if hub.region), None) or ""
    return Target(endpoint_url=None, region=region, profile=getattr(args, "profile", None))


def connect(args: argparse.Namespace) -> tuple[Config, Target]:
    """Load the config and resolve the target; on a lab the ready-file supplies config defaults."""
    config, target, _ = connect_lab(args)
    return config, target


def connect_lab(args: argparse.Namespace) -> tuple[Config, Target, ReadyFile | None]:
    """`connect`, plus the lab's ready-file (its personas and keys) for the commands that use them."""
    path = getattr(args, "config", None)
    if getattr(args, "lab", False):
        load_config(path)  # a bad config fails in milliseconds, before the lab starts (seconds) and is stopped again
    ready = lab_ready(args)
    config = load_config(path, defaults=ready.config_defaults if ready else None)
    return config, resolve_target(args, config, ready), ready


def _stop_quietly(handle: Any) -> None:
    try:
        handle.stop()
    except Exception:
        return
