"""Hostile inputs to the CLI: each ends with one line on stderr and exit 2, in bounded time and memory.

Every case runs the real program as a child process (memory capped at 2 GB so a regression cannot take the
machine down) and checks the exit code, the single stderr line, the wall clock and the child's peak RSS.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.hostile.conftest import OK_POLICY, run_vpce

CONFIG_CASES = [
    ("bomb.yaml", "expands to more than"),
    ("latin1.yaml", "not UTF-8"),
    ("binary.yaml", "not UTF-8"),
    ("deep.yaml", "nested deeper than"),
    ("bigint.yaml", "4300 digits"),
]


@pytest.mark.parametrize(("name", "needle"), CONFIG_CASES)
def test_hostile_config_is_one_line(files: Path, name: str, needle: str) -> None:
    """--config is read (and refused) before anything talks to AWS."""
    run_vpce(["inventory", "--config", str(files / name)]).assert_one_line(2, contains=needle)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["simulate", "--policy", "ok.json", "--request", "deep.json"], "nested too deeply"),
        (["simulate", "--policy", "ok.json", "--requests", "deep.json"], "nested too deeply"),
        (["simulate", "--policy", "ok.json", "--request", "bigint_request.json"], "4300 digits"),
        (["simulate", "--policy", "ok.json", "--request", "/dev/zero"], "larger than"),
        (["impact", "--from", "ok.json", "--to", "ok.json", "--personas", "deep_personas.yaml"], "nested deeper"),
        (["impact", "--from", "ok.json", "--to", "ok.json", "--personas", "deep.yaml"], "nested deeper"),
        (["impact", "--from", "ok.json", "--to", "ok.json", "--personas", "bomb.yaml"], "expands to more than"),
        (["impact", "--from", "ok.json", "--to", "ok.json", "--personas", "/dev/zero"], "larger than"),
        (["tail", "--file", "deep.json"], "nested too deeply"),
        (["tail", "--file", "bigint_trail.json"], "unreadable JSON value"),
        (["tail", "--file", "/dev/zero"], "longer than"),
        (["lint", "/dev/zero"], "larger than the 16 MB limit"),  # lint reads templates and plans, not only policies
        (["lint", "bomb.yaml"], "expands to more than"),
        (["rollout", "--endpoint", "vpce-1", "--policy", "/dev/zero"], "larger than"),
    ],
)
def test_hostile_input_files_are_one_line(files: Path, args: list[str], needle: str) -> None:
    run_vpce(args, cwd=files).assert_one_line(2, contains=needle)


def test_lint_stdin_is_capped(files: Path) -> None:
    """`vpce lint -` with more than its 16 MB cap on stdin says so instead of reading it all."""
    run_vpce(["lint", "-"], cwd=files, stdin_zeros=17 * 1024 * 1024).assert_one_line(2, contains="larger than")


def test_over_long_number_in_a_policy_is_a_finding(files: Path) -> None:
    """lint explains a 4,400-digit number as a syntax finding (exit 1), never a traceback."""
    run = run_vpce(["lint", "--format", "json", "bigint_policy.json"], cwd=files)
    assert run.code == 1 and run.stderr == "", run.stderr[-2000:]
    codes = [f["code"] for f in json.loads(run.stdout)["files"][0]["findings"]]
    assert codes == ["json-syntax"]
    run.assert_bounded()


def test_lone_surrogate_is_printed_escaped(files: Path) -> None:
    """A `\\ud800` Sid reaches the text output as an escape, not a UnicodeEncodeError."""
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "\ud800", "Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"},
            json.loads(OK_POLICY)["Statement"][0],
        ],
    }
    (files / "surrogate.json").write_text(json.dumps(deny))
    run = run_vpce(["impact", "--from", "ok.json", "--to", "surrogate.json"], cwd=files)
    assert run.code == 1 and run.stderr == "", run.stderr[-2000:]
    assert "\\ud800" in run.stdout
    run.assert_bounded()


def test_impact_is_bounded_on_thousands_of_statements(files: Path) -> None:
    """5,500 statements each naming its own action and resource: impact ends in seconds, not minutes."""
    statements = [
        {
            "Sid": f"s{i}",
            "Effect": "Allow",
            "Principal": "*",
            "Action": f"sqs:Act{i}",
            "Resource": f"arn:aws:sqs:us-east-1:111122223333:q{i}",
        }
        for i in range(5500)
    ]
    (files / "big.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    run = run_vpce(["impact", "--from", "ok.json", "--to", "big.json"], cwd=files, timeout=120)
    assert run.code == 1, run.stderr[-2000:]
    assert "checked the first 32 of 5500 actions" in run.stdout
    run.assert_bounded()


def test_journal_line_with_a_bad_type_is_skipped_and_reported(tmp_path: Path) -> None:
    """A hand-edited journal line (`at` as a string) is skipped with one line; history still works."""
    from vpce_console.paths import state_dir
    from vpce_console.services.journal import Journal

    journal = Journal(state_dir() / "journal.jsonl")
    good = journal.begin(kind="apply", endpoint_id="vpce-1", before_text="{}", after_text='{"a":1}')
    journal.finish(good, "converged")
    with journal.path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"type": "begin", "journal_id": "bad", "at": "yesterday", "kind": "apply"}) + "\n")
        handle.write(json.dumps({"type": "end", "journal_id": good, "at": [], "outcome": "converged"}) + "\n")
    run = run_vpce(["history", "--format", "json"])
    assert run.code == 0, run.stderr[-2000:]
    assert [c["journal_id"] for c in json.loads(run.stdout)["changes"]] == [good]
    assert len(run.stderr_lines) == 2 and all("skipped line" in line for line in run.stderr_lines), run.stderr
    run.assert_bounded()


def _dead_ready_file(tmp_path: Path) -> Path:
    ready = tmp_path / "dead.json"
    ready.write_text(
        json.dumps(
            {
                "endpoint_url": "http://127.0.0.1:9",
                "region": "us-east-1",
                "hub": {"account_id": "111111111111"},
                "operator": {"access_key_id": "AKIADEAD", "secret_access_key": "x"},
                "read_role_name": "r",
                "accounts": [],
                "spokes": [],
                "personas": [],
                "cloudtrail_log_group": "/trail",
            }
        )
    )
    return ready


def test_one_shot_tail_gives_up_on_an_unreachable_endpoint(tmp_path: Path) -> None:
    """`vpce tail --since 5m` against a dead endpoint: a few attempts, one line, exit 2."""
    run = run_vpce(["tail", "--since", "5m", "--lab-ready", str(_dead_ready_file(tmp_path))], timeout=90)
    run.assert_one_line(2, contains="cannot reach")


def test_follow_tail_keeps_retrying_and_says_so_each_time(tmp_path: Path) -> None:
    """`vpce tail --follow` against a dead endpoint keeps going, one stderr line per retry (killed after 12 s)."""
    run = run_vpce(["tail", "--follow", "--since", "5m", "--lab-ready", str(_dead_ready_file(tmp_path))], timeout=12)
    assert run.code == -9, (run.code, run.stderr[-1000:])  # still running when the test stopped it
    retries = [line for line in run.stderr_lines if "retrying in" in line]
    assert len(retries) >= 2, run.stderr
    assert all(line.startswith("vpce tail: ") and "connection" in line for line in retries)
    assert "Traceback" not in run.stderr
