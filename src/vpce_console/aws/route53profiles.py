"""Route 53 Profiles reads: the Profiles an account sees, their attached zones and endpoints, and VPC associations.

`ListHostedZonesByVPC` and `GetHostedZone` do not show zones that reach a VPC through a Profile (facts §5), so the
inventory reads these too. Associations are listed by the account that made them (the VPC owner); a Profile's
resources are listed by its owner or by an account it is shared with. Every list is paged (MaxResults ≤ 100).
"""

from __future__ import annotations

import re

from vpce_console.aws.models import DnsProfile, ProfileAssociation
from vpce_console.aws.session import AwsGateway

_ARN = re.compile(r"^arn:aws[\w-]*:route53profiles:([^:]*):(\d+):profile/(.+)$")
_ZONE = re.compile(r"^arn:aws[\w-]*:route53:::hostedzone/(.+)$")
_ENDPOINT = re.compile(r"^arn:aws[\w-]*:ec2:[^:]*:\d*:vpc-endpoint/(.+)$")


async def list_profiles(gw: AwsGateway, *, account_id: str, region: str) -> list[DnsProfile]:
    """Every Profile the account owns or has been shared (ListProfiles), without resources yet."""
    found: list[DnsProfile] = []
    async for page in gw.paginate("route53profiles", "list_profiles", account_id=account_id, region=region):
        for item in page.get("ProfileSummaries", []):
            m = _ARN.match(str(item.get("Arn", "")))
            found.append(
                DnsProfile(
                    profile_id=str(item["Id"]),
                    name=str(item.get("Name", "")),
                    owner_id=m.group(2) if m else account_id,
                    region=m.group(1) if m else region,
                    share_status=str(item.get("ShareStatus", "")),
                )
            )
    return found


async def profile_resources(
    gw: AwsGateway, profile_id: str, *, account_id: str, region: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(hosted zone ids, interface endpoint ids) attached to a Profile, classified by ARN."""
    zones: list[str] = []
    endpoints: list[str] = []
    async for page in gw.paginate(
        "route53profiles",
        "list_profile_resource_associations",
        account_id=account_id,
        region=region,
        ProfileId=profile_id,
    ):
        for item in page.get("ProfileResourceAssociations", []):
            arn = str(item.get("ResourceArn", ""))
            if m := _ZONE.match(arn):
                zones.append(m.group(1))
            elif m := _ENDPOINT.match(arn):
                endpoints.append(m.group(1))
    return tuple(sorted(set(zones))), tuple(sorted(set(endpoints)))


async def profile_associations(gw: AwsGateway, *, account_id: str, region: str) -> list[ProfileAssociation]:
    """The VPC ↔ Profile associations an account made (ListProfileAssociations, paged)."""
    found: list[ProfileAssociation] = []
    async for page in gw.paginate("route53profiles", "list_profile_associations", account_id=account_id, region=region):
        for item in page.get("ProfileAssociations", []):
            found.append(
                ProfileAssociation(
                    profile_id=str(item["ProfileId"]),
                    vpc_id=str(item["ResourceId"]),
                    account_id=str(item.get("OwnerId") or account_id),
                    region=region,
                    name=str(item.get("Name", "")),
                )
            )
    return found
