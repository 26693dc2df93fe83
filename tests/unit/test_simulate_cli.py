"""`vpce simulate`: request files in, decisions out, one-line errors with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vpce_console.cli import main

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Org",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
        },
        {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "sqs:DeleteQueue", "Resource": "*"},
    ],
}


def request(action: str = "sqs:SendMessage", org: str = "o-1") -> dict[str, object]:
    return {
        "principal": "arn:aws:sts::1:assumed-role/r/s",
        "action": action,
        "resource": "*",
        "context": {"aws:PrincipalOrgID": org},
    }


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(POLICY))
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["simulate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_single_request_json(policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    req = tmp_path / "r.json"
    req.write_text(json.dumps(request()))
    code, out, err = run(["--policy", str(policy_file), "--request", str(req)], capsys)
    assert code == 0, err
    assert json.loads(out) == {"decision": "allow", "matched": [{"sid": "Org", "index": 0, "effect": "Allow"}]}


def test_requests_jsonl_one_line_each_in_order(
    policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reqs = tmp_path / "r.jsonl"
    lines = [request(), request("sqs:DeleteQueue"), request(org="o-2"), request("kms:Decrypt")]
    reqs.write_text("\n".join(json.dumps(r) for r in lines[:2]) + "\n\n" + "\n".join(json.dumps(r) for r in lines[2:]))
    code, out, _ = run(["--policy", str(policy_file), "--requests", str(reqs)], capsys)
    assert code == 0  # denials are data, not failures
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["decision"] for a in answers] == ["allow", "explicit_deny", "implicit_deny", "implicit_deny"]
    assert answers[1]["matched"] == [
        {"sid": "Org", "index": 0, "effect": "Allow"},
        {"sid": "NoDelete", "index": 1, "effect": "Deny"},
    ]


def test_requests_as_json_list(policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reqs = tmp_path / "r.jsonl"
    reqs.write_text(json.dumps(request()) + "\n")
    code, out, _ = run(["--policy", str(policy_file), "--requests", str(reqs), "--format", "json"], capsys)
    assert code == 0
    assert [a["decision"] for a in json.loads(out)] == ["allow"]


def test_example_files_work(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ex = repo_root / "examples"
    code, out, _ = run(["--policy", str(ex / "policy-draft.json"), "--requests", str(ex / "requests.jsonl")], capsys)
    assert code == 0
    assert [json.loads(line)["decision"] for line in out.splitlines()] == ["allow", "explicit_deny", "implicit_deny"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"principal": "p", "action": "a", "resource": "*"}\nnot json\n', "r.jsonl:2: invalid JSON"),
        ('{"principal": "p", "action": "a"}\n', "r.jsonl:1: 'resource' must be a non-empty string"),
        ("[1]\n", "r.jsonl:1: a request must be a JSON object"),
        ('{"principal": "p", "action": "a", "resource": "*", "context": {"k": {"x": 1}}}\n', "r.jsonl:1: context key"),
        ('{"principal": "p", "action": "a", "resource": "*", "extra": 1}\n', "r.jsonl:1: unknown field"),
    ],
)
def test_invalid_request_line_names_file_and_line(
    policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str
) -> None:
    reqs = tmp_path / "r.jsonl"
    reqs.write_text(content)
    code, out, err = run(["--policy", str(policy_file), "--requests", str(reqs)], capsys)
    assert code == 2
    assert out == ""  # nothing is printed before all input is valid
    assert len(err.strip().splitlines()) == 1
    assert needle in err


def test_unreadable_and_unusable_files(policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["--policy", str(tmp_path / "nope.json"), "--request", str(policy_file)], capsys)
    assert code == 2 and "nope.json: cannot read" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"Statement": [{"Effect": "Permit"}]}')
    req = tmp_path / "r.json"
    req.write_text(json.dumps(request()))
    code, _, err = run(["--policy", str(bad), "--request", str(req)], capsys)
    assert code == 2 and "bad.json: unusable policy" in err and "Effect" in err
    code, _, err = run(["--policy", str(policy_file), "--request", str(bad)], capsys)
    assert code == 2 and "bad.json: unknown field(s) Statement" in err


def test_request_and_requests_are_exclusive(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--policy", str(policy_file), "--request", "a", "--requests", "b"])
    assert exc.value.code == 2


@pytest.mark.parametrize(
    "args",
    [["simulate"], ["simulate", "--policy", "p.json"], ["impact", "--from", "a.json"], ["impact", "--to", "b.json"]],
)
def test_missing_required_options_are_usage_errors(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert "required" in capsys.readouterr().err


def test_persona_request_is_synthesized(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ex = repo_root / "examples"
    args = ["--policy", str(ex / "policy-draft.json"), "--personas", str(ex / "personas.yaml"), "--show-context"]
    code, out, _ = run([*args, "--persona", "resize-lambda", "--action", "sqs:ReceiveMessage"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["decision"] == "explicit_deny"  # StringNotEquals on a key Lambda never carries (E2)
    context = data["request"]["context"]
    assert context["aws:SourceVpc"] == "vpc-0hub0000000000001"
    assert "aws:Ec2InstanceSourceVpc" not in context
    code, out, _ = run([*args, "--persona", "web-ec2", "--action", "sqs:ReceiveMessage"], capsys)
    assert json.loads(out)["decision"] == "allow"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--persona", "nobody", "--action", "sqs:SendMessage"], "no persona named 'nobody'"),
        (["--persona", "web-ec2"], "needs --action"),
    ],
)
def test_persona_errors(repo_root: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str) -> None:
    code, _, err = run(["--policy", str(repo_root / "examples" / "policy-draft.json"), *extra], capsys)
    assert code == 2
    assert needle in err


def test_explain_traces_each_statement(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ex = repo_root / "examples"
    args = ["--policy", str(ex / "policy-draft.json"), "--persona", "resize-lambda", "--action", "sqs:ReceiveMessage"]
    code, out, _ = run([*args, "--explain"], capsys)
    assert code == 0
    data = json.loads(out)
    traces = data["statements"]
    assert [t["index"] for t in traces] == [0, 1, 2, 3]
    assert [t["applies"] for t in traces] == [True, False, False, True]
    assert [t["index"] for t in traces if t["applies"]] == [m["index"] for m in data["matched"]]
    deny_ec2 = traces[3]["conditions"]
    assert {"operator": "StringNotEquals", "key": "aws:Ec2InstanceSourceVpc", "result": True, "key_present": False} in (
        deny_ec2
    )
    assert traces[1]["conditions"][0]["result"] is False  # aws:PrincipalIsAWSService is false for a Lambda
