"""The gateway to AWS: sessions, assume-role per account, retries, client-side rate limits, call statistics.

Everything that talks to AWS goes through one `AwsGateway`. It owns the aiobotocore session (imported lazily,
so the TUI's first frame is not delayed), one client per (service, account, region), credentials per account
(the caller's own, or the configured read role assumed in other accounts and cached until near expiry), the
token buckets that keep us under AWS's documented limits, and the counters the inventory reports. SDK
exceptions leave `client()` only as `AwsError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from vpce_console.aws.errors import AwsCallError, map_exception
from vpce_console.aws.ratelimit import DEFAULT_LIMITS, Limit, RateLimiter
from vpce_console.errors import AwsError

if TYPE_CHECKING:
    from vpce_console.config import Config
    from vpce_console.connect import Target

T = TypeVar("T")
Clock = Callable[[], float]

_current_operation: contextvars.ContextVar[str] = contextvars.ContextVar("vpce_current_operation", default="")

SLOW_LANE = frozenset({"route53", "route53profiles", "cloudtrail", "organizations"})
"""Services whose per-account limits are a few requests per second: few in flight, paced at send time."""
SLOW_LANE_CONCURRENCY = 4

CREDENTIAL_REFRESH_MARGIN = 300.0
"""Seconds before expiry at which assumed-role credentials are renewed."""


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """Who the console is (sts:GetCallerIdentity), shown in the header."""

    account_id: str
    arn: str
    user_id: str

    @property
    def partition(self) -> str:
        """`aws`, `aws-cn` or `aws-us-gov`, from the caller ARN."""
        parts = self.arn.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else "aws"


@dataclass(slots=True)
class GatewayStats:
    """Counters of what one gateway sent, for the inventory's `stats` and the benchmark."""

    api_calls: Counter[str] = field(default_factory=Counter)
    """`service:Operation` -> HTTP requests sent (retries included: this is what AWS counts)."""
    calls: Counter[str] = field(default_factory=Counter)
    """`service:Operation` -> SDK calls made (one per page; retries not included)."""
    route53_calls_by_account: Counter[str] = field(default_factory=Counter)
    """Account -> Route 53 requests sent; the Route 53 limit (5/s) is per account."""
    profile_calls_by_account: Counter[str] = field(default_factory=Counter)
    """`account/region` -> Route 53 Profiles requests sent; their limit (5/s) is per account per Region."""
    throttled: Counter[str] = field(default_factory=Counter)
    """`service:Operation` -> throttling answers received."""
    server_errors: Counter[str] = field(default_factory=Counter)
    """`service:Operation` -> 5xx answers or dropped connections."""
    assume_role_calls: int = 0
    rate_limit_wait_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy with sorted keys."""
        return {
            "api_calls": dict(sorted(self.api_calls.items())),
            "route53_calls_by_account": dict(sorted(self.route53_calls_by_account.items())),
            "profile_calls_by_account": dict(sorted(self.profile_calls_by_account.items())),
            "throttled": dict(sorted(self.throttled.items())),
            "server_errors": dict(sorted(self.server_errors.items())),
            "retries": max(0, sum(self.api_calls.values()) - sum(self.calls.values())),
            "rate_limit_wait_seconds": round(self.rate_limit_wait_seconds, 3),
        }


@dataclass(slots=True)
class _AccountCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expires_at: float
    """Clock time after which these must not be used (inf for the caller's own)."""


@dataclass(slots=True)
class _ClientEntry:
    client: Any
    stack: AsyncExitStack
    expires_at: float


class AwsGateway:
    """One connection to AWS (or a lab) shared by every service of the console.

    Use as `async with AwsGateway(target, config) as gw:` and then `async with gw.client("ec2",
    account_id=...) as ec2:`. Clients are cached for the gateway's lifetime; concurrent tasks share them and the
    rate limiter.
    """

    def __init__(
        self,
        target: Target,
        config: Config,
        *,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        total_max_attempts: int | None = None,
        retry_mode: str | None = None,
        rate_limits: Mapping[str, Limit] | None = None,
    ) -> None:
        self.target = target
        self.config = config
        self.clock = clock
        self.region = target.region
        self.stats = GatewayStats()
        limits = dict(DEFAULT_LIMITS if rate_limits is None else rate_limits)
        for family, limit in config.aws.rate_limits.items():
            limits[family] = Limit(rate=limit.rate, burst=limit.burst)
        self.limiter = RateLimiter(limits, clock=clock, sleep=sleep)
        self._total_max_attempts = total_max_attempts or config.aws.total_max_attempts
        self._retry_mode = retry_mode or config.aws.retry_mode
        self._session: Any = None
        self._clients: dict[tuple[str, str, str], _ClientEntry] = {}
        self._client_locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        self._credentials: dict[str, _AccountCredentials] = {}
        self._credential_locks: dict[str, asyncio.Lock] = {}
        self._caller: CallerIdentity | None = None
        self._caller_lock = asyncio.Lock()
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._permits: dict[tuple[asyncio.Task[Any] | None, str], int] = {}
        self._closed = False

    # --- lifecycle ------------------------------------------------------------------------------------------

    async def __aenter__(self) -> AwsGateway:
        from aiobotocore.session import AioSession

        try:
            self._session = AioSession(profile=self.target.profile) if self.target.profile else AioSession()
            if not self.region:
                self.region = self._session.get_config_variable("region") or ""
        except Exception as exc:
            raise map_exception(exc, operation="session:Create") from None
        if not self.region:
            raise AwsCallError(
                "credentials", "session:Create", "no region: pass --region, set AWS_REGION, or set it in the profile"
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every cached client (their HTTP connection pools)."""
        self._closed = True
        entries, self._clients = list(self._clients.values()), {}
        for entry in entries:
            # Closing a broken connection must not hide the error that got us here.
            with contextlib.suppress(Exception):
                await entry.stack.aclose()

    # --- public API ---------------------------------------------------------------------------------------

    @asynccontextmanager
    async def client(
        self, service: str, *, account_id: str | None = None, region: str | None = None
    ) -> AsyncIterator[Any]:
        """Yield an aiobotocore client for `service` in `account_id` (assuming the read role when it's not ours).

        Every SDK exception raised inside the `async with` body comes out as `AwsError`.
        """
        account = await self._effective_account(account_id)
        try:
            client = await self._client(service, account, region or self.region)
        except AwsError:
            raise
        except Exception as exc:
            raise map_exception(exc, operation=f"{service}:CreateClient", account_id=account_id) from None
        try:
            yield client
        except AwsError:
            raise
        except Exception as exc:
            operation = _current_operation.get() or f"{service}:?"
            if not operation.startswith(f"{service}:"):
                operation = f"{service}:?"
            raise map_exception(exc, operation=operation, account_id=account_id) from exc
        finally:
            self._return_all_permits(service)

    async def call(
        self, service: str, operation: str, *, account_id: str | None = None, region: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """Call one operation by its snake_case name and return the raw response (for use inside `aws/` only)."""
        async with self.client(service, account_id=account_id, region=region) as client:
            result: dict[str, Any] = await getattr(client, operation)(**params)
            return result

    async def paginate(
        self, service: str, operation: str, *, account_id: str | None = None, region: str | None = None, **params: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every page of a paginated operation (botocore paginators; NextToken/Marker handled there)."""
        page_size = self.config.aws.page_size
        if page_size and service in ("ec2", "route53", "route53profiles") and "PaginationConfig" not in params:
            # Route 53 Profiles lists take at most 100 per page (MaxResults 1-100).
            size = min(page_size, 100) if service == "route53profiles" else page_size
            params = {**params, "PaginationConfig": {"PageSize": size}}
        async with self.client(service, account_id=account_id, region=region) as client:
            paginator = client.get_paginator(operation)
            async for page in paginator.paginate(**params):
                yield page

    async def gather(self, aws: Iterable[Awaitable[T]]) -> list[T]:
        """Run awaitables concurrently, results in order; requests in flight stay under `aws.max_concurrency`.

        The bound is applied per HTTP request after its rate-limit slot, so tasks waiting for a slow family
        (Route 53) never block calls of other families or accounts.
        """
        return list(await asyncio.gather(*aws))

    def _semaphore(self, service: str) -> asyncio.Semaphore:
        # One pool per service: a slow-lane call (Route 53) is sent right after its rate-limit slot instead of
        # queueing behind a flood of EC2 calls, which would bunch it up and trip the per-second limit.
        if service not in self._semaphores:
            size = SLOW_LANE_CONCURRENCY if service in SLOW_LANE else self.config.aws.max_concurrency
            self._semaphores[service] = asyncio.Semaphore(size)
        return self._semaphores[service]

    async def _take_permit(self, service: str) -> None:
        await self._semaphore(service).acquire()
        key = (asyncio.current_task(), service)
        self._permits[key] = self._permits.get(key, 0) + 1

    def _return_permit(self, service: str) -> None:
        key = (asyncio.current_task(), service)
        held = self._permits.get(key, 0)
        if held > 0:
            if held == 1:
                del self._permits[key]
            else:
                self._permits[key] = held - 1
            self._semaphore(service).release()

    def _return_all_permits(self, service: str) -> None:
        """Release permits a cancelled or failed request of this task still holds."""
        for _ in range(self._permits.pop((asyncio.current_task(), service), 0)):
            self._semaphore(service).release()

    async def caller_identity(self) -> CallerIdentity:
        """sts:GetCallerIdentity for the base credentials (cached)."""
        async with self._caller_lock:
            if self._caller is None:
                async with self.client("sts") as sts:
                    answer = await sts.get_caller_identity()
                self._caller = CallerIdentity(
                    account_id=str(answer["Account"]), arn=str(answer["Arn"]), user_id=str(answer["UserId"])
                )
            return self._caller

    def role_arn_for(self, account_id: str) -> str:
        """The read role ARN assumed in one account (the config's, per account or its default; a lab's ready-file
        supplies that default)."""
        partition = self._caller.partition if self._caller else "aws"
        return f"arn:{partition}:iam::{account_id}:role/{self.config.role_name_for(account_id)}"

    # --- internals ----------------------------------------------------------------------------------------

    async def _effective_account(self, account_id: str | None) -> str:
        """`""` for the caller's own credentials, else the account to assume into."""
        if account_id is None:
            return ""
        caller = await self.caller_identity()
        return "" if account_id == caller.account_id else account_id

    async def _client(self, service: str, account: str, region: str) -> Any:
        key = (service, account, region)
        lock = self._client_locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._clients.get(key)
            if entry is not None and entry.expires_at - self.clock() > CREDENTIAL_REFRESH_MARGIN:
                return entry.client
            if entry is not None:
                self._clients.pop(key, None)
                await entry.stack.aclose()
            creds = await self._credentials_for(account) if account else None
            stack = AsyncExitStack()
            kwargs: dict[str, Any] = {"region_name": region, "config": self._client_config()}
            if self.target.endpoint_url:
                kwargs["endpoint_url"] = self.target.endpoint_url
            if creds is not None:
                kwargs.update(
                    aws_access_key_id=creds.access_key_id,
                    aws_secret_access_key=creds.secret_access_key,
                    aws_session_token=creds.session_token,
                )
            elif self.target.access_key_id and self.target.secret_access_key:
                kwargs.update(
                    aws_access_key_id=self.target.access_key_id,
                    aws_secret_access_key=self.target.secret_access_key,
                )
            client = await stack.enter_async_context(self._session.create_client(service, **kwargs))
            self._instrument(client, service, account, region)
            expires = creds.expires_at if creds is not None else float("inf")
            self._clients[key] = _ClientEntry(client, stack, expires)
            return client

    def _client_config(self) -> Any:
        from aiobotocore.config import AioConfig

        retries: dict[str, Any] = {"mode": self._retry_mode}
        if self._total_max_attempts is not None:
            retries["total_max_attempts"] = self._total_max_attempts
        return AioConfig(
            retries=retries,
            connect_timeout=self.config.aws.connect_timeout,
            read_timeout=self.config.aws.read_timeout,
            max_pool_connections=max(10, self.config.aws.max_concurrency),
        )

    async def _credentials_for(self, account: str) -> _AccountCredentials:
        """Assume the read role in `account`, reusing credentials until shortly before they expire."""
        lock = self._credential_locks.setdefault(account, asyncio.Lock())
        async with lock:
            cached = self._credentials.get(account)
            if cached is not None and cached.expires_at - self.clock() > CREDENTIAL_REFRESH_MARGIN:
                return cached
            role_arn = self.role_arn_for(account)
            self.stats.assume_role_calls += 1
            try:
                async with self.client("sts") as sts:
                    answer = await sts.assume_role(RoleArn=role_arn, RoleSessionName=self.config.roles.session_name)
            except AwsError as exc:
                message = f"cannot assume {role_arn}: {exc.info.message}"
                raise AwsCallError(
                    exc.kind,
                    "sts:AssumeRole",
                    message,
                    retryable=exc.retryable,
                    account_id=account,
                    code=getattr(exc, "code", None),
                ) from None
            creds = answer["Credentials"]
            expiration = creds.get("Expiration")
            lifetime = 3600.0
            if expiration is not None:
                lifetime = max(0.0, expiration.timestamp() - time.time())
            cached = _AccountCredentials(
                access_key_id=creds["AccessKeyId"],
                secret_access_key=creds["SecretAccessKey"],
                session_token=creds.get("SessionToken"),
                expires_at=self.clock() + lifetime,
            )
            self._credentials[account] = cached
            return cached

    def _instrument(self, client: Any, service: str, account: str, region: str) -> None:
        """Hook statistics, the current-operation marker and the rate limiter into one client's events."""
        stats = self.stats
        limiter = self.limiter

        def account_key() -> str:
            if account:
                return account
            return self._caller.account_id if self._caller else "self"

        def before_parameter_build(model: Any, **_: Any) -> None:
            # First event of a call (before validation), so even parameter errors name their operation.
            _current_operation.set(f"{service}:{model.name}")

        def before_call(model: Any, **_: Any) -> None:
            name = f"{service}:{model.name}"
            stats.calls[name] += 1
            _current_operation.set(name)

        async def before_send(event_name: str, **_: Any) -> None:
            operation = event_name.rsplit(".", 1)[-1]
            if service in SLOW_LANE:
                # Few in flight, and the slot is taken only when the request can really go: a stall on the
                # server side then cannot bank slots that would later arrive back to back and trip the limit.
                await self._take_permit(service)
                waited = await limiter.acquire(account_key(), region, service, operation)
            else:
                waited = await limiter.acquire(account_key(), region, service, operation)
                await self._take_permit(service)
            stats.rate_limit_wait_seconds += waited
            stats.api_calls[f"{service}:{operation}"] += 1
            if service == "route53":
                stats.route53_calls_by_account[account_key()] += 1
            elif service == "route53profiles":
                stats.profile_calls_by_account[f"{account_key()}/{region}"] += 1

        def response_received(event_name: str, parsed_response: Any = None, exception: Any = None, **_: Any) -> None:
            self._return_permit(service)
            operation = f"{service}:{event_name.rsplit('.', 1)[-1]}"
            if exception is not None:
                stats.server_errors[operation] += 1
                return
            if not isinstance(parsed_response, Mapping):
                return
            status = parsed_response.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)
            code = str(parsed_response.get("Error", {}).get("Code", ""))
            from vpce_console.aws.errors import kind_for_code

            if code and kind_for_code(code, status)[0] == "throttled":
                stats.throttled[operation] += 1
                limiter.throttled(account_key(), region, service, operation.split(":", 1)[1])
            elif status >= 500:
                stats.server_errors[operation] += 1

        events = client.meta.events
        events.register("before-parameter-build.*", before_parameter_build)
        events.register("before-call.*", before_call)
        events.register("before-send.*", before_send)
        events.register("response-received.*", response_received)
