"""Cost arithmetic on worked examples (facts §6/§10): hub vs per-VPC vs NAT and the break-even per spoke."""

from __future__ import annotations

import pytest

from vpce_console.aws.models import Endpoint, Eni, HostedZone, SpokeVpc, Subnet, ZoneVpc
from vpce_console.aws.session import CallerIdentity
from vpce_console.config import config_from_dict
from vpce_console.data.prices import load_prices
from vpce_console.services.cost import BYTES_PER_GB, CHEAPEST_MARK, cost_report, cost_text
from vpce_console.services.inventory import Inventory, InventoryStats

HUB = "111111111111"


def make_inventory(spoke_azs: list[int], gb_per_day: float, service: str = "sqs", hub_azs: int = 3) -> Inventory:
    endpoint = Endpoint(
        endpoint_id="vpce-0sqs",
        account_id=HUB,
        region="us-east-1",
        vpc_id="vpc-0hub",
        service_name=f"com.amazonaws.us-east-1.{service}",
        endpoint_type="Interface",
        state="available",
        private_dns_enabled=False,
        policy_text=None,
        enis=tuple(
            Eni(f"eni-{i}", f"subnet-{i}", f"us-east-1{'abc'[i]}", None, f"use1-az{i + 1}") for i in range(hub_azs)
        ),
        bytes_processed=gb_per_day * BYTES_PER_GB,
    )
    spokes = tuple(
        SpokeVpc(
            vpc_id=f"vpc-0s{i}",
            account_id="222222222222",
            region="us-east-1",
            cidrs=(f"10.{i + 1}.0.0/16",),
            subnets=tuple(
                Subnet(f"subnet-s{i}{a}", "us-east-1a", "10.0.0.0/24", f"use1-az{a + 1}") for a in range(azs)
            ),
        )
        for i, azs in enumerate(spoke_azs)
    )
    zone = HostedZone(
        "Z1",
        f"{service}.us-east-1.amazonaws.com",
        HUB,
        True,
        tuple(ZoneVpc(v, "us-east-1") for v in ("vpc-0hub", *(s.vpc_id for s in spokes))),
    )
    return Inventory(
        caller=CallerIdentity(HUB, "arn:aws:iam::111111111111:user/op", "AID"),
        region="us-east-1",
        hubs=(),
        endpoints=(endpoint,),
        zones=(zone,),
        zone_services={"Z1": service},
        spokes=spokes,
        lint={},
        stats=InventoryStats(0.0, {}, {}),
    )


def test_worked_example_ten_spokes_three_azs() -> None:
    # 24 GB per day over 730 h = 730 GB/month.
    report = cost_report(make_inventory([3] * 10, 24.0), load_prices(), month_hours=730)
    (sqs,) = report.services
    assert sqs.gb_month == pytest.approx(730.0)
    assert sqs.hub_az_hours == pytest.approx(2190.0)
    assert sqs.centralized.hourly == pytest.approx(21.90)  # 3 AZ x 730 h x $0.01
    assert sqs.centralized.processing == pytest.approx(7.30)  # 730 GB x $0.01
    assert sqs.centralized.transit == pytest.approx(14.60)  # 730 GB x $0.02 TGW
    assert sqs.centralized.total == pytest.approx(43.80)
    assert sqs.per_vpc.hourly == pytest.approx(219.00)  # 10 spokes x 3 AZ x 730 h x $0.01
    assert sqs.per_vpc.total == pytest.approx(226.30)
    assert sqs.nat.total == pytest.approx(32.85)  # 730 GB x $0.045
    assert sqs.break_even_gb_per_spoke == pytest.approx(1095.0)  # facts §10: 21.90 / 0.02
    assert sqs.gb_per_spoke == pytest.approx(73.0)
    assert sqs.nat_break_even_gb == pytest.approx(1460.0)  # 21.90 / (0.045 - 0.01 - 0.02)
    # NAT ($32.85) is below the hub ($43.80) at 730 GB: the verdict says what the figures say (issue 9).
    assert sqs.verdict == "nat" and "NAT $32.85/month is the cheapest" in sqs.verdict_note
    assert "no endpoint policy applies" in sqs.verdict_note
    assert report.to_json()["totals"]["saving_vs_per_vpc"] == pytest.approx(182.50)


