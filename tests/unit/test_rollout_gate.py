"""The write gate, exact policy-file reading and event rendering of `vpce rollout` (pure parts, no AWS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpce_console.commands.rollout import read_policy_file, render_event
from vpce_console.errors import UsageError
from vpce_console.services.rollout import RolloutSummary, check_write_gate
from vpce_console.services.rollout_events import (
    ImpactAssessed,
    Journaled,
    LeaseChanged,
    ProbeRound,
    Recovered,
    Refused,
    RollingBack,
)


@pytest.mark.parametrize(
    ("allow", "config", "confirm", "ok"),
    [
        (True, False, "vpce-1", True),
        (False, True, "vpce-1", True),
        (False, False, "vpce-1", False),
        (True, False, None, False),
        (True, False, "vpce-2", False),
        (True, True, " vpce-1", False),
    ],
)
def test_write_gate(allow: bool, config: bool, confirm: str | None, ok: bool) -> None:
    if ok:
        check_write_gate(allow_write=allow, config_allows=config, confirm=confirm, endpoint_id="vpce-1")
    else:
        with pytest.raises(UsageError):
            check_write_gate(allow_write=allow, config_allows=config, confirm=confirm, endpoint_id="vpce-1")


def test_policy_file_is_read_byte_for_byte(tmp_path: Path) -> None:
    text = '{\r\n "Statement": []\t}\n'
    path = tmp_path / "p.json"
    path.write_bytes(text.encode())
    assert read_policy_file(str(path)) == text
    (tmp_path / "latin.json").write_bytes(b"\xff\xfe")
    with pytest.raises(UsageError):
        read_policy_file(str(tmp_path / "latin.json"))
    with pytest.raises(UsageError):
        read_policy_file(str(tmp_path / "missing.json"))


def test_summary_exit_codes_and_keys() -> None:
    converged = RolloutSummary("converged", 4.2, 0.5, 2, "j1", converged_at=10.0)
    assert converged.exit_code == 0
    for status in ("timed_out", "refused", "rolled_back"):
        assert RolloutSummary(status, None, 0.5, 0, None).exit_code == 1
    assert {"status", "propagation_seconds", "poll_seconds", "probes", "journal_id"} <= converged.to_json().keys()


def test_render_event_lines() -> None:
    from vpce_console.services.watch import ProbeState, WatchReport, WatchStatus

    line = render_event(Refused(reason="stale base", diff="--- base\n+++ deployed"))
    assert line.startswith("REFUSED") and "+++ deployed" in line
    probe = ProbeState("p:sqs:ListQueues:*", 2, 2, 2, 0, 0, 0, "explicit_deny", 1.0)
    report = WatchReport(WatchStatus.PENDING, 11.5, 1.5, None, None, (probe,), 0)
    row = render_event(ProbeRound(number=1, report=report))
    assert "pending" in row and "sqs:ListQueues:*=2" in row
    assert Journaled(at=1.23456, journal_id="j1", path="/j").to_json() == {
        "event": "journal",
        "time": 1.235,
        "journal_id": "j1",
        "path": "/j",
    }


def test_event_lines_keep_their_keys_in_order() -> None:
    """The JSON lines' keys and their order are the documented contract (the optional keys only when present)."""
    assert list(Refused(reason="r").to_json()) == ["event", "time", "reason"]
    assert list(Refused(reason="r", holder=None, by_lease=True).to_json()) == ["event", "time", "reason", "holder"]
    assert list(ImpactAssessed(personas=0, note="n").to_json()) == ["event", "time", "personas", "changed", "note"]
    assert list(LeaseChanged(action="release-failed", error="e", expires="x").to_json())[2:] == [
        "action",
        "error",
        "expires",
    ]
    assert LeaseChanged(action="lost").to_json()["holder"] is None
    assert Recovered(journal_id="j", state="superseded", crashed_at="begin").to_json().keys() == {
        "event",
        "time",
        "journal_id",
        "state",
        "crashed_at",
    }
    rollback = RollingBack(journal_id="j2", rollback_of="j1", already=True).to_json()
    assert list(rollback)[2:] == ["journal_id", "rollback_of", "already"]


def test_summary_line_names_the_journal_only_when_there_is_one() -> None:
    """A refusal wrote nothing, so its closing line has no `(journal None)`; a written change names its entry."""
    import io

    from vpce_console.commands.rollout import summary_line
    from vpce_console.services.rollout_model import RolloutSummary

    refused, converged = io.StringIO(), io.StringIO()
    summary_line(RolloutSummary("refused", None, 5, 0, None, reason="held by someone"), "text", refused)
    summary_line(RolloutSummary("converged", 41.0, 5, 2, "20261201T051830-b8db6ae7"), "text", converged)
    assert refused.getvalue() == "REFUSED: held by someone\n"
    assert converged.getvalue() == "CONVERGED after 41.0s (journal 20261201T051830-b8db6ae7)\n"
