"""Benchmark: a full inventory of an org-scale lab (1,000 spokes, 40 endpoints, AWS's real rate limits).

Prints ONE JSON line: wall time, API calls per operation, Route 53 calls per account and the floor the
Route 53 limit imposes (max over accounts of calls / 5 req/s), and whether wall <= 1.5 x floor + 3 s.
`--dns profiles|mixed` seeds spokes on Route 53 Profiles: their calls (5 req/s per account and Region, a bucket
of their own) are counted, and the floor is the slower of the two limits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

ROUTE53_RATE = 5.0
"""Route 53 API requests per second per account (DNSLimitations)."""
PROFILES_RATE = 5.0
"""Route 53 Profiles (VPC Resolver) API requests per second per account and Region (DNSLimitations)."""


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--dns", choices=("direct", "profiles", "mixed"), default="direct")
    options = cli.parse_args()
    from vpce_console.aws.session import AwsGateway
    from vpce_console.connect import connect
    from vpce_console.lab.child import start_lab_child
    from vpce_console.services.inventory import load_inventory

    t0 = time.monotonic()
    with start_lab_child(scale="org", seed=11, traffic=0, dns=options.dns) as lab:
        lab_ready_s = time.monotonic() - t0
        args = argparse.Namespace(lab=False, lab_ready=str(lab.ready_file), config=None, region=None, profile=None)
        config, target = connect(args)

        marks: dict[str, float] = {}

        async def run() -> tuple[object, AwsGateway, float]:
            async with AwsGateway(target, config) as gateway:
                started = time.monotonic()

                def progress(message: str) -> None:
                    # When the Route 53 lane and the last spoke account finished, to show which one bounds the run.
                    if message.startswith("hosted zones of"):
                        marks["route53_done_seconds"] = round(time.monotonic() - started, 2)
                    elif message.startswith("spoke account"):
                        marks["spokes_done_seconds"] = round(time.monotonic() - started, 2)

                inventory = await load_inventory(gateway, config, progress=progress)
                return inventory, gateway, time.monotonic() - started

        inventory, gateway, wall = asyncio.run(run())
    from vpce_console.data.prices import load_prices
    from vpce_console.services.cost import cost_report
    from vpce_console.services.doctor import diagnose

    started = time.monotonic()
    findings = diagnose(inventory, config)  # type: ignore[arg-type]
    doctor_s = time.monotonic() - started
    started = time.monotonic()
    cost_report(inventory, load_prices(config.prices))  # type: ignore[arg-type]
    cost_s = time.monotonic() - started
    stats = gateway.stats
    by_account = dict(stats.route53_calls_by_account)
    profile_calls = dict(stats.profile_calls_by_account)
    floor = max(
        max(by_account.values(), default=0) / ROUTE53_RATE,
        max(profile_calls.values(), default=0) / PROFILES_RATE,
    )
    target_s = 1.5 * floor + 3.0
    print(
        json.dumps(
            {
                "benchmark": "inventory",
                "scale": "org",
                "dns": options.dns,
                "wall_seconds": round(wall, 2),
                "route53_floor_seconds": round(floor, 2),
                "target_seconds": round(target_s, 2),
                "within_target": wall <= target_s,
                **marks,
                "endpoints": len(inventory.endpoints),  # type: ignore[attr-defined]
                "zones": len(inventory.zones),  # type: ignore[attr-defined]
                "spoke_vpcs": len(inventory.spokes),  # type: ignore[attr-defined]
                "spoke_accounts": len(inventory.spoke_accounts),  # type: ignore[attr-defined]
                "api_calls_total": sum(stats.api_calls.values()),
                "api_calls": dict(sorted(stats.api_calls.items())),
                "route53_calls_by_account": by_account,
                "profile_calls_total": sum(profile_calls.values()),
                "profile_calls_max_per_account_region": max(profile_calls.values(), default=0),
                "profiles": len(inventory.profiles),  # type: ignore[attr-defined]
                "profile_associations": len(inventory.profile_associations),  # type: ignore[attr-defined]
                "retries": max(0, sum(stats.api_calls.values()) - sum(stats.calls.values())),
                "throttled": sum(stats.throttled.values()),
                "lab_ready_seconds": round(lab_ready_s, 2),
                "doctor_seconds": round(doctor_s, 3),
                "doctor_findings": len(findings),
                "cost_seconds": round(cost_s, 3),
            },
            sort_keys=False,
        )
    )
    return 0 if wall <= target_s else 1


if __name__ == "__main__":
    raise SystemExit(main())
