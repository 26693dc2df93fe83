"""Doctor checks on constructed inventories: each code fires on its fault and stays quiet on a healthy pair."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from vpce_console.aws.models import (
    AliasRecord,
    Endpoint,
    Eni,
    HostedZone,
    HubVpc,
    Route,
    RouteTable,
    SecurityGroup,
    SpokeVpc,
    Subnet,
    ZoneVpc,
)
from vpce_console.aws.session import CallerIdentity
from vpce_console.config import Config, config_from_dict
from vpce_console.services.doctor import catalog, diagnose, has_errors
from vpce_console.services.inventory import Hub, Inventory, InventoryStats, LintSummary

HUB_ACCOUNT = "111111111111"
SPOKE_ACCOUNT = "222222222222"
HUB_VPC = "vpc-0aaaaaaaaaaaaaaa0"
SPOKE_VPC = "vpc-0bbbbbbbbbbbbbbb1"
SPOKE2_VPC = "vpc-0bbbbbbbbbbbbbbb2"
EP = "vpce-0123456789abcdef0"
ZONE = "Z0SQS"


def endpoint(**changes: Any) -> Endpoint:
    base = Endpoint(
        endpoint_id=EP,
        account_id=HUB_ACCOUNT,
        region="us-east-1",
        vpc_id=HUB_VPC,
        service_name="com.amazonaws.us-east-1.sqs",
        endpoint_type="Interface",
        state="available",
        private_dns_enabled=False,
        policy_text=None,
        subnet_ids=("subnet-a", "subnet-b"),
        enis=(
            Eni("eni-a", "subnet-a", "us-east-1a", "10.0.1.10", "use1-az1"),
            Eni("eni-b", "subnet-b", "us-east-1b", "10.0.2.10", "use1-az2"),
        ),
        security_groups=(SecurityGroup("sg-1", "vpce", ("10.1.0.0/16", "10.2.0.0/16")),),
        dns_names=(f"{EP}-abcd.sqs.us-east-1.vpce.amazonaws.com",),
        policy_supported=True,
    )
    return replace(base, **changes)


def spoke(vpc_id: str = SPOKE_VPC, cidr: str = "10.1.0.0/16", **changes: Any) -> SpokeVpc:
    base = SpokeVpc(
        vpc_id=vpc_id,
        account_id=SPOKE_ACCOUNT,
        region="us-east-1",
        cidrs=(cidr,),
        tags={"Name": f"app-{vpc_id[-1]}", "environment": "dev"},
        dns_support=True,
        dns_hostnames=True,
        subnets=(Subnet(f"subnet-{vpc_id[-1]}", "us-east-1c", cidr, "use1-az1"),),
        route_tables=(RouteTable("rtb-1", True, (), (Route("10.0.0.0/8", "tgw", "tgw-1"),)),),
        tgw_attachments=("tgw-attach-1",),
    )
    return replace(base, **changes)


def zone(vpcs: tuple[str, ...] = (HUB_VPC, SPOKE_VPC), target: str | None = None, **changes: Any) -> HostedZone:
    base = HostedZone(
        zone_id=ZONE,
        name="sqs.us-east-1.amazonaws.com",
        account_id=HUB_ACCOUNT,
        private=True,
        vpcs=tuple(ZoneVpc(v, "us-east-1") for v in vpcs),
        aliases=(
            AliasRecord(
                "sqs.us-east-1.amazonaws.com", "A", target or f"{EP}-abcd.sqs.us-east-1.vpce.amazonaws.com", "Z7HUB"
            ),
        ),
    )
    return replace(base, **changes)


def inventory(
    endpoints: tuple[Endpoint, ...] | None = None,
    zones: tuple[HostedZone, ...] | None = None,
    spokes: tuple[SpokeVpc, ...] | None = None,
    **changes: Any,
) -> Inventory:
    eps = endpoints if endpoints is not None else (endpoint(),)
    zs = zones if zones is not None else (zone(),)
    base = Inventory(
        caller=CallerIdentity(HUB_ACCOUNT, f"arn:aws:iam::{HUB_ACCOUNT}:user/op", "AID"),
        region="us-east-1",
        hubs=(Hub(HUB_ACCOUNT, "us-east-1", (HubVpc(HUB_VPC, HUB_ACCOUNT, "us-east-1", ("10.0.0.0/16",)),)),),
        endpoints=eps,
        zones=zs,
        zone_services={z.zone_id: z.name.split(".")[0] for z in zs},
        spokes=spokes if spokes is not None else (spoke(),),
        lint={e.endpoint_id: LintSummary() for e in eps},
        stats=InventoryStats(0.0, {}, {}),
        spoke_accounts=(SPOKE_ACCOUNT,),
    )
    return replace(base, **changes)


def codes(inv: Inventory, config: Config | None = None) -> list[str]:
    return [f.code for f in diagnose(inv, config or Config())]


def test_healthy_pair_has_no_findings() -> None:
    config = config_from_dict({"forbidden": ["environment=prod"], "expected_services": {"dev": ["sqs"]}})
    assert diagnose(inventory(), config) == []


def test_missing_association_from_config() -> None:
    config = config_from_dict({"expected_services": {"dev": ["sqs"]}})
    inv = inventory(zones=(zone(vpcs=(HUB_VPC,)),))
    findings = diagnose(inv, config)
    assert [f.code for f in findings] == ["phz-missing-association"]
    f = findings[0]
    assert (f.vpc_id, f.account_id, f.service, f.severity) == (SPOKE_VPC, SPOKE_ACCOUNT, "sqs", "error")
    assert "NAT" in f.message and f.hint


def test_missing_association_inferred_from_peers() -> None:
    kms_zone = HostedZone(
        "Z0KMS",
        "kms.us-east-1.amazonaws.com",
        HUB_ACCOUNT,
        True,
        tuple(ZoneVpc(v, "us-east-1") for v in (HUB_VPC, "vpc-0c1", "vpc-0c2", "vpc-0c3")),
    )
    peers = tuple(spoke(v, f"10.{i + 5}.0.0/16") for i, v in enumerate(("vpc-0c1", "vpc-0c2", "vpc-0c3")))
    sqs_zone = zone(vpcs=(HUB_VPC, "vpc-0c1", "vpc-0c2", "vpc-0c3", SPOKE_VPC))
    inv = inventory(zones=(sqs_zone, kms_zone), spokes=(spoke(), *peers))
    missing = [f for f in diagnose(inv, Config()) if f.code == "phz-missing-association"]
    assert [(f.vpc_id, f.service) for f in missing] == [(SPOKE_VPC, "kms")]


def test_forbidden_association() -> None:
    prod = spoke(tags={"Name": "prod", "environment": "prod"})
    config = config_from_dict({"forbidden": ["environment=prod"], "expected_services": {"prod": ["sqs"]}})
    inv = inventory(spokes=(prod,))
    assert "phz-forbidden-association" in codes(inv, config)
    assert "phz-missing-association" not in codes(inventory(zones=(zone(vpcs=(HUB_VPC,)),), spokes=(prod,)), config)
    assert "phz-forbidden-association" not in codes(inventory(), config)


def test_forbidden_by_vpc_id() -> None:
    config = config_from_dict({"forbidden": [SPOKE_VPC]})
    assert "phz-forbidden-association" in codes(inventory(), config)


def test_stale_association() -> None:
    inv = inventory(zones=(zone(vpcs=(HUB_VPC, SPOKE_VPC, "vpc-0dead")),))
    found = [f for f in diagnose(inv, Config()) if f.code == "phz-stale-association"]
    assert [f.vpc_id for f in found] == ["vpc-0dead"]
    assert "phz-stale-association" not in codes(inventory())
    # Without any scanned spoke account every association would look stale: the check stays quiet.
    quiet = inventory(zones=(zone(vpcs=(HUB_VPC, "vpc-0dead")),), spoke_accounts=())
    assert "phz-stale-association" not in codes(quiet)


@pytest.mark.parametrize(
    "target",
    ["vpce-0deleted000000000-abcd.sqs.us-east-1.vpce.amazonaws.com", "vpce-0kms-x.kms.us-east-1.vpce.amazonaws.com"],
)
def test_alias_target_mismatch(target: str) -> None:
    kms = endpoint(
        endpoint_id="vpce-0kms",
        service_name="com.amazonaws.us-east-1.kms",
        dns_names=("vpce-0kms-x.kms.us-east-1.vpce.amazonaws.com",),
    )
    inv = inventory(endpoints=(endpoint(), kms), zones=(zone(target=target),))
    assert "alias-target-mismatch" in codes(inv)


def test_alias_matching_by_endpoint_id_prefix_and_missing_apex() -> None:
    ok = inventory(zones=(zone(target=f"{EP}-zzzz.sqs.us-east-1.vpce.amazonaws.com."),))
    assert "alias-target-mismatch" not in codes(ok)
    no_alias = inventory(zones=(zone(aliases=()),))
    assert "alias-target-mismatch" in codes(no_alias)


def test_private_dns_enabled_on_shared() -> None:
    assert codes(inventory(endpoints=(endpoint(private_dns_enabled=True),))) == ["private-dns-enabled-on-shared"]


def test_sg_missing_spoke_cidr() -> None:
    narrow = endpoint(security_groups=(SecurityGroup("sg-1", "vpce", ("10.2.0.0/16",)),))
    found = diagnose(inventory(endpoints=(narrow,)), Config())
    assert [f.code for f in found] == ["sg-missing-spoke-cidr"]
    assert found[0].endpoint_id == EP and "10.1.0.0/16" in found[0].message
    wide = endpoint(security_groups=(SecurityGroup("sg-1", "vpce", ("10.0.0.0/8",)),))
    assert codes(inventory(endpoints=(wide,))) == []


def test_no_route_to_hub() -> None:
    igw_only = spoke(route_tables=(RouteTable("rtb-1", True, (), (Route("0.0.0.0/0", "igw", "igw-1"),)),))
    assert codes(inventory(spokes=(igw_only,))) == ["no-route-to-hub"]
    blackhole = spoke(
        route_tables=(RouteTable("rtb-1", True, (), (Route("10.0.0.0/16", "tgw", "tgw-1", "blackhole"),)),)
    )
    assert codes(inventory(spokes=(blackhole,))) == ["no-route-to-hub"]
    peering = spoke(route_tables=(RouteTable("rtb-1", True, (), (Route("10.0.0.0/16", "pcx", "pcx-1"),)),))
    assert codes(inventory(spokes=(peering,))) == []


def test_vpc_dns_disabled() -> None:
    assert codes(inventory(spokes=(spoke(dns_hostnames=False),))) == ["vpc-dns-disabled"]
    assert codes(inventory(spokes=(spoke(dns_support=False),))) == ["vpc-dns-disabled"]
    assert codes(inventory(spokes=(spoke(dns_support=None, dns_hostnames=None),))) == []


@pytest.mark.parametrize("state", ["pending", "failed", "deleting"])
def test_endpoint_not_available(state: str) -> None:
    assert codes(inventory(endpoints=(endpoint(state=state),))) == ["endpoint-not-available"]


def test_policy_on_unsupported_service() -> None:
    custom = '{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}'
    default = '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
    assert "policy-on-unsupported-service" in codes(
        inventory(endpoints=(endpoint(policy_supported=False, policy_text=custom),))
    )
    assert codes(inventory(endpoints=(endpoint(policy_supported=False, policy_text=default),))) == []
    assert codes(inventory(endpoints=(endpoint(policy_supported=True, policy_text=custom),))) == []


def test_overlapping_spoke_cidrs() -> None:
    twin = spoke(SPOKE2_VPC, "10.1.128.0/17")
    inv = inventory(spokes=(spoke(), twin), zones=(zone(vpcs=(HUB_VPC, SPOKE_VPC, SPOKE2_VPC)),))
    found = [f for f in diagnose(inv, Config()) if f.code == "overlapping-spoke-cidrs"]
    assert len(found) == 1 and SPOKE2_VPC in found[0].message
    apart = spoke(SPOKE2_VPC, "10.2.0.0/16")
    inv2 = inventory(spokes=(spoke(), apart), zones=(zone(vpcs=(HUB_VPC, SPOKE_VPC, SPOKE2_VPC)),))
    assert "overlapping-spoke-cidrs" not in codes(inv2)


def test_az_not_covered_compares_az_ids() -> None:
    far = spoke(subnets=(Subnet("subnet-x", "us-east-1a", "10.1.0.0/24", "use1-az6"),))
    found = [f for f in diagnose(inventory(spokes=(far,)), Config()) if f.code == "az-not-covered"]
    assert len(found) == 1 and "use1-az6" in found[0].message
    # Same AZ name in another account is a different place: without AZ ids nothing is compared.
    names_only = spoke(subnets=(Subnet("subnet-x", "us-east-1a", "10.1.0.0/24", None),))
    assert "az-not-covered" not in codes(inventory(spokes=(names_only,)))


def test_inventory_warnings_become_findings() -> None:
    assert codes(inventory(warnings=("account 333333333333: access denied",))) == ["inventory-incomplete"]


def test_policy_lint_findings_are_included_per_endpoint() -> None:
    from vpce_console.policy.findings import Finding, Severity

    lint = LintSummary(
        errors=1,
        codes=("hub-scoped-key",),
        findings=(Finding("hub-scoped-key", Severity.ERROR, 3, 5, "Statement[0]", "names the hub", "use X"),),
    )
    inv = inventory(lint={EP: lint})
    found = diagnose(inv, Config())
    assert [(f.code, f.kind, f.endpoint_id) for f in found] == [("hub-scoped-key", "policy", EP)]
    assert has_errors(found)


def test_every_catalog_code_is_emitted_by_a_check_and_vice_versa() -> None:
    import inspect

    from vpce_console.services import doctor, doctor_dns, doctor_findings, doctor_network, doctor_trail

    source = "".join(inspect.getsource(m) for m in (doctor, doctor_dns, doctor_findings, doctor_network, doctor_trail))
    for code, entry in catalog().items():
        assert f'"{code}"' in source, code
        assert entry.severity in ("error", "warning", "info")
        assert entry.source.startswith("https://")
    import re

    emitted = set(re.findall(r'_finding\(\s*"([a-z0-9-]+)"', source))
    assert emitted == set(catalog())


def test_findings_are_sorted_errors_first() -> None:
    inv = inventory(endpoints=(endpoint(private_dns_enabled=True, state="failed"),))
    assert codes(inv) == ["endpoint-not-available", "private-dns-enabled-on-shared"]


# --- fixes as commands with the real ids -------------------------------------------------------------------


def fixes(inv: Inventory, code: str, config: Config | None = None) -> list[tuple[str | None, str, str]]:
    (finding,) = [f for f in diagnose(inv, config or Config()) if f.code == code]
    return [(c.account_id, c.runs_as, c.command) for c in finding.fix_commands]


def test_missing_association_cross_account_is_authorize_then_associate() -> None:
    """The zone owner (hub) authorizes, the VPC owner (spoke) associates, the zone owner tidies the authorization."""
    config = config_from_dict({"expected_services": {"dev": ["sqs"]}})
    vpc = f"VPCRegion=us-east-1,VPCId={SPOKE_VPC}"
    assert fixes(inventory(zones=(zone(vpcs=(HUB_VPC,)),)), "phz-missing-association", config) == [
        (
            HUB_ACCOUNT,
            "hosted zone owner",
            f"aws route53 create-vpc-association-authorization --hosted-zone-id {ZONE} --vpc {vpc}",
        ),
        (
            SPOKE_ACCOUNT,
            "spoke VPC owner",
            f"aws route53 associate-vpc-with-hosted-zone --hosted-zone-id {ZONE} --vpc {vpc}",
        ),
        (
            HUB_ACCOUNT,
            "hosted zone owner",
            f"aws route53 delete-vpc-association-authorization --hosted-zone-id {ZONE} --vpc {vpc}",
        ),
    ]
    same = inventory(zones=(zone(vpcs=(HUB_VPC,)),), spokes=(spoke(account_id=HUB_ACCOUNT),))
    assert [c[2].split()[2] for c in fixes(same, "phz-missing-association", config)] == [
        "associate-vpc-with-hosted-zone"
    ]


def test_every_finding_about_a_spoke_names_it_and_its_account() -> None:
    narrow = endpoint(security_groups=(SecurityGroup("sg-1", "vpce", ("10.2.0.0/16",)),))
    bad = spoke(dns_support=False, route_tables=(RouteTable("rtb-9", True, (), ()),))
    config = config_from_dict({"expected_services": {"dev": ["sqs", "kms"]}})
    found = [f for f in diagnose(inventory(endpoints=(narrow,), spokes=(bad,)), config) if f.vpc_id]
    assert {f.code for f in found} == {
        "sg-missing-spoke-cidr",
        "vpc-dns-disabled",
        "no-route-to-hub",
        "phz-missing-association",
    }
    for f in found:
        assert (f.vpc_name, f.account_id) == ("app-1", SPOKE_ACCOUNT), f.code
        assert f"app-1, account {SPOKE_ACCOUNT}" in f.message, f.code
        assert f.to_json()["vpc_name"] == "app-1"


def test_sg_fix_names_the_group_and_the_cidr() -> None:
    narrow = endpoint(security_groups=(SecurityGroup("sg-1", "vpce", ("10.2.0.0/16",)),))
    ((account, runs_as, command),) = fixes(inventory(endpoints=(narrow,)), "sg-missing-spoke-cidr")
    assert (account, runs_as) == (HUB_ACCOUNT, "hub endpoint owner")
    assert command == (
        "aws ec2 authorize-security-group-ingress --region us-east-1 --group-id sg-1 --ip-permissions "
        "'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=10.1.0.0/16,"
        f'Description="app-1 {SPOKE_VPC} account {SPOKE_ACCOUNT}"}}]\''
    )


def test_endpoint_and_zone_fixes() -> None:
    assert fixes(inventory(endpoints=(endpoint(private_dns_enabled=True),)), "private-dns-enabled-on-shared") == [
        (
            HUB_ACCOUNT,
            "hub endpoint owner",
            f"aws ec2 modify-vpc-endpoint --region us-east-1 --vpc-endpoint-id {EP} --no-private-dns-enabled",
        )
    ]
    pointed = endpoint(dns_zone_id="Z7HUB4ULCMQR5")
    inv = inventory(endpoints=(pointed,), zones=(zone(target="vpce-0gone-x.sqs.us-east-1.vpce.amazonaws.com"),))
    ((account, _, command),) = fixes(inv, "alias-target-mismatch")
    assert account == HUB_ACCOUNT and command.startswith(
        f"aws route53 change-resource-record-sets --hosted-zone-id {ZONE} "
    )
    batch = json.loads(command.split("--change-batch ", 1)[1].strip("'"))
    assert batch["Changes"][0]["ResourceRecordSet"] == {
        "Name": "sqs.us-east-1.amazonaws.com",
        "Type": "A",
        "AliasTarget": {
            "HostedZoneId": "Z7HUB4ULCMQR5",
            "DNSName": f"{EP}-abcd.sqs.us-east-1.vpce.amazonaws.com",
            "EvaluateTargetHealth": False,
        },
    }
    # Without the endpoint's DNS zone id the UPSERT would be a guess: no command, the hint still says what to do.
    assert (
        fixes(inventory(zones=(zone(target="vpce-0gone-x.sqs.us-east-1.vpce.amazonaws.com"),)), "alias-target-mismatch")
        == []
    )


def test_spoke_side_fixes_run_in_the_spoke_account() -> None:
    dns_off = fixes(inventory(spokes=(spoke(dns_support=False, dns_hostnames=False),)), "vpc-dns-disabled")
    modify = f"aws ec2 modify-vpc-attribute --region us-east-1 --vpc-id {SPOKE_VPC}"
    assert [c[2] for c in dns_off] == [
        f"{modify} --enable-dns-support '{{\"Value\":true}}'",
        f"{modify} --enable-dns-hostnames '{{\"Value\":true}}'",
    ]
    assert {c[0] for c in dns_off} == {SPOKE_ACCOUNT}
    other = spoke(SPOKE2_VPC, "10.2.0.0/16")  # routes through tgw-1: the TGW the fix should use
    lost = spoke(route_tables=(RouteTable("rtb-9", True, (), (Route("0.0.0.0/0", "igw", "igw-1"),)),))
    inv = inventory(spokes=(lost, other), zones=(zone(vpcs=(HUB_VPC, SPOKE_VPC, SPOKE2_VPC)),))
    assert fixes(inv, "no-route-to-hub") == [
        (
            SPOKE_ACCOUNT,
            "spoke VPC owner",
            "aws ec2 create-route --region us-east-1 --route-table-id rtb-9 --destination-cidr-block 10.0.0.0/16 "
            "--transit-gateway-id tgw-1",
        )
    ]


def test_forbidden_and_stale_fixes_disassociate_from_the_zone_owner() -> None:
    config = config_from_dict({"forbidden": [SPOKE_VPC]})
    ((account, _, command),) = fixes(inventory(), "phz-forbidden-association", config)
    assert account == HUB_ACCOUNT
    assert command == (
        f"aws route53 disassociate-vpc-from-hosted-zone --hosted-zone-id {ZONE} "
        f"--vpc VPCRegion=us-east-1,VPCId={SPOKE_VPC}"
    )
    stale = inventory(zones=(zone(vpcs=(HUB_VPC, SPOKE_VPC, "vpc-0dead")),))
    assert [c[2].split()[2] for c in fixes(stale, "phz-stale-association")] == ["disassociate-vpc-from-hosted-zone"]


def test_every_command_template_names_an_account_and_a_cli_reference() -> None:
    from vpce_console.services.doctor import ACCOUNT_ROLES

    templates = [t for entry in catalog().values() for t in entry.commands]
    assert len(templates) >= 12
    for t in templates:
        assert t.account in ACCOUNT_ROLES and t.run.startswith("aws ") and t.source.startswith("https://docs.aws")
        assert t.when in (None, "cross-account", "same-account")


# --- Route 53 Profiles --------------------------------------------------------------------------------------


def on_profile(inv: Inventory, *, zones: tuple[str, ...] = (ZONE,), endpoints: tuple[str, ...] = ()) -> Inventory:
    from vpce_console.aws.models import DnsProfile, ProfileAssociation

    profile = DnsProfile("rp-0abc", "shared", HUB_ACCOUNT, "us-east-1", zone_ids=zones, endpoint_ids=endpoints)
    return replace(
        inv,
        profiles=(profile,),
        profile_associations=tuple(
            ProfileAssociation("rp-0abc", s.vpc_id, s.account_id, "us-east-1") for s in inv.spokes
        ),
    )


def test_a_zone_through_the_profile_is_an_association() -> None:
    config = config_from_dict({"expected_services": {"dev": ["sqs"]}})
    inv = on_profile(inventory(zones=(zone(vpcs=(HUB_VPC,)),)))
    assert codes(inv, config) == []
    assert inv.subscription(SPOKE_VPC, "sqs").path == "profile"
    assert inv.subscriber_vpc_ids("sqs") == {SPOKE_VPC}


def test_profile_missing_zone_replaces_phz_missing_association() -> None:
    config = config_from_dict({"expected_services": {"dev": ["sqs"]}})
    inv = on_profile(inventory(zones=(zone(vpcs=(HUB_VPC,)),)), zones=())
    assert codes(inv, config) == ["profile-missing-zone"]
    assert fixes(inv, "profile-missing-zone", config) == [
        (
            HUB_ACCOUNT,
            "Route 53 Profile owner",
            "aws route53profiles associate-resource-to-profile --region us-east-1 --profile-id rp-0abc "
            f"--resource-arn arn:aws:route53:::hostedzone/{ZONE} --name sqs-zone",
        )
    ]


def test_profile_and_direct_is_info_and_says_the_answer() -> None:
    inv = on_profile(inventory())
    (finding,) = diagnose(inv, Config())
    assert (finding.code, finding.severity, finding.service) == ("profile-and-direct", "info", "sqs")
    assert "same zone" in finding.message and "hub endpoint either way" in finding.message
    assert inv.subscription(SPOKE_VPC, "sqs").path == "both"


def test_private_dns_is_fine_for_an_endpoint_a_profile_serves() -> None:
    served = inventory(endpoints=(endpoint(private_dns_enabled=True),), zones=(zone(vpcs=(HUB_VPC,)),))
    assert codes(served) == ["private-dns-enabled-on-shared"]
    assert codes(on_profile(served, zones=(), endpoints=(EP,))) == []
    assert on_profile(served, zones=(), endpoints=(EP,)).subscription(SPOKE_VPC, "sqs").path == "profile"


def test_forbidden_vpc_on_a_profile() -> None:
    prod = spoke(tags={"Name": "prod", "environment": "prod"})
    config = config_from_dict({"forbidden": ["environment=prod"]})
    inv = on_profile(inventory(spokes=(prod,), zones=(zone(vpcs=(HUB_VPC,)),)))
    assert fixes(inv, "phz-forbidden-association", config) == [
        (
            SPOKE_ACCOUNT,
            "spoke VPC owner",
            "aws route53profiles disassociate-profile --region us-east-1 --profile-id rp-0abc "
            f"--resource-id {SPOKE_VPC}",
        )
    ]
