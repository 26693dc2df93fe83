"""`vpce usage` and `vpce denials` on the local engine against the lab's org trail: equal to the lab's ground truth.

The lab delivers its demo history (7 days) plus what the session's personas did to the log-archive bucket; the CLI
syncs it through the real SDK, DuckDB answers, and every group must equal the lab's own aggregates exactly.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.aws.conftest import lab_get
from tests.lab.conftest import make_client

from vpce_console.cli import main

pytestmark = pytest.mark.lab

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trail cache for the module: the first test syncs, the others find the window unchanged."""
    return tmp_path_factory.mktemp("trail-cache")


@pytest.fixture
def vpce(lab_ready_file: str, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run the real CLI in this process against the shared lab; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_dir))

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["--lab-ready", lab_ready_file, *args])
        return code, out.getvalue(), err.getvalue()

    return run


@pytest.fixture(scope="module")
def truth(lab_ready: Mapping[str, Any]) -> dict[str, Any]:
    """Deliver what is pending, then take the lab's aggregates of everything in the bucket."""
    from tests.lab.test_trail import control

    control(lab_ready, "/lab-api/trail/flush", "POST")
    return control(lab_ready, "/lab-api/trail/truth")


def since(ready: Mapping[str, Any]) -> str:
    """The start of the lab's history: the whole trail is inside the window."""
    return str(ready["trail"]["history"]["start"])


def expected(
    truth: Mapping[str, Any], key: Callable[[Mapping[str, Any]], tuple[str, ...]], denied_only: bool = False
) -> dict[tuple[str, ...], list[Any]]:
    groups: dict[tuple[str, ...], list[Any]] = {}
    for row in truth["rows"]:
        if denied_only and not row["error_code"]:
            continue
        k = key(row)
        g = groups.setdefault(k, [0, 0, row["first_seen"], row["last_seen"]])
        g[0] += row["calls"]
        g[1] += row["calls"] if row["error_code"] else 0
        g[2] = min(g[2], row["first_seen"])
        g[3] = max(g[3], row["last_seen"])
    return groups


def got(doc: Mapping[str, Any], names: tuple[str, ...]) -> dict[tuple[str, ...], list[Any]]:
    return {
        (r["endpoint_id"], *(r[n] for n in names)): [r["calls"], r["denials"], r["first_seen"], r["last_seen"]]
        for r in doc["rows"]
    }


@pytest.fixture(params=["local", "athena"])
def engine(request: pytest.FixtureRequest, vpce: Run) -> str:
    """Both engines answer every question; the athena one needs its table (a write, made once)."""
    name = str(request.param)
    if name == "athena":
        code, _, err = vpce(
            "usage",
            "--engine",
            "athena",
            "--create-table",
            "--allow-write",
            "--confirm",
            "vpce_org_trail",
            "--since",
            "1h",
        )
        assert code == 0, err
    return name


def usage(vpce: Run, ready: Mapping[str, Any], *args: str, engine: str = "local") -> dict[str, Any]:
    code, out, err = vpce("usage", "--engine", engine, "--since", since(ready), "--format", "json", *args)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    assert doc["skipped"] == []
    return doc


def test_usage_by_account_equals_truth(
    vpce: Run, lab_ready: Mapping[str, Any], truth: Mapping[str, Any], engine: str
) -> None:
    doc = usage(vpce, lab_ready, "--by", "account", engine=engine)
    assert got(doc, ("account",)) == expected(truth, lambda r: (r["endpoint_id"], r["account_id"]))
    assert sum(r["calls"] for r in doc["rows"]) == truth["records"] == doc["records_in_window"]


def test_unchanged_window_is_one_listing_and_no_download(vpce: Run, lab_ready: Mapping[str, Any], truth: Any) -> None:
    usage(vpce, lab_ready)  # whatever ran first synced
    doc = usage(vpce, lab_ready, "--by", "action")
    assert doc["sync"]["objects_downloaded"] == 0 and doc["sync"]["listings"] == 1
    assert doc["sync"]["objects_listed"] == truth["objects"]


