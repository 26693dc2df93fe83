"""The change journal: exact bytes, fsynced append-only JSONL with mode 0600, unfinished entries found again."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from vpce_console.services.journal import Journal, policy_version, sha256_text, state_dir

BEFORE = '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
AFTER = '{\n  "Version": "2012-10-17",\r\n  "Statement": [ {"Sid": "café ☕", "Effect": "Deny"} ]   \n}\n'


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        self.t += 1
        return self.t


def test_state_dir_follows_xdg(tmp_path: Path) -> None:
    assert state_dir({"XDG_STATE_HOME": str(tmp_path), "HOME": "/nowhere"}) == tmp_path / "vpce-console"
    assert state_dir({"HOME": str(tmp_path)}) == tmp_path / ".local/state/vpce-console"
    assert state_dir({"XDG_STATE_HOME": "relative", "HOME": str(tmp_path)}) == tmp_path / ".local/state/vpce-console"


def test_default_path_uses_the_isolated_state_home() -> None:
    assert Journal().path == Path(os.environ["XDG_STATE_HOME"]) / "vpce-console" / "journal.jsonl"


def test_round_trip_keeps_exact_bytes_and_mode_0600(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "s" / "journal.jsonl", clock=Clock())
    jid = journal.begin(
        kind="apply",
        endpoint_id="vpce-1",
        before_text=BEFORE,
        after_text=AFTER,
        account_id="111122223333",
        region="us-east-1",
        caller={"arn": "arn:aws:iam::1:user/a"},
    )
    journal.step(jid, "dry_run", "ok")
    journal.step(jid, "modify", "ok")
    journal.finish(jid, "converged", propagation_seconds=4.5)
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    (entry,) = journal.entries()
    assert entry.before_text == BEFORE and entry.after_text == AFTER
    assert entry.after_sha256 == sha256_text(AFTER)
    assert entry.after_text.encode() == AFTER.encode()
    assert entry.finished and entry.outcome == "converged"
    assert entry.written_at is not None
    assert [s.step for s in entry.steps] == ["dry_run", "modify"]
    assert entry.to_json()["after_version"] == policy_version(AFTER)
    assert "after_text" not in entry.to_json() and entry.to_json(texts=True)["after_text"] == AFTER


def test_append_only_and_one_line_per_event(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl", clock=Clock())
    a = journal.begin(kind="apply", endpoint_id="vpce-1", before_text=BEFORE, after_text=AFTER)
    first = journal.path.read_bytes()
    journal.step(a, "modify", "started")
    assert journal.path.read_bytes().startswith(first)
    lines = journal.path.read_text().splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["begin", "step"]


def test_unfinished_entries_and_torn_last_line(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl", clock=Clock())
    done = journal.begin(kind="apply", endpoint_id="vpce-1", before_text=BEFORE, after_text=AFTER)
    journal.finish(done, "converged")
    crashed = journal.begin(kind="apply", endpoint_id="vpce-2", before_text=BEFORE, after_text=AFTER)
    journal.step(crashed, "modify", "started")
    with journal.path.open("ab") as fh:
        fh.write(b'{"type":"step","journal_id":"' + crashed.encode() + b'","st')  # killed mid-write
    (entry,) = journal.unfinished()
    assert entry.journal_id == crashed
    assert entry.last_step is not None and entry.last_step.step == "modify"
    assert entry.written_at is None
    assert journal.unfinished("vpce-1") == []
    assert [e.journal_id for e in journal.entries("vpce-2")] == [crashed]


def test_timeline_and_last_written(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl", clock=Clock())
    a = journal.begin(kind="apply", endpoint_id="vpce-1", before_text=BEFORE, after_text=AFTER)
    journal.step(a, "modify", "ok")
    journal.finish(a, "converged")
    b = journal.begin(kind="apply", endpoint_id="vpce-1", before_text=AFTER, after_text=BEFORE)
    journal.step(b, "dry_run", "failed")
    journal.finish(b, "failed")
    last = journal.last_written("vpce-1")
    assert last is not None and last.journal_id == a
    timeline = journal.policy_timeline()
    assert [(ep, sha) for _, ep, sha in timeline] == [("vpce-1", sha256_text(AFTER))]


def test_unknown_outcome_is_rejected(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    with pytest.raises(ValueError):
        journal.finish("x", "great")


def test_missing_journal_is_empty(tmp_path: Path) -> None:
    assert Journal(tmp_path / "none.jsonl").entries() == []
