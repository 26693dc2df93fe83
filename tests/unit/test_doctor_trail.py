"""Doctor findings from the org trail's evidence: endpoint-unused, association-unused, unexpected-caller."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.test_doctor import EP, SPOKE_VPC, endpoint, inventory, spoke, zone

from vpce_console.services.doctor import TrailEvidence, trail_findings

OTHER_VPC = "vpc-0ccccccccccccccc2"


def evidence(calls_by_vpc: dict[tuple[str, str], int], outside: tuple[tuple[str, str, int], ...] = ()) -> TrailEvidence:
    by_endpoint: dict[str, int] = {}
    for (ep, _), n in calls_by_vpc.items():
        by_endpoint[ep] = by_endpoint.get(ep, 0) + n
    for ep, _, n in outside:
        by_endpoint[ep] = by_endpoint.get(ep, 0) + n
    return TrailEvidence("2026-11-23T00:00Z", calls_by_vpc, by_endpoint, outside)


def test_used_everywhere_means_no_finding() -> None:
    assert trail_findings(inventory(), evidence({(EP, SPOKE_VPC): 5})) == []


def test_silent_endpoint_is_unused_once() -> None:
    found = trail_findings(inventory(), evidence({}))
    assert [(f.code, f.severity, f.endpoint_id) for f in found] == [("endpoint-unused", "info", EP)]


def test_associated_vpc_without_calls_is_a_candidate_to_remove() -> None:
    inv = inventory(spokes=(spoke(), spoke(OTHER_VPC, "10.2.0.0/16")), zones=(zone(vpcs=(SPOKE_VPC, OTHER_VPC)),))
    found = trail_findings(inv, evidence({(EP, SPOKE_VPC): 3}))
    assert [(f.code, f.vpc_id, f.service) for f in found] == [("association-unused", OTHER_VPC, "sqs")]
    assert "disassociate-vpc-from-hosted-zone --hosted-zone-id Z0SQS" in found[0].fix_commands[0].command


def test_callers_outside_the_spokes_are_warnings() -> None:
    found = trail_findings(inventory(), evidence({(EP, SPOKE_VPC): 1}, ((EP, "IP 10.250.3.7", 4),)))
    assert [(f.code, f.severity) for f in found] == [("unexpected-caller", "warning")]
    assert "IP 10.250.3.7 made 4 call(s)" in found[0].message


def test_sts_is_not_a_network_activity_source() -> None:
    sts = replace(endpoint(), endpoint_id="vpce-0sts", service_name="com.amazonaws.us-east-1.sts")
    found = trail_findings(inventory(endpoints=(endpoint(), sts)), evidence({(EP, SPOKE_VPC): 1}))
    assert found == []  # silence says nothing about a service CloudTrail never logs network events for