def test_heavy_two_az_spoke_is_cheaper_with_its_own_endpoint() -> None:
    # 5,000 GB/month from one 2-AZ spoke; break-even 2 x 7.30 / 0.02 = 730 GB.
    report = cost_report(make_inventory([2], 5000 * 24 / 730), load_prices(), month_hours=730)
    (row,) = report.services
    assert row.typical_spoke_azs == 2
    assert row.break_even_gb_per_spoke == pytest.approx(730.0)
    assert row.gb_per_spoke == pytest.approx(5000.0)
    assert row.verdict == "per-vpc"
    assert row.per_vpc.total == pytest.approx(2 * 7.30 + 50.0)
    assert row.centralized.total == pytest.approx(21.90 + 50.0 + 100.0)


def test_price_override_from_config_changes_the_break_even() -> None:
    config = config_from_dict({"prices": {"endpoint_az_hour": 0.011}})
    prices = load_prices(config.prices)
    assert prices.overridden == ("endpoint_az_hour",)
    (row,) = cost_report(make_inventory([3], 1.0), prices).services
    assert row.break_even_gb_per_spoke == pytest.approx(3 * 0.011 * 730 / 0.02)


def test_unused_service_and_dedicated_attachments() -> None:
    (row,) = cost_report(make_inventory([], 0.0), load_prices()).services
    assert row.verdict == "unused" and row.subscribers == 0 and row.per_vpc.total == 0.0
    (row,) = cost_report(make_inventory([3, 3], 0.0), load_prices(), dedicated_tgw_attachments=True).services
    assert row.centralized.transit == pytest.approx(2 * 0.05 * 730)


def test_prices_file_has_date_and_sources() -> None:
    prices = load_prices()
    assert prices.as_of and prices.currency == "USD"
    assert set(prices.values) == set(prices.sources)
    assert all(url.startswith("https://aws.amazon.com/") for url in prices.sources.values())
    assert prices["endpoint_az_hour"] == 0.01 and prices["tgw_gb"] == 0.02 and prices["nat_gb"] == 0.045


def test_text_report_mentions_every_service_and_the_total() -> None:
    text = cost_text(cost_report(make_inventory([3] * 10, 24.0), load_prices()))
    assert "sqs" in text and "1,095" in text and "centralizing saves $182.50/month" in text


@pytest.mark.parametrize(
    ("spokes", "gb_per_day", "expected"),
    [
        ([3] * 10, 24.0, "nat"),  # 730 GB/month: under the NAT break-even of 1,460 GB
        ([3] * 10, 72.0, "centralize"),  # 2,190 GB/month: above it, and far under the per-VPC break-even
        ([2], 5000 * 24 / 730, "per-vpc"),  # one heavy 2-AZ spoke
        ([3] * 10, 1460 * 24 / 730, "centralize"),  # exactly at the NAT break-even: a tie keeps the hub
    ],
)
def test_verdict_is_the_cheapest_column(spokes: list[int], gb_per_day: float, expected: str) -> None:
    """The verdict always names the design whose monthly total is lowest, the one the ★ marks."""
    (row,) = cost_report(make_inventory(spokes, gb_per_day), load_prices(), month_hours=730).services
    totals = {"centralize": row.centralized.total, "per-vpc": row.per_vpc.total, "nat": row.nat.total}
    assert row.verdict == expected
    assert round(totals[row.verdict], 2) == round(min(totals.values()), 2)
    text = cost_text(cost_report(make_inventory(spokes, gb_per_day), load_prices(), month_hours=730))
    (line,) = [line for line in text.splitlines() if line.startswith("sqs ")]
    assert line.count(CHEAPEST_MARK) == 1 and line.endswith(expected)
    assert f"{totals[expected]:,.2f}{CHEAPEST_MARK}" in line


