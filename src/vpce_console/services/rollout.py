"""Guided rollout of an endpoint policy: plan, compare-and-swap, journal, dry run, write, verify, watch, roll back.

UI-agnostic: progress leaves as typed frozen events (`services/rollout_events.py`, one per kind) through an `emit`
callback (the CLI prints them, the console folds them into its rollout view). Time comes from `clock`/`sleep`, so
the watch is testable; AWS comes in through the gateway and the `aws/` write, log and probe functions.
"""

from __future__ import annotations

from vpce_console.services.rollout_events import RolloutEvent
from vpce_console.services.rollout_model import (
    CRASH_ENV,
    EXIT_CODES,
    PASSIVE_PROBE,
    Emit,
    RolloutContext,
    RolloutOptions,
    RolloutSummary,
    check_write_gate,
)
from vpce_console.services.rollout_rollback import RollbackSteps

__all__ = [
    "CRASH_ENV",
    "EXIT_CODES",
    "PASSIVE_PROBE",
    "Emit",
    "Rollout",
    "RolloutContext",
    "RolloutEvent",
    "RolloutOptions",
    "RolloutSummary",
    "check_write_gate",
]


class Rollout(RollbackSteps):
    """One guided rollout or rollback against one endpoint (plan, apply, watch and rollback steps, composed)."""
