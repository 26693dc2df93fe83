"""Pure parts of issue 9: which document a rollback restores, the plan in words, and typos in `vpce simulate`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from vpce_console.services.journal import Journal, RollbackRefused, rollback_target, sha256_text
from vpce_console.services.plan import RolloutPlan, choose_probes, describe_changes, plan_probe
from vpce_console.services.probes import Probe, ProbeIdentity

ENDPOINT = "vpce-0123456789abcdef0"


def _change(journal: Journal, before: str, after: str, *, kind: str = "apply", of: str | None = None) -> str:
    entry = journal.begin(kind=kind, endpoint_id=ENDPOINT, before_text=before, after_text=after, rollback_of=of)
    journal.step(entry, "modify", "ok")
    journal.finish(entry, "converged")
    return entry


def test_rollback_restores_the_document_before_the_last_change(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    a1 = _change(journal, "O", "P1")
    a2 = _change(journal, "P1", "P2")
    target = rollback_target(journal.entries(), ENDPOINT, "P2")
    assert target.entry.journal_id == a2 and target.text == "P1" and target.sha256 == sha256_text("P1")
    assert rollback_target(journal.entries(), ENDPOINT, "P2", to=a1).text == "O"


def test_rolling_back_a_rollback_needs_to(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    a1 = _change(journal, "O", "P1")
    r1 = _change(journal, "P1", "O", kind="rollback", of=a1)
    with pytest.raises(RollbackRefused, match=r"itself a rollback.*--to JOURNAL_ID"):
        rollback_target(journal.entries(), ENDPOINT, "O")
    # explicit: undo the rollback itself (re-apply P1) only when asked for by id
    assert rollback_target(journal.entries(), ENDPOINT, "O", to=r1).text == "P1"


def test_retrying_an_interrupted_rollback_is_not_a_rollback_of_a_rollback(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    a1 = _change(journal, "O", "P1")
    crashed = journal.begin(kind="rollback", endpoint_id=ENDPOINT, before_text="P1", after_text="O", rollback_of=a1)
    journal.step(crashed, "modify", "ok")  # written, then the process died: no end line
    target = rollback_target(journal.entries(), ENDPOINT, "O")
    assert target.entry.journal_id == a1 and target.text == "O" and target.already
    assert target.interrupted is not None and target.interrupted.journal_id == crashed


def test_rollback_refuses_unknown_foreign_unwritten_and_drifted(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    with pytest.raises(RollbackRefused, match="no change"):
        rollback_target(journal.entries(), ENDPOINT, "O")
    a1 = _change(journal, "O", "P1")
    never = journal.begin(kind="apply", endpoint_id=ENDPOINT, before_text="P1", after_text="X")
    journal.finish(never, "failed")
    other = journal.begin(kind="apply", endpoint_id="vpce-other", before_text="a", after_text="b")
    for to, needle in (("nope", "no journal entry"), (never, "never reached AWS"), (other, "vpce-other")):
        with pytest.raises(RollbackRefused, match=needle):
            rollback_target(journal.entries(), ENDPOINT, "P1", to=to)
    with pytest.raises(RollbackRefused, match="changed outside this journal"):
        rollback_target(journal.entries(), ENDPOINT, "someone else's edit", to=a1)


def _probe(name: str, before: str, after: str, action: str = "sqs:ListQueues") -> Probe:
    from vpce_console.policy.personas import Persona

    persona = Persona(name=name, kind="lambda", account_id="111122223333", role_arn="arn:aws:iam::1:role/x")
    return Probe(f"{name}:{action}:*", ProbeIdentity(name, persona), action, "*", before, after)


def test_probes_are_chosen_per_direction_and_the_plan_says_so() -> None:
    probes = [
        _probe("a", "allow", "explicit_deny"),
        _probe("a", "allow", "explicit_deny", "sqs:GetQueueAttributes"),
        _probe("b", "implicit_deny", "allow"),
        _probe("c", "allow", "implicit_deny"),
        _probe("d", "allow", "explicit_deny"),
        _probe("e", "allow", "explicit_deny"),
    ]
    denied, allowed = choose_probes(probes)
    assert [p.identity.name for p in denied] == ["a", "c", "d"]  # distinct identities first, at most three
    assert [p.identity.name for p in allowed] == ["b"]
    plan = RolloutPlan(
        "apply",
        ENDPOINT,
        "sqs",
        "arn:aws:iam::111122223333:user/me",
        "aaaaaaaaaaaa",
        "bbbbbbbbbbbb",
        describe_changes('{"Statement": []}', '{"Statement": [{"Effect": "Deny", "Action": "sqs:*"}]}'),
        "",
        probes_denied=tuple(plan_probe(p) for p in denied),
        probes_allowed=tuple(plan_probe(p) for p in allowed),
        not_through_endpoint=("legacy-ec2",),
    )
    text = "\n".join(plan.lines())
    assert "adds Deny sqs:* on" in text
    assert "newly denied: a → sqs:ListQueues: allowed now, denied once the change is in force" in text
    assert "newly allowed: b → sqs:ListQueues: denied now, allowed once the change is in force" in text
    assert "not through the endpoint" in text and "legacy-ec2" in text
    assert plan.observable and "no probe can observe" not in text


def test_a_plan_without_probes_says_it_will_end_unobserved() -> None:
    plan = RolloutPlan("apply", ENDPOINT, "sqs", "me", "a" * 12, "b" * 12, (), "")
    assert not plan.observable
    assert (
        "no probe can observe this change: the watch will wait the propagation window and report it as unobserved"
        in [line.strip() for line in plan.lines()]
    )
    assert plan.to_json()["unobserved_note"].startswith("no probe can observe")


def test_a_plan_refused_before_the_diff_claims_nothing_about_the_change() -> None:
    """A refusal that comes before the comparison (an unfinished change is live) must not read "whitespace only"."""
    plan = RolloutPlan("apply", ENDPOINT, "sqs", "me", "a" * 12, "b" * 12, (), "", refused="an unfinished change")
    text = "\n".join(plan.lines())
    assert "whitespace only" not in text and "nobody's access changes" not in text
    assert plan.lines()[-1] == "Refused: an unfinished change"
    analysed = replace(plan, diff="--- deployed\n+++ draft\n")
    assert "whitespace only" in "\n".join(analysed.lines())


def test_simulate_unknown_action_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vpce_console.cli import main

    policy = tmp_path / "p.json"
    policy.write_text('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}')
    code = main(["simulate", "--policy", str(policy), "--persona", "web-ec2", "--action", "sqs:RecieveMessage"])
    err = capsys.readouterr().err
    assert code == 2 and "did you mean sqs:ReceiveMessage" in err and len(err.strip().splitlines()) == 1
