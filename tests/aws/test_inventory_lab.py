"""Inventory and doctor against the lab through the real SDK: shape, pagination, limits, retries, seeded faults."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from vpce_console.aws.ratelimit import Limit
from vpce_console.aws.session import AwsGateway
from vpce_console.config import Config
from vpce_console.connect import Target
from vpce_console.errors import AwsError
from vpce_console.services.doctor import diagnose
from vpce_console.services.inventory import Inventory, inventory_to_json

from .conftest import lab_get, lab_post, run_inventory

pytestmark = pytest.mark.lab


def fingerprint(inv: Inventory) -> dict[str, Any]:
    """What must not change between two reads of the same world (ids, wiring), minus timing and counters."""
    doc = inventory_to_json(inv)
    for endpoint in doc["endpoints"]:
        endpoint.pop("bytes_processed", None)
        endpoint.pop("bytes_hourly", None)  # the 24 h window slides with the clock between reads
    doc.pop("stats")
    return doc


def test_inventory_matches_the_lab_world(
    lab_inventory: tuple[Inventory, AwsGateway, int], lab_ready: Mapping[str, Any]
) -> None:
    inv, _gateway, _ = lab_inventory
    hub = lab_ready["hub"]
    assert inv.caller.account_id == hub["account_id"]
    assert {v.vpc_id for h in inv.hubs for v in h.vpcs} == {hub["vpc_id"]}
    assert hub["cidr"] in inv.hub_cidrs
    spokes = {s["vpc_id"]: s for s in lab_ready["spokes"]}
    found = {s.vpc_id: s for s in inv.spokes}
    assert set(spokes) <= set(found)
    for vpc_id, spoke in spokes.items():
        assert found[vpc_id].account_id == spoke["account_id"]
        assert spoke["cidr"] in found[vpc_id].cidrs
        assert found[vpc_id].tags.get("environment") == spoke["environment"]
    services = {e.service for e in inv.endpoints}
    assert len(inv.endpoints) >= 10 and {"sqs", "sts", "kms", "logs", "ssm"} <= services
    for endpoint in inv.endpoints:
        assert endpoint.state == "available"
        assert endpoint.enis and all(e.private_ip for e in endpoint.enis)
        assert endpoint.security_groups
        assert endpoint.policy_supported is not None
    # One zone per service, each associated with the hub VPC.
    assert set(inv.zone_services.values()) == services
    assert all(any(v.vpc_id == hub["vpc_id"] for v in z.vpcs) for z in inv.zones)
    # Associations come from GetHostedZone per zone, never ListHostedZonesByVPC per VPC.
    calls = inv.stats.api_calls
    assert calls["route53:GetHostedZone"] == len(inv.zones)
    assert "route53:ListHostedZonesByVPC" not in calls
    assert inv.stats.route53_calls_by_account == {
        hub["account_id"]: sum(n for k, n in calls.items() if k.startswith("route53:"))
    }
    assert calls["ec2:DescribeVpcAttribute"] == 2 * len(inv.spokes)
    assert inv.warnings == ()


def test_endpoints_carry_24_hourly_byte_counts_that_sum_to_the_total(
    lab_inventory: tuple[Inventory, AwsGateway, int],
) -> None:
    """The lab publishes hourly BytesProcessed per hub endpoint; the inventory reads 24 one-hour sums, oldest first."""
    inv, _gateway, _ = lab_inventory
    assert inv.endpoints
    for endpoint in inv.endpoints:
        assert len(endpoint.bytes_hourly) == 24, endpoint.endpoint_id
        assert all(v >= 0 for v in endpoint.bytes_hourly)
        assert endpoint.bytes_processed == pytest.approx(sum(endpoint.bytes_hourly), rel=1e-9)
    assert any(sum(e.bytes_hourly) > 0 for e in inv.endpoints)
    # Most hours have data (the lab writes every hour), so the series is not one window-wide lump.
    assert any(sum(1 for v in e.bytes_hourly if v > 0) >= 20 for e in inv.endpoints)
    doc = inventory_to_json(inv)["endpoints"]
    assert all(len(e["bytes_hourly"]) == 24 == e["bytes_processed_hours"] for e in doc)
    assert all(sum(e["bytes_hourly"]) == pytest.approx(e["bytes_processed"], rel=1e-9) for e in doc)


def test_rate_limiter_keeps_the_lab_limits_from_tripping(lab_inventory: tuple[Inventory, AwsGateway, int]) -> None:
    inv, gateway, lab_throttles = lab_inventory
    assert lab_throttles == 0
    assert dict(gateway.stats.throttled) == {}
    assert inv.stats.retries == 0  # single attempt per call and nothing failed
    # 25-ish Route 53 calls at 5/s: the limiter must have made callers wait.
    assert gateway.stats.rate_limit_wait_seconds > 0


def test_pagination_gives_the_same_inventory_with_small_pages(
    lab_inventory: tuple[Inventory, AwsGateway, int], lab_target: tuple[Config, Target]
) -> None:
    baseline, _, _ = lab_inventory
    config, target = lab_target
    small = dataclasses.replace(config, aws=dataclasses.replace(config.aws, page_size=5))
    # Retries allowed: an earlier test may have left the lab's Route 53 bucket low.
    paged, gateway = run_inventory(small, target, total_max_attempts=3)
    assert fingerprint(paged) == fingerprint(baseline)
    pages = gateway.stats.calls
    assert pages["ec2:DescribeVpcEndpoints"] > 1  # >= 10 endpoints in pages of 5
    assert pages["ec2:DescribeNetworkInterfaces"] > 1
    assert pages["ec2:DescribeSubnets"] > len(paged.spoke_accounts) + 1


def test_injected_throttles_and_5xx_are_retried_and_the_result_is_unchanged(
    lab_inventory: tuple[Inventory, AwsGateway, int], lab_target: tuple[Config, Target], lab_ready: Mapping[str, Any]
) -> None:
    baseline, _, _ = lab_inventory
    config, target = lab_target
    spec = "route53:GetHostedZone=throttle@0.25,ec2:DescribeVpcAttribute=5xx@0.25,ec2:DescribeSubnets=5xx@0.25"
    lab_post(lab_ready, "/lab-api/faults", {"spec": spec, "replace": True})
    try:
        inv, gateway = run_inventory(config, target, total_max_attempts=8)
    finally:
        lab_post(lab_ready, "/lab-api/faults", {"spec": "", "replace": True})
    assert fingerprint(inv) == fingerprint(baseline)
    assert inv.stats.retries > 0
    assert sum(gateway.stats.throttled.values()) + sum(gateway.stats.server_errors.values()) == inv.stats.retries
    assert lab_get(lab_ready, "/lab-api/faults")["faults"] == []


def test_a_failing_spoke_account_becomes_a_warning_not_a_failure(
    lab_target: tuple[Config, Target], lab_ready: Mapping[str, Any]
) -> None:
    config, target = lab_target
    from vpce_console.services.inventory import load_inventory

    async def twice() -> tuple[Inventory, Inventory]:
        # One gateway, two loads (as the TUI refreshes): each load reports its own calls.
        async with AwsGateway(target, config, total_max_attempts=1) as gateway:
            return await load_inventory(gateway, config), await load_inventory(gateway, config)

    lab_post(lab_ready, "/lab-api/faults", {"spec": "sts:AssumeRole=5xx", "replace": True})
    try:
        inv, again = asyncio.run(twice())
    finally:
        lab_post(lab_ready, "/lab-api/faults", {"spec": "", "replace": True})
    assert inv.spokes == ()
    assert len(inv.warnings) == len(inv.spoke_accounts)
    assert all("sts:AssumeRole" in w and "cannot assume" in w for w in inv.warnings)
    assert any(f.code == "inventory-incomplete" for f in diagnose(inv, config))
    assert inv.endpoints  # the hub is still read with the caller's own credentials
    assert dict(again.stats.api_calls) == {k: v for k, v in inv.stats.api_calls.items() if k != "sts:GetCallerIdentity"}
    assert again.stats.route53_calls_by_account == inv.stats.route53_calls_by_account


def test_doctor_finds_every_seeded_fault(
    lab_inventory: tuple[Inventory, AwsGateway, int], lab_target: tuple[Config, Target], lab_ready: Mapping[str, Any]
) -> None:
    inv, _, _ = lab_inventory
    config, _ = lab_target
    findings = diagnose(inv, config)
    hub_vpc = lab_ready["hub"]["vpc_id"]
    seeded = lab_ready["seeded_faults"]
    assert {f["code"] for f in seeded} >= {
        "phz-missing-association",
        "phz-forbidden-association",
        "phz-stale-association",
        "sg-missing-spoke-cidr",
        "private-dns-enabled-on-shared",
        "alias-target-mismatch",
    }
    for fault in seeded:
        matches = [
            f
            for f in findings
            if f.code == fault["code"]
            and f.service == fault["service"]
            and (fault["vpc_id"] == hub_vpc or f.vpc_id == fault["vpc_id"])
        ]
        assert matches, fault
    expected = {(f["code"], f["service"]) for f in seeded}
    # Nothing beyond the seeded faults is reported as a wiring error (no false alarms on the healthy rest).
    errors = {(f.code, f.service) for f in findings if f.kind == "wiring" and f.severity == "error"}
    assert errors <= expected


def test_without_our_limiter_the_lab_throttles_a_burst(
    lab_target: tuple[Config, Target], lab_ready: Mapping[str, Any]
) -> None:
    """Control: the same burst with our Route 53 limit lifted trips the lab's 5 req/s, so the limiter is what helps.

    Each burst runs in its own spoke account (the lab limits per account), so both start from a full bucket and
    the hub account's bucket stays untouched for other tests.
    """
    config, target = lab_target
    paced_account, unpaced_account = sorted({s["account_id"] for s in lab_ready["spokes"]})[:2]

    async def burst(account: str, limits: Mapping[str, Limit] | None) -> list[BaseException | None]:
        async with AwsGateway(target, config, total_max_attempts=1, rate_limits=limits) as gw:

            async def one() -> BaseException | None:
                try:
                    await gw.call("route53", "list_hosted_zones", account_id=account)
                except AwsError as exc:
                    return exc
                return None

            return await asyncio.gather(*(one() for _ in range(12)))

    assert asyncio.run(burst(paced_account, None)) == [None] * 12
    unlimited = asyncio.run(burst(unpaced_account, {"route53": Limit(rate=1000.0, burst=1000)}))
    throttled = [e for e in unlimited if isinstance(e, AwsError)]
    assert throttled and all(e.kind == "throttled" and e.retryable for e in throttled)
    assert "route53:ListHostedZones" in str(throttled[0]) and unpaced_account in str(throttled[0])


def test_on_endpoints_hands_over_every_hub_endpoint_before_route53_is_done(
    lab_target: tuple[Config, Target], lab_ready: Mapping[str, Any]
) -> None:
    """The console shows endpoints early: the callback fires once per hub, with metrics, while Route 53 still reads."""
    from vpce_console.services.inventory import load_inventory

    config, target = lab_target
    seen: list[tuple[tuple[str, ...], int, bool]] = []
    returned = False

    def route53_calls(gateway: AwsGateway) -> int:
        return sum(gateway.stats.route53_calls_by_account.values())

    async def go() -> tuple[Inventory, int]:
        nonlocal returned
        # Retries allowed: an earlier test may have left the lab's Route 53 bucket low.
        async with AwsGateway(target, config, total_max_attempts=3) as gateway:

            def on_endpoints(endpoints: Any) -> None:
                assert all(len(e.bytes_hourly) == 24 for e in endpoints)  # metrics are in already
                seen.append((tuple(e.endpoint_id for e in endpoints), route53_calls(gateway), returned))

            inv = await load_inventory(gateway, config, on_endpoints=on_endpoints)
            returned = True
            return inv, route53_calls(gateway)

    inv, route53_total = asyncio.run(go())
    assert len(seen) == 1  # one hub in the lab
    ids, route53_then, after_return = seen[0]
    assert set(ids) == {e.endpoint_id for e in inv.endpoints}
    assert set(lab_ready["hub"]["endpoints"].values()) <= set(ids)
    assert not after_return
    assert route53_total >= 2 * len(inv.zones) > 0
    assert route53_then < route53_total
