"""The demo's deliberate faults and the Route 53 Profiles scenario, seeded on top of the world."""

from __future__ import annotations

from vpce_console.lab.seeder import (
    _Seeder,
)
from vpce_console.lab.world import (
    REGION,
    Spoke,
)


def demo_layout() -> list[tuple[str, str, list[str]]]:
    """The demo spoke accounts as data/lab_spokes.yaml lists them: (account, environment, VPC names), in order."""
    from importlib.resources import files

    from vpce_console.safeload import load_yaml

    text = files("vpce_console.data").joinpath("lab_spokes.yaml").read_text(encoding="utf-8")
    return [
        (str(a["account_id"]), str(a["environment"]), [str(s["name"]) for s in a["spokes"]])
        for a in load_yaml(text)["accounts"]
    ]


_DEMO_NAMES = frozenset(name for _, _, names in demo_layout() for name in names)
"""The demo's spoke VPC names (the org scale keeps them and adds generated ones)."""


def _faults(s: _Seeder, by_name: dict[str, Spoke]) -> None:
    """Plant one of each doctor finding and record it for the ready-file."""
    w = s.world
    faults = w.seeded_faults
    # staging-app expects kms but is not associated (skipped above); in `profiles` its Profile lacks kms instead.
    if w.dns != "profiles":
        faults.append({"code": "phz-missing-association", "vpc_id": by_name["staging-app"].vpc_id, "service": "kms"})
    # prod-app associated with sqs although the config forbids environment=prod.
    s.associate(by_name["prod-app"], "sqs")
    faults.append({"code": "phz-forbidden-association", "vpc_id": by_name["prod-app"].vpc_id, "service": "sqs"})
    # a retired dev VPC was associated and then deleted: the association stays behind.
    dev_account = by_name["dev-app"].account_id
    ec2 = s.ec2(dev_account)
    retired = ec2.create_vpc(
        "10.99.0.0/16", tags=[{"Key": "Name", "Value": "dev-retired"}, {"Key": "environment", "Value": "dev"}]
    )
    s.r53().zones[w.zones["sqs"]].add_vpc(retired.id, REGION)
    ec2.delete_vpc(retired.id)
    faults.append({"code": "phz-stale-association", "vpc_id": retired.id, "service": "sqs"})
    # the sqs endpoint SG misses dev-batch's CIDR.
    batch = by_name["dev-batch"]
    s.sg_cidrs["sqs"] = [c for c in s.sg_cidrs["sqs"] if c != batch.cidr]
    faults.append({"code": "sg-missing-spoke-cidr", "vpc_id": batch.vpc_id, "service": "sqs"})
    # private DNS left on for the shared ssm endpoint: a fault with direct associations, the supported pattern when
    # the endpoint itself is attached to a Profile (the Profile scenarios attach it).
    s.ec2(w.hub_account).vpc_end_points[w.endpoints["ssm"]].private_dns_enabled = True
    if w.dns == "direct":
        faults.append({"code": "private-dns-enabled-on-shared", "vpc_id": w.hub_vpc_id, "service": "ssm"})
    # the monitoring alias points at an endpoint that was replaced and deleted.
    old = s.endpoint("monitoring", s.subnets[:2], private_dns=False, register=False)
    old_name = old.dns_entries[0]["dns_name"]
    hub = s.ec2(w.hub_account)
    for eni_id in old.network_interface_ids:
        hub.delete_network_interface(eni_id)
    hub.delete_vpc_endpoints([old.id])
    r53 = s.r53()
    zone = r53.zones[w.zones["monitoring"]]
    for rrset in zone.rrsets:
        if rrset.type == "A":
            rrset.alias_target["DNSName"] = old_name
    faults.append({"code": "alias-target-mismatch", "vpc_id": w.hub_vpc_id, "service": "monitoring"})


def _uses_profile(dns: str, account: str, name: str) -> bool:
    """Which spokes subscribe through a Profile: all in `profiles`, the dev account and staging-eks in `mixed`."""
    if dns == "profiles":
        return True
    if dns == "mixed":
        return account == "222222222222" or name == "staging-eks" or name.startswith("dev-a")
    return False


PROFILE_ALL = "shared-endpoints"


PROFILE_NO_KMS = "staging-core"


def _profiles(s: _Seeder, by_name: dict[str, Spoke], spokes: list[Spoke]) -> None:
    """Two hub Profiles shared through RAM with every spoke account: one with every service zone (ssm through its
    endpoint, private DNS on), one without kms; each Profile-subscribed spoke is associated with one of them, and
    the faults a Profile fleet has are planted (a Profile missing a zone a spoke needs; a VPC with both paths)."""
    from vpce_console.lab.profiles import endpoint_arn, zone_arn

    w = s.world
    store = w.profiles
    spoke_accounts = [a for a in w.accounts if a != w.hub_account]
    ids: dict[str, str] = {}
    for name, skip in ((PROFILE_ALL, set()), (PROFILE_NO_KMS, {"kms"})):
        profile = store.create_profile(w.hub_account, name)
        store.share(profile.profile_id, spoke_accounts)
        for svc in w.endpoints:
            if svc in skip:
                continue
            ssm = svc == "ssm"  # ssm reaches spokes through its endpoint's own private DNS
            arn = endpoint_arn(REGION, w.hub_account, w.endpoints[svc]) if ssm else zone_arn(w.zones[svc])
            store.associate_resource(w.hub_account, profile.profile_id, arn, f"{name}-{svc.replace('.', '-')}")
        ids[name] = profile.profile_id
    w.profile_ids = ids
    limited = {"staging-app"} if w.dns == "profiles" else {"staging-eks"}
    for spoke in spokes:
        name = PROFILE_NO_KMS if spoke.name in limited else PROFILE_ALL
        store.associate_vpc(spoke.account_id, ids[name], spoke.vpc_id, f"{spoke.name}-dns")
        provided = [svc for svc in w.endpoints if not (name == PROFILE_NO_KMS and svc == "kms")]
        spoke.services = provided
        for svc in provided:
            s.sg_cidrs[svc].append(s.sg_cidr.get(spoke.vpc_id, spoke.cidr))
        if spoke.name in limited:
            w.seeded_faults.append({"code": "profile-missing-zone", "vpc_id": spoke.vpc_id, "service": "kms"})
    # dev-app keeps an old direct association with the sqs zone next to its Profile.
    dev = by_name.get("dev-app")
    if dev is not None and store.profile_of(dev.vpc_id) is not None:
        s.r53().zones[w.zones["sqs"]].add_vpc(dev.vpc_id, REGION)
        w.seeded_faults.append({"code": "profile-and-direct", "vpc_id": dev.vpc_id, "service": "sqs"})
