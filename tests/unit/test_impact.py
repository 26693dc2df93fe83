"""Impact matrix (policy/impact_matrix.py) and the `vpce impact` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vpce_console.cli import main
from vpce_console.commands.impact import demo_personas_text
from vpce_console.policy.evaluator import PolicyError
from vpce_console.policy.impact_matrix import impact, named_in_policies, resource_account
from vpce_console.policy.persona_file import load_persona_file
from vpce_console.policy.personas import CREDENTIAL_KINDS, HubEndpoint, Persona

HUB = HubEndpoint("999900001111", "vpc-hub", "vpce-0hub", org_id="o-1")
EC2 = Persona("web", "ec2-instance", "111122223333", "arn:aws:iam::111122223333:role/web", "vpc-a", "10.1.0.5")
LAMBDA = Persona("fn", "lambda", "111122223333", "arn:aws:iam::111122223333:role/fn", "vpc-a", "10.1.0.9")
ALLOW_ALL = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}


def with_deny(condition: dict[str, Any]) -> dict[str, Any]:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*", "Condition": condition}
    return {"Version": "2012-10-17", "Statement": [*ALLOW_ALL["Statement"], deny]}


def test_negated_ec2_key_revokes_lambda_only() -> None:
    draft = with_deny({"StringNotEquals": {"aws:Ec2InstanceSourceVpc": "vpc-a"}})
    result = impact(ALLOW_ALL, draft, [EC2, LAMBDA], ["sqs:SendMessage", "kms:Decrypt"], ["*"], HUB)
    assert len(result.cells) == 4
    assert [(c.persona.name, c.action) for c in result.changed_cells] == [("fn", "sqs:SendMessage")]
    cell = result.changed_cells[0]
    assert cell.direction == "revoked"
    assert cell.before.kind == "allow"
    assert cell.after.kind == "explicit_deny"
    assert result.revoked == result.changed_cells
    assert result.granted == ()


def test_granted_and_kind_only_changes() -> None:
    deny_everything = with_deny({})
    result = impact(deny_everything, ALLOW_ALL, [EC2], ["sqs:SendMessage"], ["*"], HUB)
    assert result.cells[0].direction == "granted"
    implicit = {"Statement": []}
    result = impact(implicit, deny_everything, [EC2], ["sqs:SendMessage"], ["*"], HUB)
    cell = result.cells[0]
    assert not cell.changed
    assert cell.direction is None
    assert cell.kind_changed


def test_resource_account_is_derived_from_arn() -> None:
    assert resource_account("arn:aws:sqs:us-east-1:444455556666:q") == "444455556666"
    assert resource_account("arn:aws:s3:::bucket") is None
    assert resource_account("*") is None
    draft = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
            }
        ],
    }
    result = impact(
        ALLOW_ALL,
        draft,
        [EC2],
        ["sqs:SendMessage"],
        ["arn:aws:sqs:us-east-1:111122223333:q", "arn:aws:sqs:us-east-1:444455556666:q"],
        HUB,
    )
    assert [c.changed for c in result.cells] == [False, True]


def test_unusable_policy_raises() -> None:
    with pytest.raises(PolicyError):
        impact("nope", ALLOW_ALL, [EC2], ["sqs:SendMessage"], ["*"], HUB)


def test_named_in_policies_takes_literal_entries_only() -> None:
    texts = [
        json.dumps({"Statement": [{"Action": ["sqs:SendMessage", "sqs:*"], "Resource": "arn:aws:sqs:r:1:q"}]}),
        "bad",
    ]
    assert named_in_policies(texts, "Action") == ("sqs:SendMessage",)
    assert named_in_policies(texts, "Resource") == ("arn:aws:sqs:r:1:q",)


def test_demo_personas_match_the_example_file(repo_root: Path) -> None:
    assert demo_personas_text() == (repo_root / "examples" / "personas.yaml").read_text()
    loaded = load_persona_file(demo_personas_text())
    assert loaded.hub is not None
    assert sorted({p.kind for p in loaded.personas}) == sorted(CREDENTIAL_KINDS)


# ---------------------------------------------------------------- CLI


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_impact_text_marks_changes_and_exits_1(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ex = repo_root / "examples"
    code, out, _ = run_cli(
        [
            "impact",
            "--from",
            str(ex / "policy-deployed.json"),
            "--to",
            str(ex / "policy-draft.json"),
            "--personas",
            str(ex / "personas.yaml"),
        ],
        capsys,
    )
    assert code == 1
    lines = out.splitlines()
    lambda_row = next(line for line in lines if line.startswith("resize-lambda (lambda)"))
    assert "! ✓→✗ LOSES" in lambda_row
    ec2_row = next(line for line in lines if line.startswith("web-ec2 (ec2-instance)"))
    assert "!" not in ec2_row and "✓ allow" in ec2_row
    assert any(line.startswith("! resize-lambda loses access: sqs:ReceiveMessage") for line in lines)
    assert "6 lose access" in out


def test_cli_impact_json_and_no_change_exit_0(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ex = repo_root / "examples"
    code, out, _ = run_cli(
        [
            "impact",
            "--from",
            str(ex / "policy-deployed.json"),
            "--to",
            str(ex / "policy-deployed.json"),
            "--format",
            "json",
            "--actions",
            "sqs:SendMessage,kms:Decrypt",
            "--resources",
            "*",
        ],
        capsys,
    )
    assert code == 0
    data = json.loads(out)
    assert data["summary"] == {"cells": 16, "changed": 0, "revoked": 0, "granted": 0, "not_through_endpoint": 0}
    assert {c["action"] for c in data["cells"]} == {"sqs:SendMessage", "kms:Decrypt"}
    first = data["cells"][0]
    assert set(first) == {
        "persona",
        "through_endpoint",
        "kind",
        "action",
        "resource",
        "before",
        "after",
        "changed",
        "direction",
        "before_matched",
        "after_matched",
    }


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ({"from": "missing.json"}, "missing.json: cannot read"),
        ({"from": "bad.json"}, "bad.json: unusable policy"),
        ({"personas": "bad.yaml"}, "bad.yaml: personas[0]"),
    ],
)
def test_cli_impact_bad_input_is_one_line_exit_2(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], needle: str
) -> None:
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "bad.yaml").write_text("- {name: a, kind: robot, account_id: '111122223333', role_arn: r}\n")
    good = str(repo_root / "examples" / "policy-deployed.json")
    args = ["impact", "--from", good, "--to", good, "--personas", str(repo_root / "examples" / "personas.yaml")]
    for flag, name in files.items():
        args[args.index(f"--{flag}") + 1] = str(tmp_path / name)
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert needle in err