def test_subscriber_count_is_the_endpoints_count() -> None:
    """Cost, `vpce inventory` JSON and the console's Endpoints row count the same VPCs, stale ones excluded."""
    from dataclasses import replace

    from vpce_console.config import Config
    from vpce_console.services.inventory import endpoint_to_json
    from vpce_console.tui.rows import build_snapshot

    inv = make_inventory([3, 3], 24.0)
    (zone,) = inv.zones
    stale = replace(zone, vpcs=(*zone.vpcs, ZoneVpc("vpc-0deleted", "us-east-1")))
    for case in (
        replace(inv, zones=(stale,), spoke_accounts=("222222222222",)),  # a deleted VPC is not a subscriber
        replace(inv, spokes=(), spoke_accounts=()),  # no spoke scanned: every associated VPC counts
    ):
        expected = len(case.subscriber_vpc_ids("sqs"))
        (row,) = cost_report(case, load_prices()).services
        snapshot = build_snapshot(case, Config(), [], None, None)
        assert row.subscribers == expected
        assert endpoint_to_json(case, case.endpoints[0])["subscriber_count"] == expected
        assert snapshot.endpoints[0].subscribers == expected
    assert len(replace(inv, zones=(stale,), spoke_accounts=("222222222222",)).subscriber_vpc_ids("sqs")) == 2
    assert len(replace(inv, spokes=(), spoke_accounts=()).subscriber_vpc_ids("sqs")) == 2


def test_one_gb_everywhere() -> None:
    """The Endpoints cell, `vpce inventory` and the cost report count GB the same way, and say GB (no GiB)."""
    from pathlib import Path

    from vpce_console.commands.inventory import human_bytes as inventory_bytes
    from vpce_console.tui.render import human_bytes as console_bytes

    nine = 9 * BYTES_PER_GB
    assert console_bytes(nine) == inventory_bytes(nine) == "9.0 GB"
    (row,) = cost_report(make_inventory([3], 9.0), load_prices(), month_hours=24, metrics_window_hours=24).services
    assert row.gb_month == pytest.approx(9.0)
    source = Path(__file__).resolve().parents[2] / "src" / "vpce_console"
    offenders = [p.name for p in source.rglob("*.py") if "GiB" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_route53_profile_charge_goes_into_the_centralized_column() -> None:
    """With spokes on a Route 53 Profile the owner's per-account charge ($0.75/h with the first 100 associations,
    then $0.0014 per association-hour; UNCONFIRMED price) is spread over the services the Profile serves."""
    from dataclasses import replace

    from vpce_console.aws.models import DnsProfile, ProfileAssociation
    from vpce_console.services.cost import profile_monthly_charge

    prices = load_prices()
    assert "profile_hour" in prices.unconfirmed and "profile_association_hour" in prices.unconfirmed
    assert profile_monthly_charge(0, prices, 730) == 0.0
    assert profile_monthly_charge(100, prices, 730) == pytest.approx(0.75 * 730)
    assert profile_monthly_charge(150, prices, 730) == pytest.approx((0.75 + 50 * 0.0014) * 730)

    inv = make_inventory([3, 3], 24.0)
    (zone,) = inv.zones
    direct_only = cost_report(inv, prices, month_hours=730)
    profile = DnsProfile("rp-0abc", "shared", HUB, "us-east-1", zone_ids=(zone.zone_id,))
    on_profile = replace(
        inv,
        zones=(replace(zone, vpcs=(zone.vpcs[0],)),),  # only the hub VPC is associated directly
        profiles=(profile,),
        profile_associations=tuple(
            ProfileAssociation("rp-0abc", s.vpc_id, s.account_id, "us-east-1") for s in inv.spokes
        ),
    )
    report = cost_report(on_profile, prices, month_hours=730)
    (row,) = report.services
    assert row.subscribers == 2  # the same two spokes, now through the Profile
    assert row.centralized.dns == pytest.approx(0.75 * 730)
    assert row.centralized.total == pytest.approx(direct_only.services[0].centralized.total + 0.75 * 730)
    assert report.to_json()["route53_profiles"] == {"associations": 2, "monthly": 547.5}
    assert "Route 53 Profiles: 2 VPC association(s), $547.50/month (price UNCONFIRMED)" in cost_text(report)
