"""`vpce replay` against the lab's org trail: every figure equals the lab's ground truth.

The demo history holds an incident: for a stretch of the week the sqs endpoint had a policy that shut one spoke
account out (its calls there were denied), before and after it the default. LookupEvents shows the three changes,
so replay must evaluate each call against the version in force when it was made.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from vpce_console.cli import main

pytestmark = pytest.mark.lab

Run = Callable[..., tuple[int, str, str]]
DEFAULT = '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trail cache for the module: the first replay syncs, the others reuse it."""
    return tmp_path_factory.mktemp("replay-cache")


@pytest.fixture
def vpce(lab_ready_file: str, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_dir))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # an empty journal: versions from LookupEvents

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["--lab-ready", lab_ready_file, *args])
        return code, out.getvalue(), err.getvalue()

    return run


@pytest.fixture(scope="module")
def truth(lab_ready: Mapping[str, Any]) -> dict[str, Any]:
    from tests.lab.test_trail import control

    control(lab_ready, "/lab-api/trail/flush", "POST")
    return control(lab_ready, "/lab-api/trail/truth")


def replay(vpce: Run, ready: Mapping[str, Any], tmp: Path, document: str, *, code: int) -> dict[str, Any]:
    path = tmp / "draft.json"
    path.write_text(document)
    since = str(ready["trail"]["history"]["start"])
    endpoint = ready["hub"]["endpoints"]["sqs"]
    got, out, err = vpce("replay", "--endpoint", endpoint, "--policy", str(path), "--since", since, "--format", "json")
    assert got == code, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def sqs_rows(ready: Mapping[str, Any], truth: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    endpoint = ready["hub"]["endpoints"]["sqs"]
    return [r for r in truth["rows"] if r["endpoint_id"] == endpoint]


def shut_out(account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": account}},
                },
            ],
        }
    )


def test_replaying_the_deployed_policy_agrees_with_aws(
    vpce: Run, lab_ready: Mapping[str, Any], truth: Any, tmp_path: Path
) -> None:
    doc = replay(vpce, lab_ready, tmp_path, DEFAULT, code=0)
    rows = sqs_rows(lab_ready, truth)
    assert doc["records"] == sum(r["calls"] for r in rows)
    assert doc["sanity"]["agreement"] == 1.0 and doc["sanity"]["disagree"] == 0
    assert doc["sanity"]["version_unknown"] == 0
    assert [v["source"] for v in doc["versions"]] == ["cloudtrail", "cloudtrail", "cloudtrail"]
    assert doc["versions"][0]["version"] == doc["versions"][2]["version"] != doc["versions"][1]["version"]
    # the incident's denials: the default would have allowed them
    denied = sum(r["calls"] for r in rows if r["error_code"])
    assert denied > 0 and doc["newly_allowed"]["calls"] == denied
    assert doc["newly_denied"]["calls"] == 0


def test_a_draft_that_shuts_out_one_account(
    vpce: Run, lab_ready: Mapping[str, Any], truth: Any, tmp_path: Path
) -> None:
    rows = sqs_rows(lab_ready, truth)
    incident = lab_ready["trail"]["history"]["incident"]["account_id"]
    hub = lab_ready["hub"]["account_id"]
    candidates = sorted({r["account_id"] for r in rows} - {incident, hub, "777777777777"})
    account = candidates[0]
    doc = replay(vpce, lab_ready, tmp_path, shut_out(account), code=1)
    want = sum(r["calls"] for r in rows if r["account_id"] == account and not r["error_code"])
    assert want > 0
    denied = doc["newly_denied"]
    assert denied["calls"] == want
    assert denied["accounts"] == [{"account": account, "calls": want}]
    want_vpcs: dict[str, int] = {}
    for r in rows:
        if r["account_id"] == account:
            want_vpcs[r["vpc_id"]] = want_vpcs.get(r["vpc_id"], 0) + r["calls"]
    assert {v["vpc"]: v["calls"] for v in denied["vpcs"]} == want_vpcs
    want_actions: dict[str, int] = {}
    for r in rows:
        if r["account_id"] == account:
            want_actions["sqs:" + r["event_name"]] = want_actions.get("sqs:" + r["event_name"], 0) + r["calls"]
    assert {a["action"]: a["calls"] for a in denied["top_actions"]} == want_actions
    assert doc["sanity"]["agreement"] == 1.0


def test_a_tag_gated_draft_leaves_redacted_calls_undetermined(
    vpce: Run, lab_ready: Mapping[str, Any], truth: Any, tmp_path: Path
) -> None:
    draft = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalTag/team": "orders"}},
                }
            ],
        }
    )
    doc = replay(vpce, lab_ready, tmp_path, draft, code=0)
    rows = sqs_rows(lab_ready, truth)
    hub = lab_ready["hub"]["account_id"]
    groups = {tuple(g["depends_on"]): g for g in doc["undetermined"]}
    assert set(groups) == {("aws:PrincipalTag/team",)}
    by_account = {a["account"]: a["calls"] for a in groups[("aws:PrincipalTag/team",)]["accounts"]}
    cross: dict[str, int] = {}
    for r in rows:
        if r["account_id"] != hub:  # another account's identity is redacted to the account in the hub's trail
            cross[r["account_id"]] = cross.get(r["account_id"], 0) + r["calls"]
    assert {a: n for a, n in by_account.items() if a != hub} == cross
    assert doc["sanity"]["agreement"] == 1.0


def test_athena_engine_gives_the_same_replay(
    vpce: Run, lab_ready: Mapping[str, Any], truth: Any, tmp_path: Path
) -> None:
    """One shape query, two dialects: Athena over the trail table answers exactly what DuckDB answers locally."""
    code, _, err = vpce(
        "usage", "--engine", "athena", "--create-table", "--allow-write", "--confirm", "vpce_org_trail", "--since", "1h"
    )
    assert code == 0, err
    incident = lab_ready["trail"]["history"]["incident"]["account_id"]
    local = replay(vpce, lab_ready, tmp_path, shut_out(incident), code=1)
    path = tmp_path / "draft.json"
    since = str(lab_ready["trail"]["history"]["start"])
    endpoint = lab_ready["hub"]["endpoints"]["sqs"]
    got, out, err = vpce(
        "replay", "--engine", "athena", "--endpoint", endpoint, "--policy", str(path), "--since", since,
        "--format", "json",
    )  # fmt: skip
    assert got == 1, err
    athena = json.loads(out)
    assert athena["engine"] == "athena" and local["engine"] == "local"
    for key in (
        "records",
        "shapes",
        "versions",
        "newly_denied",
        "newly_allowed",
        "undetermined",
        "unchanged",
        "sanity",
    ):
        assert athena[key] == local[key], key
    # the incident's own document again: what AWS denied then stays denied, the rest of the account's calls flip
    assert local["sanity"]["agreement"] == 1.0 and local["newly_allowed"]["calls"] == 0
    assert [a["account"] for a in local["newly_denied"]["accounts"]] == [incident]
