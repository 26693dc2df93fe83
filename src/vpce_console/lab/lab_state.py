"""The lab gateway's state (world, enforcement, trail, limits) and its way to moto; handlers build on it."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

from vpce_console.lab.athena import AthenaLab
from vpce_console.lab.calls import (
    StartResponse,
    WsgiApp,
)
from vpce_console.lab.cloudtrail import Trail
from vpce_console.lab.enforce import Enforcer
from vpce_console.lab.errors import WireResponse
from vpce_console.lab.faults import FaultTable
from vpce_console.lab.limits import RateLimiter
from vpce_console.lab.personas import Registry
from vpce_console.lab.propagation import Propagation
from vpce_console.lab.trail import TrailDelivery
from vpce_console.lab.world import World


class LabState:
    """What every handler reads and writes, and the forward to moto behind it."""

    def __init__(
        self,
        moto_app: WsgiApp,
        world: World,
        *,
        propagation: Propagation,
        faults: FaultTable,
        limiter: RateLimiter | None,
        moto_lock: threading.RLock,
    ) -> None:
        self.moto = moto_app
        self.world = world
        self.propagation = propagation
        self.faults = faults
        self.limiter = limiter
        self.lock = moto_lock
        self.registry = Registry(world)
        self.trail = Trail(world.region, moto_lock=moto_lock)
        self.enforcer = Enforcer(world, propagation, moto_lock=moto_lock)
        self.delivery = TrailDelivery(
            world, moto_lock=moto_lock, log_writer=lambda acct, rec: self.trail._write(acct, rec, lookup=False)
        )
        """The org trail in the log-archive bucket (lab/trail.py)."""
        self.athena = AthenaLab(None, self.delivery.put_result, self.delivery.ready()["athena"]["output_location"])
        """Athena over the trail's objects (lab/athena.py)."""
        self.authorizations: dict[tuple[str, str], list[tuple[str, str]]] = {}
        """(zone owner, zone id) -> authorized (vpc id, region) pairs: moto has no association authorizations."""
        self.traffic: Any = None
        self.closing = threading.Event()
        """Set when the lab stops, so live-tail streams end."""
        """The background TrafficGenerator (set by the server once it knows its URL)."""
        self._pages: dict[tuple[str, str, str], tuple[float, tuple[str, list[tuple[str, str]], bytes]]] = {}
        self.stats = {"requests": 0, "denied": 0, "throttled": 0, "faults": 0}

    @staticmethod
    def _drop(environ: Mapping[str, Any], start_response: StartResponse) -> list[bytes]:
        """Shut the client's socket down mid-request, as a dropped connection looks to the SDK."""
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        start_response("500 Internal Server Error", [("Content-Length", "0"), ("Connection", "close")])
        return [b""]

    @staticmethod
    def _send(start_response: StartResponse, r: WireResponse) -> list[bytes]:
        headers = [*r.headers, ("Content-Length", str(len(r.body)))]
        start_response(r.status_line, headers)
        return [r.body]

    def _forward(
        self, environ: Mapping[str, Any], body: bytes, account: str | None
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        if account:
            env["HTTP_X_MOTO_ACCOUNT_ID"] = account
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"] = status
            captured["headers"] = headers
            return lambda _b: None

        with self.lock:
            result = self.moto(env, start)
            try:
                data = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(data))))
        return captured.get("status", "500 Internal Server Error"), headers, data
