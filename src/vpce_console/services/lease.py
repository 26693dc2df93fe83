"""One writer per endpoint: a local file lock plus a lease in the hub account, held from before the dry run until
the watch ends.

AWS gives `ModifyVpcEndpoint` no compare-and-swap, so two operators who read the same deployed document would
both write and one change would silently vanish. The lease is an SSM parameter created only if absent
(`aws/lease.py`), carrying who holds it, since when, the journal id and an expiry; it is renewed while the
watch runs and released on every exit path. A holder that died leaves a lease that expires; breaking it takes
`--break-stale-lease LEASE_ID` (the id printed in the refusal, typed out). The local lock
(`$STATE/locks/<endpoint>.lock`, flock) keeps two processes on one bastion from interleaving their journal
entries and from recovering each other's unfinished change.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vpce_console.errors import AwsError
from vpce_console.paths import private_dir, state_dir
from vpce_console.services.rollout_events import Journaled, LeaseChanged, Refused, RolloutEvent

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway
    from vpce_console.services.rollout_base import RolloutBase
    from vpce_console.services.rollout_model import RolloutSummary

LEASE_SECONDS = 300.0
"""A lease lives this long past its last renewal; renewed every third of it while the rollout runs."""


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """What the lease parameter holds (JSON)."""

    lease_id: str
    """Random id of this holding; typed out to break a stale lease."""
    endpoint_id: str
    holder: str
    """Caller ARN of the holder."""
    host: str
    pid: int
    since: float
    expires: float
    journal_id: str | None = None

    def to_value(self) -> str:
        """The parameter value."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_value(cls, text: str, endpoint_id: str) -> LeaseInfo:
        """Parse a stored lease; an unreadable one counts as expired, held by `?` (breakable with its id `?`)."""
        try:
            data = json.loads(text)
            return cls(
                lease_id=str(data["lease_id"]),
                endpoint_id=str(data.get("endpoint_id") or endpoint_id),
                holder=str(data.get("holder") or "?"),
                host=str(data.get("host") or "?"),
                pid=int(data.get("pid") or 0),
                since=float(data.get("since") or 0.0),
                expires=float(data.get("expires") or 0.0),
                journal_id=data.get("journal_id") if isinstance(data.get("journal_id"), str) else None,
            )
        except (ValueError, TypeError, KeyError, RecursionError):
            return cls("?", endpoint_id, "?", "?", 0, 0.0, 0.0)

    def describe(self) -> str:
        """`arn:… on host (pid 12) since …, journal …, expires …` for refusals."""
        journal = f", journal {self.journal_id}" if self.journal_id else ""
        return (
            f"{self.holder} on {self.host} (pid {self.pid}) since {_iso(self.since)}{journal}, "
            f"lease {self.lease_id} expires {_iso(self.expires)}"
        )


def _holder_gone_here(info: LeaseInfo) -> bool:
    """True when the holder ran on this machine and its process no longer exists (killed, crashed)."""
    if info.host != socket.gethostname() or info.pid <= 0 or info.pid == os.getpid():
        return False
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


class LeaseRefused(Exception):
    """Somebody else holds the endpoint (or its lease is stale and was not broken)."""

    def __init__(self, reason: str, holder: LeaseInfo | None = None, *, stale: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.holder = holder
        self.stale = stale
        """The holder is gone or past its expiry: typing `holder.lease_id` (`--break-stale-lease`) breaks it."""


class _LocalLock:
    """An exclusive flock on `$STATE/locks/<endpoint>.lock`, non-blocking; the file names the holding pid."""

    def __init__(self, endpoint_id: str, root: Path | None = None) -> None:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in endpoint_id)
        self.path = (root or state_dir()) / "locks" / f"{safe}.lock"
        self.fd: int | None = None

    def acquire(self) -> None:
        private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 64, 0).decode("utf-8", "replace").strip() or "?"
            os.close(fd)
            raise LeaseRefused(
                f"another vpce process on this machine (pid {other}) is changing this endpoint; wait for it to end"
            ) from None
        os.fchmod(fd, 0o600)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
            os.close(self.fd)  # closing drops the flock
            self.fd = None


Notify = Callable[[LeaseChanged], None]
"""Where lease events go (the rollout's `emit`: they are lines of its output)."""


