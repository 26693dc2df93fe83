"""Spokes that subscribe through Route 53 Profiles: the console reads them and the doctor finds exactly the seeded
faults — no `phz-missing-association` for a spoke whose Profile provides the zone — while `direct` is unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any

import pytest

pytestmark = pytest.mark.lab


def vpce(ready_file: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "vpce_console", "--lab-ready", ready_file, *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert "Traceback" not in result.stderr, result.stderr[-600:]
    return result.returncode, json.loads(result.stdout)


def seeded(ready: Mapping[str, Any]) -> set[tuple[str, str, str | None]]:
    """(code, service, spoke vpc) of each seeded fault; hub-level faults carry no spoke."""
    hub = ready["hub"]["vpc_id"]
    return {(f["code"], f["service"], None if f["vpc_id"] == hub else f["vpc_id"]) for f in ready["seeded_faults"]}


def found(document: Mapping[str, Any], ready: Mapping[str, Any]) -> set[tuple[str, str, str | None]]:
    spokes = {s["vpc_id"] for s in ready["spokes"]}
    out = set()
    for f in document["findings"]:
        if f["kind"] != "wiring":
            continue
        vpc = f["vpc_id"]
        # the stale association's VPC is deleted (not a spoke any more) but is what the fault names
        out.add((f["code"], f["service"], vpc if vpc in spokes or f["code"] == "phz-stale-association" else None))
    return out


@pytest.mark.parametrize("dns", ["profiles", "mixed"])
def test_doctor_finds_exactly_the_seeded_faults(dns: str, lab_factory: Callable[..., Any]) -> None:
    lab = lab_factory(scale="demo", seed=17, dns=dns)
    code, doctor = vpce(str(lab.ready_file), "doctor")
    assert code == 1
    assert found(doctor, lab.ready) == seeded(lab.ready)
    _, inventory = vpce(str(lab.ready_file), "inventory")
    on_profile = {a["vpc_id"] for a in inventory["profile_associations"]}
    assert on_profile and all(
        f["vpc_id"] not in on_profile for f in doctor["findings"] if f["code"] == "phz-missing-association"
    )
    # Per spoke × service, how it is subscribed; the Profile's name and id for the Profile path.
    names = {p["profile_id"]: p["name"] for p in inventory["profiles"]}
    assert set(names.values()) == set(lab.ready["profiles"])
    paths = {(s["name"], service): sub for s in inventory["subscribers"] for service, sub in s["subscriptions"].items()}
    assert paths[("dev-app", "kms")]["path"] == "profile"
    assert paths[("dev-app", "kms")]["profile_name"] == "shared-endpoints"
    assert paths[("dev-app", "sqs")]["path"] == "both"  # the seeded profile-and-direct VPC
    assert paths[("dev-app", "ssm")]["path"] == "profile"  # the ssm endpoint's own private DNS, through the Profile
    if dns == "mixed":
        assert paths[("client-lambdas", "kms")]["path"] == "direct"
    # Profile calls are paged reads counted in the stats, within Route 53 VPC Resolver's 5/s per account and Region.
    calls = inventory["stats"]["api_calls"]
    assert calls["route53profiles:ListProfileAssociations"] >= len({s["account_id"] for s in lab.ready["spokes"]})
    assert calls["route53profiles:ListProfileResourceAssociations"] == len(inventory["profiles"])
    assert sum(inventory["stats"]["profile_calls_by_account"].values()) == sum(
        n for op, n in calls.items() if op.startswith("route53profiles:")
    )
    assert not inventory["stats"]["throttled"]
    text = subprocess.run(
        [sys.executable, "-m", "vpce_console", "--lab-ready", str(lab.ready_file), "inventory"],
        capture_output=True,
        text=True,
        timeout=240,
    ).stdout
    assert "Route 53 Profiles (2)" in text and "(Profile shared-endpoints)" in text


def test_direct_scenario_is_unchanged(lab_ready_file: str, lab_ready: Mapping[str, Any]) -> None:
    """The shared (direct) lab: the same seeded faults as before Profiles existed, every path `direct`."""
    assert lab_ready.get("dns", "direct") == "direct"
    _, doctor = vpce(lab_ready_file, "doctor")
    assert found(doctor, lab_ready) == seeded(lab_ready)
    assert not {f["code"] for f in doctor["findings"]} & {"profile-missing-zone", "profile-and-direct"}
    _, inventory = vpce(lab_ready_file, "inventory")
    assert inventory["profiles"] == [] and inventory["profile_associations"] == []
    assert {sub["path"] for s in inventory["subscribers"] for sub in s["subscriptions"].values()} == {"direct"}


def test_impact_puts_profile_subscribers_through_the_endpoint(lab_factory: Callable[..., Any], tmp_path: Any) -> None:
    """`vpce impact` on a Profiles lab: a persona whose VPC gets the sqs zone from its Route 53 Profile meets the
    endpoint policy (as the console's inventory says), and only the VPCs with no path take the NAT way."""
    lab = lab_factory(scale="demo", seed=17, dns="profiles")
    default = tmp_path / "default.json"
    default.write_text('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}')
    deny = tmp_path / "deny.json"
    deny.write_text(
        '{"Statement":[{"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"*"},'
        '{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
    )
    _, inventory = vpce(str(lab.ready_file), "inventory")
    path = {s["vpc_id"]: s["subscriptions"].get("sqs", {}).get("path", "none") for s in inventory["subscribers"]}
    _, impact = vpce(str(lab.ready_file), "impact", "--from", str(default), "--to", str(deny))
    vpc_of = {p["name"]: p["vpc_id"] for p in lab.ready["personas"]}
    through = {c["persona"]: c["through_endpoint"] for c in impact["cells"]}
    on_profile = [name for name in through if path.get(vpc_of[name]) in ("profile", "both")]
    assert on_profile, "the profiles scenario puts some personas' VPCs on a Profile"
    for name, seen in through.items():
        assert seen == (path.get(vpc_of[name], "none") != "none"), (name, path.get(vpc_of[name]))
