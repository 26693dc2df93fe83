"""AWS's default API rate limits per account, enforced with token buckets (facts §4b, §5)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_RATES: dict[str, tuple[float, float]] = {
    "route53": (5.0, 5.0),
    "route53profiles": (5.0, 5.0),
    "cloudtrail:LookupEvents": (2.0, 2.0),
    "ec2:describe": (100.0, 100.0),
    "ec2:mutate": (50.0, 50.0),
}
"""family -> (requests per second, burst). Route 53 5/s and LookupEvents 2/s are documented; EC2's are typical."""


def family_of(service: str, action: str) -> str | None:
    """The rate-limit family a call belongs to, or None when the lab does not limit it."""
    if service == "route53":
        return "route53"
    if service == "route53profiles":
        # Profiles belong to Route 53 VPC Resolver, whose APIs allow 5 requests/second per account per Region
        # (DNSLimitations); a Profiles-specific rate is not documented in our sources (UNCONFIRMED).
        return "route53profiles"
    if service == "cloudtrail" and action == "LookupEvents":
        return "cloudtrail:LookupEvents"
    if service == "ec2":
        return "ec2:describe" if action.startswith("Describe") else "ec2:mutate"
    return None


class RateLimiter:
    """Token buckets keyed by (account, family)."""

    def __init__(
        self, rates: dict[str, tuple[float, float]] | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rates = dict(DEFAULT_RATES if rates is None else rates)
        self.clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, account: str, family: str | None) -> bool:
        """Take one token; False means the caller is throttled."""
        if family is None or family not in self.rates:
            return True
        rate, burst = self.rates[family]
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get((account, family), (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[(account, family)] = (tokens, now)
                return False
            self._buckets[(account, family)] = (tokens - 1.0, now)
            return True