def test_usage_by_principal_and_action_equal_truth(
    vpce: Run, lab_ready: Mapping[str, Any], truth: Any, engine: str
) -> None:
    doc = usage(vpce, lab_ready, "--by", "principal", engine=engine)
    assert got(doc, ("principal",)) == expected(truth, lambda r: (r["endpoint_id"], r["principal"]))
    doc = usage(vpce, lab_ready, "--by", "action", engine=engine)
    assert got(doc, ("service", "action")) == expected(
        truth, lambda r: (r["endpoint_id"], r["event_source"], r["event_name"])
    )


def test_usage_by_vpc_maps_ips_through_the_inventory(
    vpce: Run, lab_ready: Mapping[str, Any], truth: Any, engine: str
) -> None:
    sqs = lab_ready["hub"]["endpoints"]["sqs"]
    doc = usage(vpce, lab_ready, "--by", "vpc", "--service", "sqs", engine=engine)
    assert doc["endpoints"] == [sqs]
    rows = got(doc, ("vpc",))
    want = {k: v for k, v in expected(truth, lambda r: (r["endpoint_id"], r["vpc_id"])).items() if k[0] == sqs}
    unknown = {k: v for k, v in rows.items() if k[1].startswith("unknown")}
    assert [k[1] for k in unknown] == ["unknown (10.250.3.7)"]  # the VPC outside every configured spoke
    assert {k: v for k, v in rows.items() if k not in unknown} == {k: v for k, v in want.items() if k[1] != "unknown"}
    assert list(unknown.values()) == [want[(sqs, "unknown")]]


def test_one_endpoint_only(vpce: Run, lab_ready: Mapping[str, Any], truth: Any) -> None:
    kms = lab_ready["hub"]["endpoints"]["kms"]
    doc = usage(vpce, lab_ready, "--endpoint", kms, "--by", "account")
    assert got(doc, ("account",)) == {
        k: v for k, v in expected(truth, lambda r: (r["endpoint_id"], r["account_id"])).items() if k[0] == kms
    }


def test_denials_equal_truth(vpce: Run, lab_ready: Mapping[str, Any], truth: Any, engine: str) -> None:
    for by, key, names in (
        ("reason", lambda r: (r["endpoint_id"], r["error_code"]), ("reason",)),
        ("account", lambda r: (r["endpoint_id"], r["account_id"]), ("account",)),
        ("action", lambda r: (r["endpoint_id"], r["event_source"], r["event_name"]), ("service", "action")),
    ):
        code, out, err = vpce(
            "denials", "--engine", engine, "--since", since(lab_ready), "--by", by, "--format", "json"
        )
        assert code == 0, err
        want = expected(truth, key, denied_only=True)
        assert got(json.loads(out), names) == want
        assert sum(v[1] for v in want.values()) >= 7 * 3


def test_text_and_csv(vpce: Run, lab_ready: Mapping[str, Any], truth: Any) -> None:
    code, out, _ = vpce("usage", "--since", since(lab_ready), "--by", "account")
    assert code == 0 and out.splitlines()[0].split()[:4] == ["ENDPOINT", "ACCOUNT", "CALLS", "DENIALS"]
    assert f"{truth['records']} network activity records" in out
    code, out, _ = vpce("denials", "--since", since(lab_ready), "--format", "csv")
    assert out.splitlines()[0] == "endpoint_id,reason,calls,denials,first_seen,last_seen"


# -- bad input ------------------------------------------------------------------------------------------------


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def config_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


def test_no_trail_configured(vpce: Run, tmp_path: Path) -> None:
    code, _, err = vpce("--config", config_file(tmp_path, "trail:\n  bucket: null\n"), "usage")
    assert code == 2 and "no trail configured" in one_line(err)


def test_bucket_without_access(vpce: Run, tmp_path: Path, lab_ready: Mapping[str, Any]) -> None:
    hub = lab_ready["hub"]["account_id"]
    code, _, err = vpce(
        "--config", config_file(tmp_path, f"trail:\n  account_id: '{hub}'\n"), "usage", "--format", "json"
    )
    assert (code == 2 and "AccessDenied" in one_line(err)) or "denied" in one_line(err).lower()


def test_prefix_without_objects(vpce: Run, tmp_path: Path) -> None:
    code, _, err = vpce(
        "--config", config_file(tmp_path, "trail:\n  prefix: nothing-here/\n"), "usage", "--format", "json"
    )
    assert code == 2 and "no trail objects" in one_line(err)


