"""`vpce tail --file` end to end in-process: formats, filters, jsonl row keys, policy versions from the journal."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from vpce_console.cli import main
from vpce_console.services.journal import Journal, sha256_text

RECORDS = Path(__file__).resolve().parents[1] / "data" / "cloudtrail"
ROW_KEYS = {
    "event_time",
    "event_id",
    "reason",
    "endpoint_id",
    "service",
    "account_id",
    "source_ip",
    "principal",
    "event_name",
    "policy_version",
}


@pytest.fixture
def trail(tmp_path: Path) -> Path:
    records = [json.loads(p.read_text()) for p in sorted(RECORDS.glob("*.json"))]
    path = tmp_path / "111122223333_CloudTrail_us-east-1_20261128T1000Z_abc.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": records + records}).encode()))  # duplicates on purpose
    return path


def test_jsonl_rows_every_reason_once(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tail", "--file", str(trail), "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(row.keys() >= ROW_KEYS for row in rows)
    assert len({r["event_id"] for r in rows}) == len(rows)  # deduped
    assert len({r["reason"] for r in rows}) == 16


def test_reason_and_endpoint_filters(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tail", "--file", str(trail), "--format", "jsonl", "--reason", "vpce-network-event"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["reason"] for r in rows] == ["vpce-network-event"]
    assert rows[0]["principal"] is None and rows[0]["account_id"] == "444455556666"
    assert main(["tail", "--file", str(trail), "--endpoint", "vpce-nothing"]) == 0
    assert capsys.readouterr().out == ""


def test_policy_version_comes_from_the_journal(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = Journal(clock=lambda: 1_700_000_000.0)  # long before the fixture events
    jid = journal.begin(kind="apply", endpoint_id="vpce-0a1b2c3d4e5f60718", before_text="{}", after_text='{"v":2}')
    journal.step(jid, "modify", "ok")
    journal.finish(jid, "converged")
    assert main(["tail", "--file", str(trail), "--format", "jsonl", "--reason", "vpce-explicit"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and all(r["policy_version"] == sha256_text('{"v":2}')[:12] for r in rows)


def test_bad_input_exits_2(tmp_path: Path) -> None:
    assert main(["tail", "--file", str(tmp_path / "missing.json")]) == 2
    assert main(["tail", "--file", str(tmp_path / "x"), "--reason", "nope"]) == 2
