"""The write gate, exact policy-file reading and event rendering of `vpce rollout` (pure parts, no AWS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpce_console.commands.rollout import read_policy_file, render_event
from vpce_console.errors import UsageError
from vpce_console.services.rollout import RolloutEvent, RolloutSummary, check_write_gate


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
    line = render_event(RolloutEvent("refused", 0.0, {"reason": "stale base", "diff": "--- base\n+++ deployed"}))
    assert line.startswith("REFUSED") and "+++ deployed" in line
    row = render_event(
        RolloutEvent(
            "round",
            0.0,
            {
                "elapsed": 1.5,
                "status": "pending",
                "flaps": 0,
                "probes": [{"probe_id": "p:sqs:ListQueues:*", "streak": 2}],
            },
        )
    )
    assert "pending" in row and "sqs:ListQueues:*=2" in row
    assert RolloutEvent("x", 1.23456, {"a": 1}).to_json() == {"event": "x", "time": 1.235, "a": 1}