@pytest.fixture
def bad_objects(lab_ready: Mapping[str, Any]) -> Iterator[str]:
    """Under a prefix of its own: one good object, one cut-off gzip, one whose records are eventVersion 2.0."""
    yield put_bad_objects(lab_ready, "bad-trail/")


def put_bad_objects(lab_ready: Mapping[str, Any], prefix: str) -> str:
    """Write the good, cut-off and eventVersion 2.0 objects under `prefix` (each caller its own) and return it."""
    trail = lab_ready["trail"]
    op = lab_ready["operator"]
    sts = make_client(lab_ready, "sts", op["access_key_id"], op["secret_access_key"])
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{trail['account_id']}:role/{lab_ready['read_role_name']}", RoleSessionName="bad-objects"
    )["Credentials"]
    s3 = make_client(lab_ready, "s3", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    hub = lab_ready["hub"]["account_id"]
    now = datetime.now(UTC) - timedelta(hours=1)
    folder = f"{prefix}AWSLogs/{trail['organization_id']}/{hub}/CloudTrail/{lab_ready['region']}/{now:%Y/%m/%d}/"

    def record(version: str, i: int) -> dict[str, Any]:
        return {
            "eventVersion": version,
            "userIdentity": {"type": "AWSAccount", "principalId": "AROAX:s", "accountId": "222222222222"},
            "eventTime": f"{now:%Y-%m-%dT%H:%M:}{i:02d}Z",
            "eventSource": "sqs.amazonaws.com",
            "eventName": "SendMessage",
            "awsRegion": lab_ready["region"],
            "sourceIPAddress": "10.1.0.9",
            "eventType": "AwsVpceEvent",
            "recipientAccountId": hub,
            "vpcEndpointId": lab_ready["hub"]["endpoints"]["sqs"],
            "vpcEndpointAccountId": hub,
            "eventCategory": "NetworkActivity",
        }

    def body(records: list[dict[str, Any]]) -> bytes:
        return gzip.compress(json.dumps({"Records": records}).encode())

    stamp = f"{now:%Y%m%dT%H%M}Z"
    good = body([record("1.09", i) for i in range(5)])
    objects = {
        "good": good,
        "cut": body([record("1.09", i) for i in range(50)])[:-40],
        "future": body([record("2.0", i) for i in range(3)] + [record("1.10", 9)]),
    }
    for name, data in objects.items():
        key = f"{folder}{hub}_CloudTrail_{lab_ready['region']}_{stamp}_{name:0>16}.json.gz"
        s3.put_object(Bucket=trail["bucket"], Key=key, Body=data)
    return prefix


def test_truncated_gzip_and_unknown_major_are_counted_skips(vpce: Run, tmp_path: Path, bad_objects: str) -> None:
    cfg = config_file(tmp_path, f"trail:\n  prefix: {bad_objects}\n")
    code, out, err = vpce("--config", cfg, "usage", "--since", "1d", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert sum(r["calls"] for r in doc["rows"]) == 6  # five good records and the 1.10 one
    assert {(s["what"], s["count"], s["reason"]) for s in doc["skipped"]} == {
        ("objects", 1, "truncated or corrupt gzip"),
        ("records", 3, "eventVersion major 2 (this reader knows 1.x)"),
    }
    code, out, err = vpce("--config", cfg, "usage", "--since", "1d")
    assert "skipped 1 objects: truncated or corrupt gzip" in out
    assert "skipped 3 records: eventVersion major 2 (this reader knows 1.x)" in out


def test_lab_get_trail_route(lab_ready: Mapping[str, Any]) -> None:
    assert lab_get(lab_ready, "/lab-api/trail")["bucket"] == lab_ready["trail"]["bucket"]


# -- the lab's Athena ---------------------------------------------------------------------------------------------


@pytest.fixture
def athena(lab_ready: Mapping[str, Any]) -> Any:
    op = lab_ready["operator"]
    return make_client(lab_ready, "athena", op["access_key_id"], op["secret_access_key"])


def wait_done(athena: Any, qid: str) -> tuple[list[str], dict[str, Any]]:
    import time

    states = []
    for _ in range(400):
        ex = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        state = ex["Status"]["State"]
        if not states or states[-1] != state:
            states.append(state)
        if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return states, ex
        time.sleep(0.05)
    raise AssertionError(states)


def test_athena_lifecycle_paging_and_output(vpce: Run, lab_ready: Mapping[str, Any], athena: Any, engine: str) -> None:
    if engine != "athena":
        pytest.skip("the table comes with the athena engine fixture")
    sql = (
        'SELECT eventname, count(*) AS n FROM "default"."vpce_org_trail" WHERE "timestamp" >= \'2000/01/01\' GROUP BY 1'
    )
    qid = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": "default"})[
        "QueryExecutionId"
    ]
    states, ex = wait_done(athena, qid)
    assert states[0] == "QUEUED" and states[-1] == "SUCCEEDED" and "RUNNING" in states
    assert ex["Statistics"]["DataScannedInBytes"] > 0
    first = athena.get_query_results(QueryExecutionId=qid, MaxResults=3)
    columns = first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in columns] == [("eventname", "varchar"), ("n", "bigint")]
    assert [d["VarCharValue"] for d in first["ResultSet"]["Rows"][0]["Data"]] == ["eventname", "n"]  # header row
    rows = first["ResultSet"]["Rows"][1:]
    token = first.get("NextToken")
    assert token
    while token:
        page = athena.get_query_results(QueryExecutionId=qid, MaxResults=3, NextToken=token)
        rows += page["ResultSet"]["Rows"]
        token = page.get("NextToken")
    assert sum(int(r["Data"][1]["VarCharValue"]) for r in rows) >= lab_ready["trail"]["history"]["records"]
    out = ex["ResultConfiguration"]["OutputLocation"]
    bucket, key = out.removeprefix("s3://").split("/", 1)
    op = lab_ready["operator"]
    s3 = make_client(lab_ready, "s3", op["access_key_id"], op["secret_access_key"])
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body.splitlines()[0] == '"eventname","n"'


