"""The rollout's vocabulary: events, options, context, summary and exit codes, and the write gate."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vpce_console.errors import UsageError
from vpce_console.services.journal import Journal, sha256_text
from vpce_console.services.probes import ProbeIdentity
from vpce_console.services.rollout_events import Refused, RolloutEvent
from vpce_console.services.watch import (
    ALLOW,
    EXPLICIT_DENY,
    WatchProbe,
)

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway
    from vpce_console.aws.writes import EndpointPolicy
    from vpce_console.policy.personas import HubEndpoint, Persona
    from vpce_console.services.personas import PersonaSet
    from vpce_console.services.plan import RolloutPlan


CRASH_ENV = "VPCE_CRASH_AFTER"
"""Test hook: kill -9 this process right after the named step was journaled (journal, dry_run, modify, verify,
watch), so crash recovery is tested with a real killed process."""


PASSIVE_PROBE = WatchProbe("passive", ALLOW, EXPLICIT_DENY, "CloudTrail VpceAccessDenied evidence")


@dataclass(frozen=True, slots=True)
class RolloutSummary:
    """How a rollout (or rollback) ended: the last JSON line and the exit code."""

    status: str
    """converged | unobserved (written; no probe could see it) | timed_out | refused | rolled_back (the denial guard
    undid the change) | superseded (someone else wrote during the watch) | written_unverified (the write succeeded,
    the read-back failed) | unreachable (lost the endpoint mid-watch)."""
    propagation_seconds: float | None
    poll_seconds: float
    probes: int
    journal_id: str | None
    reason: str = ""
    flaps: int = 0
    mode: str = "probes"
    """probes | passive | none: what the watch relied on."""
    converged_at: float | None = None
    """Clock time (epoch seconds) the watch first converged."""
    kind: str = "apply"
    """apply | rollback."""

    @property
    def exit_code(self) -> int:
        """0 converged, 3 unobserved, 4 superseded, 5 written but not verified, 1 everything else (timed out, …)."""
        return EXIT_CODES.get(self.status, 1)

    def to_json(self) -> dict[str, Any]:
        """The summary object (the last line of JSON output)."""
        return {
            "event": "summary",
            "status": self.status,
            "propagation_seconds": None if self.propagation_seconds is None else round(self.propagation_seconds, 3),
            "poll_seconds": self.poll_seconds,
            "probes": self.probes,
            "journal_id": self.journal_id,
            "reason": self.reason,
            "flaps": self.flaps,
            "mode": self.mode,
            "converged_at": self.converged_at,
            "kind": self.kind,
        }


EXIT_CODES = {"converged": 0, "unobserved": 3, "superseded": 4, "written_unverified": 5, "unreachable": 5}
"""Exit code per final status (docs/cli/rollout.md, "Exit codes of a write"); every other status is 1."""


@dataclass(frozen=True, slots=True)
class RolloutOptions:
    """What the user asked for."""

    endpoint_id: str
    policy_text: str
    base_text: str | None = None
    poll_seconds: float = 10.0
    timeout_seconds: float = 900.0
    required_streak: int = 3
    samples: int = 8
    """Calls per probe per round; a round looks new only if every sample does (hosts converge at random)."""
    settle_seconds: float | None = None
    """Keep watching this long after convergence to catch flapping (default: two poll intervals)."""
    rollback_on_denials: int | None = None
    """Roll back when the new policy causes more than N endpoint denials per minute after convergence."""
    guard_seconds: float = 60.0
    """How long the denial guard watches after convergence."""
    force_lint: bool = False
    account_id: str | None = None
    """Hub account that owns the endpoint (None: the caller's)."""
    propagation_window_seconds: float = 600.0
    """How long a change no probe can observe is waited for before it ends UNOBSERVED (AWS: "a few minutes")."""


@dataclass(slots=True)
class RolloutContext:
    """Collaborators a rollout needs, passed in (never looked up globally)."""

    gateway: AwsGateway
    journal: Journal
    identities: Sequence[ProbeIdentity] = ()
    """Whom probes may act as (self and configured probe roles)."""
    personas: Sequence[Persona] = ()
    """Workloads for the impact preview and passive-evidence matching."""
    log_groups: Sequence[str] = ()
    """CloudTrail log groups for passive evidence and the denial guard."""
    persona_set: PersonaSet | None = None
    """Personas, hub and zone associations for the impact (NAT-path personas never count); None: `personas`."""
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)


Emit = Callable[[RolloutEvent], None]


class _Unverified(Exception):
    """ModifyVpcEndpoint succeeded but the read-back failed: the change is written, not verified."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Refused(Exception):
    """A step refused: nothing (more) is written; becomes the `Refused` event and a `refused` summary."""

    def __init__(
        self,
        reason: str,
        *,
        step: str | None = None,
        codes: Sequence[str] | None = None,
        diff: str | None = None,
        journal_id: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.step = step
        self.codes = None if codes is None else tuple(codes)
        self.diff = diff
        self.journal_id = journal_id

    def event(self) -> Refused:
        """The refusal as the event the CLI prints and the console shows."""
        return Refused(reason=self.reason, step=self.step, codes=self.codes, diff=self.diff, journal_id=self.journal_id)


def _maybe_crash(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _same_document(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return bool(json.loads(a) == json.loads(b))
    except (ValueError, RecursionError):
        return False


def _hub(endpoint: EndpointPolicy, account_id: str, region: str) -> HubEndpoint:
    from vpce_console.policy.personas import HubEndpoint

    return HubEndpoint(
        account_id=endpoint.owner_id or account_id,
        vpc_id=endpoint.vpc_id,
        endpoint_id=endpoint.endpoint_id,
        region=region,
    )


def _blank_plan(endpoint: EndpointPolicy, caller: str, before: str, after: str) -> RolloutPlan:
    from vpce_console.services.plan import RolloutPlan

    return RolloutPlan(
        "apply",
        endpoint.endpoint_id,
        endpoint.service,
        caller,
        sha256_text(before)[:12],
        sha256_text(after)[:12],
        (),
        "",
    )


def check_write_gate(*, allow_write: bool, config_allows: bool, confirm: str | None, endpoint_id: str) -> None:
    """Writes need --allow-write (or config write mode) and the endpoint id typed out; UsageError otherwise."""
    if not (allow_write or config_allows):
        raise UsageError("read-only: pass --allow-write (or set allow_write: true in the config) to change a policy")
    if confirm != endpoint_id:
        raise UsageError(f"--confirm must repeat the endpoint id exactly ({endpoint_id}) to write")