class EndpointLease:
    """The local lock and the hub-account lease for one endpoint, for the length of one rollout or rollback."""

    def __init__(
        self,
        gateway: AwsGateway,
        endpoint_id: str,
        *,
        account_id: str | None,
        holder: str,
        break_token: str | None = None,
        ttl: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        notify: Notify | None = None,
        state: Path | None = None,
    ) -> None:
        self.gateway = gateway
        self.endpoint_id = endpoint_id
        self.account_id = account_id
        self.holder = holder
        self.break_token = break_token
        self.ttl = ttl
        self.clock = clock
        self.sleep = sleep
        self.notify: Notify = notify or (lambda event: None)
        self.local = _LocalLock(endpoint_id, state)
        self.info: LeaseInfo | None = None
        self.lost = False
        """True once a renewal found the lease gone or someone else's (it was broken as stale)."""
        self._renewer: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def _fresh(self) -> LeaseInfo:
        now = self.clock()
        return LeaseInfo(
            lease_id=uuid.uuid4().hex[:12],
            endpoint_id=self.endpoint_id,
            holder=self.holder,
            host=socket.gethostname(),
            pid=os.getpid(),
            since=now,
            expires=now + self.ttl,
        )

    async def acquire(self) -> LeaseInfo:
        """Take the local lock, then create the lease; LeaseRefused names whoever holds it."""
        from vpce_console.aws.lease import create_lease, delete_lease, read_lease

        self.local.acquire()
        try:
            for _ in range(3):  # a lease released between our create and our read: try again
                mine = self._fresh()
                if await create_lease(self.gateway, self.endpoint_id, mine.to_value(), account_id=self.account_id):
                    return self._held(mine, "acquired")
                stored = await read_lease(self.gateway, self.endpoint_id, account_id=self.account_id)
                if stored is None:
                    continue
                other = LeaseInfo.from_value(stored.value, self.endpoint_id)
                gone = _holder_gone_here(other)
                if other.expires > self.clock() and not gone:
                    raise LeaseRefused(f"{self.endpoint_id} is being changed by {other.describe()}", other)
                if self.break_token != other.lease_id:
                    why = "its process is gone from this machine" if gone else "past its expiry: its holder is gone?"
                    raise LeaseRefused(
                        f"{self.endpoint_id} has a stale lease ({why}): {other.describe()}; check, then break it "
                        f"with --break-stale-lease {other.lease_id}",
                        other,
                        stale=True,
                    )
                await delete_lease(self.gateway, self.endpoint_id, account_id=self.account_id)
                self.notify(LeaseChanged(action="broken", previous=other.describe()))
                self.break_token = None  # the typed id breaks that one lease, not whatever comes next
            raise LeaseRefused(f"{self.endpoint_id}: could not take the lease (it keeps changing hands)")
        except BaseException:
            self.local.release()
            raise

    def _held(self, info: LeaseInfo, action: str) -> LeaseInfo:
        self.info = info
        self.notify(LeaseChanged(action=action, lease_id=info.lease_id, expires=_iso(info.expires)))
        self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())
        return info

    def set_journal_id(self, journal_id: str) -> None:
        """Record the change's journal id in the lease (from an event callback, so it runs as a task)."""
        if self.info is None or self.info.journal_id == journal_id:
            return
        self.info = replace(self.info, journal_id=journal_id)
        task = asyncio.get_running_loop().create_task(self.renew())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def renew(self) -> None:
        """Push the expiry out, if the lease is still ours; otherwise mark it lost and say so."""
        from vpce_console.aws.lease import overwrite_lease, read_lease

        if self.info is None or self.lost:
            return
        try:
            stored = await read_lease(self.gateway, self.endpoint_id, account_id=self.account_id)
            current = None if stored is None else LeaseInfo.from_value(stored.value, self.endpoint_id)
            if current is None or current.lease_id != self.info.lease_id:
                self.lost = True
                self.notify(LeaseChanged(action="lost", holder=current.describe() if current else None))
                return
            self.info = replace(self.info, expires=self.clock() + self.ttl)
            await overwrite_lease(self.gateway, self.endpoint_id, self.info.to_value(), account_id=self.account_id)
        except AwsError as exc:  # the next renewal tries again; the lease has two more thirds of its life
            self.notify(LeaseChanged(action="renew-failed", error=str(exc)))

    async def _renew_forever(self) -> None:
        while True:
            await self.sleep(self.ttl / 3)
            await self.renew()

    async def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours; always drops the local lock."""
        from vpce_console.aws.lease import delete_lease, read_lease

        try:
            if self._renewer is not None:
                self._renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._renewer
                self._renewer = None
            for task in list(self._pending):
                with contextlib.suppress(Exception):
                    await task
            if self.info is not None and not self.lost:
                try:
                    stored = await read_lease(self.gateway, self.endpoint_id, account_id=self.account_id)
                    current = None if stored is None else LeaseInfo.from_value(stored.value, self.endpoint_id)
                    if current is not None and current.lease_id == self.info.lease_id:
                        await delete_lease(self.gateway, self.endpoint_id, account_id=self.account_id)
                    self.notify(LeaseChanged(action="released", lease_id=self.info.lease_id))
                except AwsError as exc:
                    self.notify(LeaseChanged(action="release-failed", error=str(exc), expires=_iso(self.info.expires)))
            self.info = None
        finally:
            self.local.release()


async def run_leased(
    lease: EndpointLease, rollout: RolloutBase, work: Callable[[], Awaitable[RolloutSummary]]
) -> RolloutSummary:
    """Run one write (`work`, a rollout/rollback/resume coroutine factory) holding `lease`, released on every exit.

    A refused lease becomes the rollout's own `refused` event and summary (exit 1), naming the holder.
    """
    from vpce_console.services.rollout import RolloutSummary

    original = rollout._emit

    def tee(event: RolloutEvent) -> None:
        original(event)
        if isinstance(event, Journaled) and event.journal_id:
            lease.set_journal_id(event.journal_id)

    lease.notify = rollout.emit
    try:
        await lease.acquire()
    except LeaseRefused as refused:
        rollout.emit(Refused(reason=refused.reason, holder=refused.holder, by_lease=True, stale=refused.stale))
        return RolloutSummary("refused", None, 0.0, 0, None, reason=refused.reason)
    rollout._emit = tee
    try:
        return await work()
    finally:
        rollout._emit = original
        await lease.release()
