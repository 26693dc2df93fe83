"""Issue 14: the heaviest observed callers become watch probes where this machine can act as them."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.test_replay import deny_account

from vpce_console.policy.personas import HubEndpoint, Persona
from vpce_console.services.observed_probes import caller_label, identity_for, observed_probes
from vpce_console.services.plan import RolloutPlan, choose_probes, with_observed
from vpce_console.services.probes import ProbeIdentity, derive_probes, role_identity, workload_identities

HUB = HubEndpoint(account_id="111122223333", vpc_id="vpc-0hub", endpoint_id="vpce-0sqs", region="us-east-1")
OPEN = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
APP_ROLE = "arn:aws:iam::222233334444:role/orders-app"


shut_out = deny_account
"""Everything allowed except one account (the replay tests' draft)."""


def caller(account: str, principal: str | None, vpc: str, calls: int, *actions: tuple[str, int]) -> dict[str, Any]:
    """One entry of a replay report's `callers`."""
    return {
        "account": account,
        "principal": principal,
        "redacted": principal is None,
        "vpc": vpc,
        "source_ip": "10.1.0.5",
        "calls": calls,
        "draft_denies": 0,
        "draft_undetermined": 0,
        "actions": [{"action": a, "calls": n} for a, n in actions],
    }


def workload(name: str, account: str, vpc: str) -> ProbeIdentity:
    persona = Persona(name, "ecs-task", account, f"arn:aws:iam::{account}:role/{name}-role", vpc_id=vpc)
    return workload_identities([persona], {name: ("AKIA", "secret")})[0]


def test_a_redacted_heavy_caller_is_probed_by_a_workload_of_its_account_and_vpc_making_its_read_call() -> None:
    """The draft shuts out 222233334444: its heaviest caller (redacted to the account) is probed as the workload
    this machine holds keys for in that VPC, making the read call the caller made (GetQueueAttributes), not its
    heaviest (SendMessage, which a probe may not make); the plan says both."""
    heavy = caller("222233334444", None, "vpc-0a", 556, ("sqs:SendMessage", 300), ("sqs:GetQueueAttributes", 99))
    other = caller("555566667777", None, "vpc-0b", 381, ("sqs:GetQueueAttributes", 68))
    identities = [workload("web", "222233334444", "vpc-0a"), workload("client", "555566667777", "vpc-0b")]
    probes, notes = observed_probes(
        [heavy, other], identities, service="sqs", hub=HUB, before=OPEN, after=shut_out("222233334444")
    )
    assert notes == []
    assert len(probes) == 1, "the other caller's calls do not change: no probe could see the change through it"
    (observed,) = probes
    assert observed.probe.identity.name == "web"
    assert observed.probe.action == "sqs:GetQueueAttributes"
    assert (observed.probe.before, observed.probe.after) == ("allow", "explicit_deny")
    assert (observed.caller, observed.calls, observed.heaviest) == ("222233334444 vpc-0a", 556, "sqs:SendMessage")
    denied, allowed, all_probes = with_observed([], [], probes)
    assert allowed == () and all_probes == (observed.probe,)
    plan = RolloutPlan("apply", "vpce-0sqs", "sqs", "me", "a", "b", ("adds Deny",), "diff", probes_denied=denied)
    lines = plan.lines()
    at = lines.index("  newly denied: probe acts as observed caller 222233334444 vpc-0a (556 calls/7d)")
    assert lines[at + 1] == (
        "    as web: sqs:GetQueueAttributes allowed now, denied once in force "
        "(its heaviest, sqs:SendMessage, cannot be probed)"
    )
    assert plan.observable
    assert plan.to_json()["probes_denied"][0]["observed"] == "222233334444 vpc-0a"


def test_a_named_caller_needs_the_same_role_and_a_redacted_one_the_same_account_and_vpc() -> None:
    role = role_identity("probe", APP_ROLE)
    elsewhere = workload("web", "222233334444", "vpc-0other")
    assert identity_for(caller("222233334444", APP_ROLE, "vpc-0a", 5), [elsewhere, role]) is role
    assert identity_for(caller("222233334444", "arn:aws:iam::222233334444:role/x", "vpc-0a", 5), [role]) is None
    assert identity_for(caller("222233334444", None, "vpc-0a", 5), [elsewhere, role]) is None
    assert identity_for(caller("222233334444", None, "vpc-0other", 5), [role, elsewhere]) is elsewhere
    assert caller_label(caller("222233334444", APP_ROLE, "vpc-0a", 5)) == "role/orders-app"


def test_a_caller_whose_calls_no_probe_may_make_is_named_in_a_note_not_probed() -> None:
    writer = caller("222233334444", APP_ROLE, "vpc-0a", 90, ("sqs:SendMessage", 60), ("sqs:DeleteMessage", 30))
    probes, notes = observed_probes(
        [writer], [role_identity("app", APP_ROLE)], service="sqs", hub=HUB, before=OPEN, after=shut_out("222233334444")
    )
    assert probes == []
    assert notes == [
        "observed caller role/orders-app (90 calls/7d): none of its calls (sqs:SendMessage, sqs:DeleteMessage) is "
        "one a probe may make (sqs:ListQueues, sqs:GetQueueAttributes); not probed"
    ]


def test_only_the_heaviest_callers_up_to_the_limit_and_one_probe_per_identity() -> None:
    callers = [
        caller("222233334444", None, "vpc-0a", 500 - i, ("sqs:ListQueues", 10), ("sqs:GetQueueAttributes", 5))
        for i in range(5)
    ]
    probes, _ = observed_probes(
        callers,
        [workload("web", "222233334444", "vpc-0a")],
        service="sqs",
        hub=HUB,
        before=OPEN,
        after=shut_out("222233334444"),
    )
    assert [p.calls for p in probes] == [500], "one identity acts as one caller"
    many = [caller("222233334444", None, f"vpc-{i}", 500 - i, ("sqs:ListQueues", 10)) for i in range(5)]
    identities = [workload(f"w{i}", "222233334444", f"vpc-{i}") for i in range(5)]
    probes, _ = observed_probes(many, identities, service="sqs", hub=HUB, before=OPEN, after=shut_out("222233334444"))
    assert [p.calls for p in probes] == [500, 499, 498], "the three heaviest"
    assert all(p.probe.action == "sqs:ListQueues" and p.probe.resource == "*" for p in probes)


def test_a_derived_probe_making_the_same_call_becomes_the_observed_one_not_a_second_probe() -> None:
    identity = workload("web", "222233334444", "vpc-0a")
    draft = shut_out("222233334444")
    discriminating, _ = derive_probes(OPEN, draft, service="sqs", hub=HUB, identities=[identity])
    denied, allowed = choose_probes(discriminating)
    observed, _ = observed_probes(
        [caller("222233334444", None, "vpc-0a", 50, ("sqs:ListQueues", 50))],
        [identity],
        service="sqs",
        hub=HUB,
        before=OPEN,
        after=draft,
    )
    planned_denied, _, probes = with_observed(denied, allowed, observed)
    ids = [p.probe_id for p in probes]
    assert len(ids) == len(set(ids)) == len(denied)
    assert [p.observed for p in planned_denied if p.action == "sqs:ListQueues"] == ["222233334444 vpc-0a"]


def test_of_two_workloads_in_the_callers_vpc_the_one_at_its_source_ip_acts_as_it() -> None:
    first = Persona("ops", "assumed-role", "222233334444", "arn:aws:iam::222233334444:role/ops", vpc_id="vpc-0a")
    at_ip = Persona(
        "web",
        "ec2-instance",
        "222233334444",
        "arn:aws:iam::222233334444:role/web",
        vpc_id="vpc-0a",
        private_ip="10.1.0.5",
    )
    identities = workload_identities([first, at_ip], {"ops": ("A", "s"), "web": ("B", "s")})
    chosen = identity_for(caller("222233334444", None, "vpc-0a", 5), identities)
    assert chosen is not None and chosen.name == "web"


def test_the_watch_marks_a_probe_that_acts_as_an_observed_caller() -> None:
    """The probe table and the JSON show which probes act as observed callers (◆, the persona-from-evidence mark)."""
    identity = workload("web", "222233334444", "vpc-0a")
    heavy = caller("222233334444", None, "vpc-0a", 50, ("sqs:ListQueues", 50))
    (observed,), _ = observed_probes(
        [heavy], [identity], service="sqs", hub=HUB, before=OPEN, after=shut_out("222233334444")
    )
    assert observed.probe.label == "◆ web → sqs:ListQueues: allow → explicit_deny"
    assert observed.probe.to_json()["observed"] == "222233334444 vpc-0a"
    derived, _ = derive_probes(OPEN, shut_out("222233334444"), service="sqs", hub=HUB, identities=[identity])
    assert all(not p.label.startswith("◆") and "observed" not in p.to_json() for p in derived)
    _, _, probes = with_observed([p for p in derived if p.action == "sqs:ListQueues"], [], [observed])
    assert [p.label for p in probes] == [observed.probe.label], "the same call: the observed probe, once"


def test_live_denials_sort_like_the_console_and_only_unpredicted_ones_fail_a_written_rollout() -> None:
    """Predicted by the replay, the plan's probes, the replaced document's (a newly allowed probe's call, whose
    redacted caller's tags no evaluation can know), unpredicted; exit 1 only for the last, after a kept write."""
    from vpce_console.services.replay_live import rollout_exit_code, sort_live_denials

    replayed = {"account": "222233334444", "principal": None, "action": "sqs:SendMessage"}
    probed = {
        "account": "111122223333",
        "principal": "arn:aws:sts::111122223333:assumed-role/probe/s",
        "action": "sqs:ListQueues",
    }
    loosened = {"account": "555566667777", "principal": None, "action": "sqs:GetQueueAttributes"}
    surprise = {
        "account": "111122223333",
        "principal": "arn:aws:sts::111122223333:assumed-role/new/s",
        "action": "sqs:ListQueues",
    }
    live = sort_live_denials(
        [replayed, probed, loosened, surprise],
        [{"account": "222233334444", "principal": None, "action": "sqs:SendMessage", "draft": "deny", "calls": 3}],
        [{"account": "111122223333", "principal": "arn:aws:iam::111122223333:role/probe", "action": "sqs:ListQueues"}],
        [False, False, False, False],
        [
            {
                "account": "555566667777",
                "principal": "arn:aws:iam::555566667777:role/w",
                "action": "sqs:GetQueueAttributes",
            }
        ],
    )
    assert (live.predicted, live.probes, live.old_document, live.unpredicted) == (
        (replayed,),
        (probed,),
        (loosened,),
        (surprise,),
    )
    assert [(s.principal, s.calls) for s in live.surprises()] == [(surprise["principal"], 1)]
    assert [rollout_exit_code(code, live) for code in (0, 3, 4, 5)] == [1, 1, 4, 5]
    assert rollout_exit_code(0, None) == 0