def test_athena_bad_sql_fails_like_athena(athena: Any) -> None:
    qid = athena.start_query_execution(QueryString="SELEC eventname FROM t")["QueryExecutionId"]
    _, ex = wait_done(athena, qid)
    assert ex["Status"]["State"] == "FAILED" and ex["Status"]["StateChangeReason"].startswith("line ")
    assert ex["Status"]["AthenaError"]["ErrorCategory"] == 2
    with pytest.raises(ClientError) as info:
        athena.get_query_results(QueryExecutionId=qid)
    assert info.value.response["Error"]["Code"] == "InvalidRequestException"


def test_athena_stop_cancels(athena: Any) -> None:
    qid = athena.start_query_execution(QueryString="SELECT 1")["QueryExecutionId"]
    athena.stop_query_execution(QueryExecutionId=qid)
    _, ex = wait_done(athena, qid)
    assert ex["Status"]["State"] == "CANCELLED"


def test_athena_prunes_partitions(vpce: Run, engine: str) -> None:
    if engine != "athena":
        pytest.skip("athena only")
    scanned = {}
    for window in ("1d", "7d"):
        code, out, err = vpce("usage", "--engine", "athena", "--since", window, "--format", "json")
        assert code == 0, err
        scanned[window] = json.loads(out)["athena"]["scanned_bytes"]
    assert 0 < scanned["1d"] * 3 < scanned["7d"]


def test_create_table_is_a_write(vpce: Run) -> None:
    code, _, err = vpce("usage", "--engine", "athena", "--create-table")
    assert code == 2 and "--allow-write" in one_line(err)
    code, _, err = vpce("usage", "--engine", "athena", "--create-table", "--allow-write")
    assert code == 2 and "--confirm vpce_org_trail" in one_line(err)


def test_doctor_reads_the_trail(vpce: Run, lab_ready: Mapping[str, Any]) -> None:
    code, out, err = vpce("doctor", "--trail", "8d", "--format", "json")
    assert code in (0, 1), err
    found = json.loads(out)["findings"]
    sandbox = next(s["vpc_id"] for s in lab_ready["spokes"] if s["name"] == "dev-sandbox")
    unused = {(f["vpc_id"], f["service"]) for f in found if f["code"] == "association-unused"}
    assert (sandbox, "ecr.dkr") in unused  # the history never calls it
    callers = {f["message"].split(" made ")[0] for f in found if f["code"] == "unexpected-caller"}
    assert callers == {"IP 10.250.3.7", "account 777777777777"}
    assert not [f for f in found if f["code"] == "endpoint-unused" and f["service"] == "sts"]
