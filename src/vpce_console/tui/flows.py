"""The write-and-watch flows this console runs, one per endpoint: they run on the app and outlive their screen.

Leaving a screen must not cut a change's watch short: its journal entry would stay unfinished and the next change
to the endpoint would be refused. A watch keeps its entry open while it settles after CONVERGED; a new change in
that window cuts the settle short instead of being refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from textual.worker import Worker

Flow = tuple[Worker[None], Callable[[], bool]]
"""A running write-and-watch and whether it has converged (only its settle is left)."""

STILL_WATCHING = "this console is still watching the last change on this endpoint: wait for it to converge"


class EndpointFlows:
    """The newest write-and-watch per endpoint (shared by every screen through the screen context)."""

    def __init__(self) -> None:
        self.latest: dict[str, Flow] = {}

    async def settle_endpoint(self, endpoint_id: str) -> str:
        """Let a new change on `endpoint_id` start: cut short the settle of a converged watch this console runs.

        Cancelling ends it as converged (settle cut short) and frees the lease. Returns why the endpoint is still
        busy (a watch not converged yet), or '' when it is free.
        """
        return await settle_flow(self.latest.get(endpoint_id))

    def start(
        self,
        endpoint_id: str,
        flow: Coroutine[Any, Any, None],
        *,
        superseded: Sequence[Worker[None]],
        converged: Callable[[], bool],
        run: Callable[[Coroutine[Any, Any, None]], Worker[None]],
    ) -> Worker[None]:
        """Run `flow` with `run` (the app's worker runner) once the flows it replaces have closed, newest first.

        `superseded` are the starting screen's own watches (cancelled here; their journal entry and lease close
        first); another screen's converged watch of the same endpoint, still settling, is cut short.
        """
        for worker in superseded:
            worker.cancel()
        previous = self.latest.get(endpoint_id)

        async def after_settle() -> None:
            try:
                for worker in superseded:
                    with contextlib.suppress(Exception):
                        await worker.wait()
                if previous is not None:
                    await settle_flow(previous)
            except BaseException:
                flow.close()  # never started: no "coroutine was never awaited"
                raise
            await flow

        worker = run(after_settle())
        self.latest[endpoint_id] = (worker, converged)
        return worker


async def settle_flow(flow: Flow | None) -> str:
    """`settle_endpoint` for one flow (a screen starting its own write passes the one it replaces)."""
    if flow is None or flow[0].is_finished:
        return ""
    worker, converged = flow
    if not converged():
        return STILL_WATCHING
    worker.cancel()
    with contextlib.suppress(Exception):
        await worker.wait()
    return ""
