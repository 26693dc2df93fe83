"""The plan step's replay line: what this draft would have done to the endpoint's calls of the last 7 days.

The editor may already have replayed this very draft (the backend caches it); otherwise the replay runs once,
with a time limit. Every way it can go ends in a line the plan step shows: apply waits until it was seen.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from vpce_console.tui.backend import ReplayDoc

if TYPE_CHECKING:
    from vpce_console.tui.backend import Backend

REPLAY_TIMEOUT_SECONDS = 180.0
"""The plan step's replay gives up after this (a first sync of a big trail): it says so, and that counts as seen."""
REPLAY_PENDING = "the replay of the last 7 days is still running: the plan step shows its line, then n moves on"
REPLAY_RUNNING = "replaying the last 7 days of the trail … (n waits for it)"
"""The line shown while the replay runs."""
NO_TRAIL = "not replayed: this console has no trail to replay (nothing checked against real calls)"

ReplayResult = tuple[ReplayDoc | None, str]
"""The replay (`ReplayReport.to_json()`, None when there is none) and the line the plan step shows."""


def known_replay(backend: Backend | None, endpoint_id: str, draft: str) -> ReplayResult | None:
    """The replay of this draft without running one: the editor's cached run, or why there can be none.

    None means a replay has to run (`replay_draft`).
    """
    from vpce_console.services.replay_text import observed_line

    if backend is None:
        return None, NO_TRAIL
    doc = backend.cached_replay(endpoint_id, draft)
    if doc is not None:
        return doc, observed_line(doc)
    return None


async def replay_draft(backend: Backend | None, endpoint_id: str, draft: str) -> ReplayResult:
    """Replay the draft against the last 7 days of the trail; a failure is said plainly, never a dead end."""
    from vpce_console.services.replay_text import observed_line

    if backend is None:
        return None, "not replayed: this console has no trail to replay"
    try:
        doc = await asyncio.wait_for(backend.replay(endpoint_id, draft), REPLAY_TIMEOUT_SECONDS)
    except TimeoutError:
        return None, f"not replayed: the replay did not finish in {REPLAY_TIMEOUT_SECONDS:.0f} s"
    except Exception as exc:  # the replay is advice: say why it is missing and let the person go on
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"not replayed: {first} (nothing checked against real calls)"
    return doc, observed_line(doc)
