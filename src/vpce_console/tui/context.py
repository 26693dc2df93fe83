"""What the screens need from the console, handed down at construction: screens never reach into the app.

One `ScreenContext` per app, shared by every screen it opens. The app fills in `backend` once connected; a screen
reads it when it needs it (a worker started before that finds None and does nothing). Navigation goes the other
way, as messages (`tui.navigation`), so no screen imports the app and any screen can be mounted on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from vpce_console.tui.backend import Backend
from vpce_console.tui.flows import EndpointFlows


@dataclass
class ScreenContext:
    """The console's settings, clocks, backend and running flows, as the screens see them."""

    read_only: bool = True
    """False only with --allow-write (or config); dangerous actions check it."""
    backend: Backend | None = None
    """The services, once connected (None before: the first frame comes before the connection)."""
    flows: EndpointFlows = field(default_factory=EndpointFlows)
    """The newest write-and-watch per endpoint (it outlives the screen that started it)."""
    clock: Callable[[], float] = time.time
    """Wall clock (ages, timestamps)."""
    monotonic: Callable[[], float] = time.monotonic
    """Elapsed-time clock (the rollout's timer)."""
    watch_timeout: float | None = None
    """Propagation watch limit from the command line (None: the services' default)."""
    tail_enabled: bool = True
    """False with --no-tail: no live denials."""
    trail_enabled: bool = True
    """False with --no-trail: the org trail is not read (its columns say so)."""
    keymap: Mapping[str, str] = field(default_factory=dict)
    """The person's key overrides (the help screen shows the keys in force)."""
    theme_names: tuple[str, ...] = ()
    """Themes `:theme` completes."""
