"""The pieces behind the hostile-input guarantees, tested directly: bounded YAML, capped reads, private files,
duplicate keys that block a write, and one decision about a UTF-8 byte-order mark."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from tests.hostile.conftest import OK_POLICY, REQUEST, alias_bomb, run_vpce

from vpce_console.errors import UsageError
from vpce_console.safeload import YamlLimitError, load_yaml, read_text_capped, short


def test_alias_bomb_is_refused_early() -> None:
    with pytest.raises(YamlLimitError, match="expands to more than"):
        load_yaml(alias_bomb())


def test_ordinary_aliases_still_work() -> None:
    text = "base: &b {region: us-east-1}\nhubs: [*b, *b]\n"
    assert load_yaml(text) == {"base": {"region": "us-east-1"}, "hubs": [{"region": "us-east-1"}] * 2}


def test_deep_yaml_and_long_numbers_are_limit_errors() -> None:
    with pytest.raises(YamlLimitError, match="nested deeper than 64"):
        load_yaml("[" * 10_000 + "]" * 10_000)
    with pytest.raises(YamlLimitError, match="4300"):
        load_yaml("n: " + "9" * 4400)


def test_short_never_echoes_a_whole_value() -> None:
    assert len(short("x" * 10_000_000)) <= 60
    assert short(list(range(10**6))) == "<list of 1000000 items>"


def test_capped_read_refuses_dev_zero() -> None:
    with pytest.raises(UsageError, match="larger than the 1 MB limit"):
        read_text_capped("/dev/zero", limit=1024 * 1024, what="policy")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_state_folder_is_0700_and_every_file_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """drafts/, crash/, exports/ and the journal under a fresh state dir, with a permissive umask."""
    from vpce_console.paths import private_dir, private_file, state_dir
    from vpce_console.services.journal import Journal
    from vpce_console.tui.app import write_crash_log
    from vpce_console.tui.drafts import Draft, DraftStore

    old = os.umask(0o022)
    try:
        root = state_dir()
        draft = DraftStore().save(Draft("vpce-1", "{}", None))
        crash = write_crash_log("boom")
        Journal().begin(kind="apply", endpoint_id="vpce-1", before_text="{}", after_text="{}")
        exports = private_dir(root / "exports")
        os.close(private_file(exports / "x.jsonl"))
    finally:
        os.umask(old)
    assert crash is not None
    for folder in (root, root / "drafts", root / "crash", root / "exports", root.parent):
        assert _mode(folder) == 0o700, folder
    for file in (draft, crash, root / "journal.jsonl", exports / "x.jsonl"):
        assert _mode(file) == 0o600, file


def test_existing_open_folder_is_tightened(tmp_path: Path) -> None:
    from vpce_console.paths import private_dir

    folder = tmp_path / "crash"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    private_dir(folder)
    assert _mode(folder) == 0o700


DUPLICATE = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Effect":"Allow","Principal":"*",'
    '"Action":"sqs:SendMessage","Resource":"*"}]}'
)


def test_duplicate_key_is_a_lint_error(tmp_path: Path) -> None:
    from vpce_console.policy.linter import lint

    findings = [f for f in lint(DUPLICATE, policy_type="vpce") if f.code == "duplicate-key"]
    assert findings and str(findings[0].severity) == "error"


def test_duplicate_key_blocks_a_rollout_even_with_force_lint(tmp_path: Path) -> None:
    from vpce_console.services.journal import Journal
    from vpce_console.services.rollout import Rollout, RolloutContext
    from vpce_console.services.rollout_model import _Refused

    rollout = Rollout(RolloutContext(gateway=None, journal=Journal(tmp_path / "j.jsonl")))  # type: ignore[arg-type]
    # The refusal is raised inside the lint step, before the caller looks at --force-lint at all.
    with pytest.raises(_Refused, match="force-lint does not override") as refused:
        rollout._lint(DUPLICATE, "sqs")
    assert refused.value.codes == ("duplicate-key",)


def test_a_bom_is_one_decision_for_lint_simulate_impact_and_rollout(tmp_path: Path) -> None:
    """The byte-order mark is dropped on read: every command sees (and rollout writes) the document after it."""
    from vpce_console.commands.rollout import read_policy_file

    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + OK_POLICY.encode())
    (tmp_path / "ok.json").write_text(OK_POLICY)
    (tmp_path / "request.json").write_text(REQUEST)
    assert read_policy_file(str(tmp_path / "bom.json")) == OK_POLICY
    for name in ("bom.json", "ok.json"):
        lint = run_vpce(["lint", "--format", "json", name], cwd=tmp_path)
        simulate = run_vpce(["simulate", "--policy", name, "--request", "request.json"], cwd=tmp_path)
        impact = run_vpce(["impact", "--from", name, "--to", "ok.json", "--format", "json"], cwd=tmp_path)
        assert (lint.code, simulate.code, impact.code) == (0, 0, 0), (lint.stderr, simulate.stderr, impact.stderr)
        assert json.loads(simulate.stdout)["decision"] == "allow"
        assert json.loads(impact.stdout)["summary"]["changed"] == 0
        findings = json.loads(lint.stdout)["files"][0]["findings"]
        assert [f["code"] for f in findings] == ["default-full-access"]
