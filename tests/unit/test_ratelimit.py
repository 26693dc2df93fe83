"""The client-side token buckets: order, burst, sustained rate, and sharing across concurrent tasks."""

from __future__ import annotations

import asyncio

import pytest

from vpce_console.aws.ratelimit import DEFAULT_LIMITS, Limit, RateLimiter, TokenBucket, api_family, limit_for


class FakeTime:
    """A clock that only moves when a task sleeps, so rate tests need no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sends: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # Each sleeper wakes at its own deadline; tasks sleep concurrently, so track the max deadline reached.
        deadline = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, deadline)


def test_bucket_spaces_calls_at_the_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(Limit(rate=5.0, burst=1), clock=t.clock, sleep=t.sleep)
    waits = [bucket.reserve() for _ in range(6)]
    assert waits == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_burst_goes_out_at_once_then_the_rate_applies() -> None:
    t = FakeTime()
    bucket = TokenBucket(Limit(rate=20.0, burst=3), clock=t.clock, sleep=t.sleep)
    waits = [bucket.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.05, 0.10])


def test_idle_time_refills_the_bucket() -> None:
    t = FakeTime()
    bucket = TokenBucket(Limit(rate=2.0, burst=2), clock=t.clock, sleep=t.sleep)
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.5])
    t.now = 10.0
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.5])


def test_no_window_of_one_second_holds_more_than_rate_plus_burst() -> None:
    t = FakeTime()
    bucket = TokenBucket(Limit(rate=5.0, burst=1), clock=t.clock, sleep=t.sleep)
    sends = [bucket.reserve() for _ in range(50)]
    for start in sends:
        in_window = [s for s in sends if start <= s < start + 1.0 - 1e-9]
        assert len(in_window) <= 5


async def test_concurrent_tasks_share_one_bucket_per_account_and_family() -> None:
    t = FakeTime()
    limiter = RateLimiter({"route53": Limit(5.0, 1)}, clock=t.clock, sleep=t.sleep)
    sent: list[tuple[str, float]] = []

    async def call(account: str) -> None:
        await limiter.acquire(account, "us-east-1", "route53", "GetHostedZone")
        sent.append((account, t.now))

    await asyncio.gather(*(call("111111111111") for _ in range(10)), *(call("222222222222") for _ in range(10)))
    for account in ("111111111111", "222222222222"):
        times = sorted(when for who, when in sent if who == account)
        assert times[-1] == pytest.approx(1.8)  # 10 calls at 5/s: last one 9 intervals later
    # Route 53 is global: another region uses the same bucket.
    assert limiter.bucket("111111111111", "eu-west-1", "route53", "ListHostedZones") is limiter.bucket(
        "111111111111", "us-east-1", "route53", "GetHostedZone"
    )


def test_families_follow_aws_limits() -> None:
    assert api_family("route53", "ListResourceRecordSets") == "route53"
    assert api_family("ec2", "DescribeVpcs") == "ec2:describe:DescribeVpcs"
    assert api_family("ec2", "ModifyVpcEndpoint") == "ec2:mutate:ModifyVpcEndpoint"
    assert api_family("cloudtrail", "LookupEvents") == "cloudtrail:LookupEvents"
    assert limit_for("ec2:describe:DescribeVpcs", DEFAULT_LIMITS) == DEFAULT_LIMITS["ec2:describe"]
    assert limit_for("route53", DEFAULT_LIMITS) == Limit(5.0, 1)
    assert limit_for("cloudtrail:LookupEvents", DEFAULT_LIMITS) == Limit(2.0, 1)
    assert limit_for("unknown-service", DEFAULT_LIMITS) is None


def test_each_ec2_api_has_its_own_bucket() -> None:
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    a = limiter.bucket("1", "us-east-1", "ec2", "DescribeVpcs")
    b = limiter.bucket("1", "us-east-1", "ec2", "DescribeSubnets")
    assert a is not None and b is not None and a is not b
    assert limiter.bucket("1", "us-east-1", "unknown", "Op") is None


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError):
        TokenBucket(Limit(rate=0.0), clock=lambda: 0.0)


def test_a_throttle_pushes_the_next_slot_back() -> None:
    t = FakeTime()
    limiter = RateLimiter({"route53": Limit(5.0, 1)}, clock=t.clock, sleep=t.sleep)
    bucket = limiter.bucket("1", "us-east-1", "route53", "GetHostedZone")
    assert bucket is not None
    assert bucket.reserve() == 0.0
    limiter.throttled("1", "us-east-1", "route53", "GetHostedZone")
    assert bucket.reserve() == pytest.approx(1.0)
    assert bucket.reserve() == pytest.approx(1.2)
