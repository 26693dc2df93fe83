"""Route 53 reads: private hosted zones, their VPC associations (GetHostedZone per zone) and alias records.

Associations come from `GetHostedZone` per zone, not `ListHostedZonesByVPC` per VPC: with 40 zones and 1,000
spokes that is 40 calls instead of 1,000 under a 5 requests/second per-account limit.
"""

from __future__ import annotations

import asyncio
from typing import Any

from vpce_console.aws.models import AliasRecord, HostedZone, ZoneVpc
from vpce_console.aws.session import AwsGateway


def _zone_id(raw: str) -> str:
    return raw.rsplit("/", 1)[-1]


async def list_private_zones(gw: AwsGateway, *, account_id: str) -> list[tuple[str, str]]:
    """(zone id, zone name without trailing dot) of every private hosted zone in the account."""
    zones: list[tuple[str, str]] = []
    async for page in gw.paginate("route53", "list_hosted_zones", account_id=account_id):
        for z in page.get("HostedZones", []):
            if z.get("Config", {}).get("PrivateZone"):
                zones.append((_zone_id(z["Id"]), str(z["Name"]).rstrip(".").lower()))
    return zones


async def zone_details(gw: AwsGateway, zone_id: str, name: str, *, account_id: str) -> HostedZone:
    """One zone's associated VPCs (GetHostedZone) and alias records (ListResourceRecordSets, paginated)."""

    async def vpcs() -> tuple[ZoneVpc, ...]:
        answer: dict[str, Any] = await gw.call("route53", "get_hosted_zone", account_id=account_id, Id=zone_id)
        seen: dict[str, ZoneVpc] = {}
        for v in answer.get("VPCs", []):
            seen.setdefault(v["VPCId"], ZoneVpc(vpc_id=v["VPCId"], region=str(v.get("VPCRegion", ""))))
        return tuple(seen.values())

    async def records() -> tuple[tuple[AliasRecord, ...], int]:
        aliases: list[AliasRecord] = []
        count = 0
        async for page in gw.paginate(
            "route53", "list_resource_record_sets", account_id=account_id, HostedZoneId=zone_id
        ):
            for r in page.get("ResourceRecordSets", []):
                count += 1
                target = r.get("AliasTarget")
                if target:
                    aliases.append(
                        AliasRecord(
                            name=str(r["Name"]).rstrip(".").lower(),
                            record_type=str(r["Type"]),
                            target_dns_name=str(target["DNSName"]).rstrip(".").lower(),
                            target_zone_id=str(target.get("HostedZoneId", "")),
                        )
                    )
        return tuple(aliases), count

    (associated, (aliases, count)) = await asyncio.gather(vpcs(), records())
    return HostedZone(
        zone_id=zone_id,
        name=name,
        account_id=account_id,
        private=True,
        vpcs=associated,
        aliases=aliases,
        record_count=count,
    )
