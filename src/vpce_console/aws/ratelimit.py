"""Client-side rate limits per (account, API family), so a full inventory never causes a throttling storm.

AWS documents per-account request limits (Route 53: 5 requests/second per account for all its APIs;
CloudTrail LookupEvents: 2 per second per account and Region; EC2: a token bucket per API, 100 tokens
refilled at 20/s for non-mutating calls). We keep just under them on our side, shared by every task of
one gateway, instead of discovering them through `Throttling` errors and backoff.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Limit:
    """A sustained rate and how many calls may go out at once before it applies."""

    rate: float
    """Requests per second, sustained."""
    burst: int = 1
    """Requests that may be sent back to back after an idle period (the bucket size)."""


DEFAULT_LIMITS: Mapping[str, Limit] = {
    # https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html : 5 requests/second/account.
    "route53": Limit(rate=5.0, burst=1),
    # Route 53 Profiles are part of Route 53 VPC Resolver: 5 requests/second per account per Region (DNSLimitations,
    # "Frequency of Route 53 VPC Resolver API requests"); no Profiles-specific rate is documented (UNCONFIRMED).
    "route53profiles": Limit(rate=5.0, burst=1),
    # https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html : 2 per second.
    "cloudtrail:LookupEvents": Limit(rate=2.0, burst=1),
    # https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html : non-mutating 100 / 20 per second.
    "ec2:describe": Limit(rate=20.0, burst=50),
    # Mutating EC2 calls (ModifyVpcEndpoint …) have smaller buckets; we never need more than a few.
    "ec2:mutate": Limit(rate=2.0, burst=2),
    # CloudWatch GetMetricData: 50 TPS (CloudWatch quotas page); one call covers 500 queries.
    "cloudwatch": Limit(rate=25.0, burst=5),
    # Organizations: low shared quotas; ListAccounts pages are few.
    "organizations": Limit(rate=2.0, burst=1),
    "sts": Limit(rate=20.0, burst=10),
    "logs": Limit(rate=5.0, burst=1),
}
"""Family -> limit; override any entry with `aws.rate_limits` in the config."""


def api_family(service: str, operation: str) -> str:
    """The rate-limit family an operation draws from, e.g. `route53` or `ec2:describe:DescribeVpcs`.

    EC2 throttles each API separately, so every describe call has its own bucket; Route 53 shares one bucket
    for all of its APIs in an account.
    """
    if service == "route53":
        return "route53"
    if service == "ec2":
        if operation.startswith(("Describe", "Get", "List")):
            return f"ec2:describe:{operation}"
        return f"ec2:mutate:{operation}"
    if service == "cloudtrail" and operation == "LookupEvents":
        return "cloudtrail:LookupEvents"
    return service


def limit_for(family: str, limits: Mapping[str, Limit]) -> Limit | None:
    """The most specific limit configured for a family (`ec2:describe:DescribeVpcs` -> `ec2:describe`)."""
    parts = family.split(":")
    for size in range(len(parts), 0, -1):
        found = limits.get(":".join(parts[:size]))
        if found is not None:
            return found
    return None


class TokenBucket:
    """A token bucket (GCRA form) that hands out send slots in call order, shared by concurrent tasks.

    Each `acquire` reserves its slot synchronously before awaiting, so tasks never race for the same token and
    the order is first come, first served.
    """

    __slots__ = ("_clock", "_interval", "_sleep", "_tat", "_tolerance", "limit")

    def __init__(self, limit: Limit, *, clock: Clock, sleep: Sleep = asyncio.sleep) -> None:
        if limit.rate <= 0 or limit.burst < 1:
            raise ValueError(f"rate limit must be positive with burst >= 1, got {limit}")
        self.limit = limit
        self._interval = 1.0 / limit.rate
        self._tolerance = (limit.burst - 1) * self._interval
        self._tat = -math.inf
        self._clock = clock
        self._sleep = sleep

    def reserve(self) -> float:
        """Reserve the next slot and return how long the caller must wait before sending."""
        now = self._clock()
        slot = max(now, self._tat - self._tolerance)
        self._tat = max(self._tat, slot) + self._interval
        return slot - now

    def penalize(self, seconds: float) -> None:
        """Push the next slot back after AWS throttled us anyway (its bucket must refill before we go on)."""
        self._tat = max(self._tat, self._clock() + seconds + self._tolerance)

    async def acquire(self) -> float:
        """Wait for the next slot; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            await self._sleep(wait)
        return max(wait, 0.0)


class RateLimiter:
    """Buckets per (account, region, family), created on first use from the configured limits."""

    def __init__(
        self,
        limits: Mapping[str, Limit] | None = None,
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits: dict[str, Limit] = dict(DEFAULT_LIMITS if limits is None else limits)
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str, str], TokenBucket | None] = {}
        self.waited_seconds = 0.0
        """Total time tasks spent waiting for a slot (all buckets)."""

    def bucket(self, account: str, region: str, service: str, operation: str) -> TokenBucket | None:
        """The bucket for one call, or None when the family is unlimited."""
        family = api_family(service, operation)
        # Route 53 and Organizations are global services: one bucket per account, whatever the region.
        scope_region = "global" if service in ("route53", "organizations", "iam") else region
        key = (account, scope_region, family)
        if key not in self._buckets:
            limit = limit_for(family, self.limits)
            self._buckets[key] = TokenBucket(limit, clock=self._clock, sleep=self._sleep) if limit is not None else None
        return self._buckets[key]

    def throttled(self, account: str, region: str, service: str, operation: str) -> None:
        """Back off one family after a throttling answer: no new call for one bucket-refill period."""
        bucket = self.bucket(account, region, service, operation)
        if bucket is not None:
            bucket.penalize(max(1.0, bucket.limit.burst / bucket.limit.rate))

    async def acquire(self, account: str, region: str, service: str, operation: str) -> float:
        """Wait until one call of `service:operation` may be sent for `account`."""
        bucket = self.bucket(account, region, service, operation)
        if bucket is None:
            return 0.0
        waited = await bucket.acquire()
        self.waited_seconds += waited
        return waited
