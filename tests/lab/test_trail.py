"""The lab's org trail: objects in the log-archive bucket, record shape (facts §4b), ground truth, access."""

from __future__ import annotations

import gzip
import json
import re
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.lab.conftest import make_client

from vpce_console.lab.history import parse_duration
from vpce_console.lab.trail_records import caller_identity_field, network_record

pytestmark = pytest.mark.lab

KEY_RE = re.compile(
    r"^org-trail/AWSLogs/o-[a-z0-9]+/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/"
    r"\1_CloudTrail_\2_\3\4\5T\d{4}Z_[0-9a-f]{16}\.json\.gz$"
)


def control(ready: Mapping[str, Any], path: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(
        f"{ready['endpoint_url']}{path}", method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return dict(json.loads(answer.read()))


@pytest.fixture(scope="module")
def archive(lab_ready: dict[str, Any]) -> Any:
    """An S3 client in the log-archive account (the read role there), as the console gets one."""
    op = lab_ready["operator"]
    sts = make_client(lab_ready, "sts", op["access_key_id"], op["secret_access_key"])
    trail = lab_ready["trail"]
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{trail['account_id']}:role/{lab_ready['read_role_name']}", RoleSessionName="trail-test"
    )["Credentials"]
    return make_client(lab_ready, "s3", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def all_records(ready: Mapping[str, Any], s3: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    trail = ready["trail"]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=trail["bucket"], Prefix=trail["prefix"]):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=trail["bucket"], Key=obj["Key"])["Body"].read()
            for record in json.loads(gzip.decompress(body))["Records"]:
                yield obj["Key"], record


def test_ready_file_names_the_trail(lab_ready: dict[str, Any]) -> None:
    trail = lab_ready["trail"]
    assert trail["bucket"] and trail["organization_id"] == lab_ready["organization"]["id"]
    assert trail["accounts"] == [lab_ready["hub"]["account_id"]]
    history = trail["history"]
    assert history["records"] > 7 * 1000 and history["denials"] >= 7 * 3  # demo default: 7 days, a few denials a day


def test_history_objects_records_and_truth_agree(
    lab_ready: dict[str, Any], archive: Any, persona: Callable[..., Any]
) -> None:
    """Every delivered record is in the facts' shape, and the lab's truth counts exactly what is in the bucket."""
    persona("web-dev", "sqs").list_queues()  # a live call through the hub's sqs endpoint
    flushed = control(lab_ready, "/lab-api/trail/flush", "POST")
    assert flushed["records"] >= 1
    hub = lab_ready["hub"]["account_id"]
    counted: Counter[tuple[str, str, str, str]] = Counter()
    live = []
    for key, record in all_records(lab_ready, archive):
        assert KEY_RE.match(key), key
        assert record["eventVersion"] == "1.09"
        assert (record["eventType"], record["eventCategory"]) == ("AwsVpceEvent", "NetworkActivity")
        assert record["recipientAccountId"] == record["vpcEndpointAccountId"] == hub
        assert record["vpcEndpointId"] in lab_ready["hub"]["endpoints"].values()
        assert record["sourceIPAddress"].startswith("10.")
        ident = record["userIdentity"]
        if ident["accountId"] == hub:
            assert ident["type"] == "AssumedRole" and ident["arn"].startswith(f"arn:aws:sts::{hub}:")
        else:
            assert set(ident) == {"type", "principalId", "accountId"} and ident["type"] == "AWSAccount"
        if "errorCode" in record:
            assert record["errorCode"] == "VpceAccessDenied"
            assert record["errorMessage"] == "The request was denied due to a VPC endpoint policy"
        counted[(record["vpcEndpointId"], ident["accountId"], record["eventName"], record.get("errorCode", ""))] += 1
        if record["eventName"] == "ListQueues":
            live.append(record)
    web = next(p for p in lab_ready["personas"] if p["name"] == "web-dev")
    assert any(r["sourceIPAddress"] == web["private_ip"] for r in live)
    truth = control(lab_ready, "/lab-api/trail/truth")
    expected: Counter[tuple[str, str, str, str]] = Counter()
    for row in truth["rows"]:
        expected[(row["endpoint_id"], row["account_id"], row["event_name"], row["error_code"])] += row["calls"]
    assert counted == expected
    assert sum(counted.values()) == truth["records"]


def test_trail_bucket_refuses_other_accounts(lab_ready: dict[str, Any], operator: Callable[[str], Any]) -> None:
    with pytest.raises(ClientError) as info:
        operator("s3").list_objects_v2(Bucket=lab_ready["trail"]["bucket"])
    assert info.value.response["Error"]["Code"] == "AccessDenied"


def test_identity_redaction_rule() -> None:
    full = {"type": "AssumedRole", "principalId": "AROAX:s", "arn": "arn:aws:sts::222222222222:assumed-role/r/s"}
    assert caller_identity_field(full, "222222222222", "222222222222") == full
    assert caller_identity_field(full, "222222222222", "111111111111") == {
        "type": "AWSAccount",
        "principalId": "AROAX:s",
        "accountId": "222222222222",
    }
    record = network_record(
        owner_account="111111111111",
        region="us-east-1",
        endpoint_id="vpce-1",
        identity=full,
        caller_account="222222222222",
        event_source="sqs.amazonaws.com",
        event_name="SendMessage",
        source_ip="10.1.0.5",
        user_agent="ua",
        event_time="2026-01-01T00:00:00Z",
        denied=True,
    )
    assert record["errorCode"] == "VpceAccessDenied" and "managementEvent" not in record and "readOnly" not in record


@pytest.mark.parametrize(("text", "seconds"), [("7d", 7 * 86400), ("36h", 36 * 3600), ("90m", 5400), ("0", 0)])
def test_history_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_history_duration() -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration("a week")


class _Sink:
    """Stands in for the bucket: keeps each object's digest (seed_history only writes objects and counts)."""

    def __init__(self, now: float) -> None:
        from vpce_console.lab.trail_records import Truth

        self.truth = Truth()
        self.objects: list[str] = []
        self.now = now

    def clock(self) -> float:
        return self.now

    def write_object(self, delivered: float, records: Any) -> str:
        import hashlib

        text = "[" + ",".join(records) + "]"
        json.loads(text)  # every object is valid JSON
        self.objects.append(hashlib.sha256(f"{delivered}{text}".encode()).hexdigest())
        return ""


def _small_world() -> Any:
    from vpce_console.lab.world import Spoke, World

    world = World(scale="demo", seed=1, hub_vpc_id="vpc-0hub", endpoints={"sqs": "vpce-0a", "kms": "vpce-0b"})
    world.spokes = [
        Spoke("222222222222", "vpc-0aaa1111", "10.1.0.0/16", "dev-app", "dev", [], ["sqs", "kms"]),
        Spoke("333333333333", "vpc-0bbb2222", "10.2.0.0/16", "stg-app", "staging", [], ["sqs"]),
        Spoke("444444444444", "vpc-0ccc3333", "10.3.0.0/16", "prod-app", "prod", [], []),
    ]
    return world


def test_history_is_deterministic_and_follows_the_day() -> None:
    from vpce_console.lab.history import seed_history

    now = 1_790_000_000.0
    runs = []
    for _ in range(2):
        sink = _Sink(now)
        summary = seed_history(sink, _small_world(), 2 * 86400, 5, per_day=3000)  # type: ignore[arg-type]
        runs.append((sink.objects, summary, sink.truth.to_json()))
    assert runs[0] == runs[1]
    objects, summary, truth = runs[0]
    assert summary["records"] == truth["records"] > 4000 and summary["denials"] >= 6
    accounts = {r["account_id"] for r in truth["rows"]}
    assert accounts == {"222222222222", "333333333333", "111111111111", "777777777777"}  # spokes, hub, a stranger
    other = sink_run = _Sink(now)
    seed_history(sink_run, _small_world(), 2 * 86400, 6, per_day=3000)  # type: ignore[arg-type]
    assert other.objects != objects  # another seed, another history


def test_rhythm_is_busier_by_day_than_by_night() -> None:
    from datetime import UTC, datetime

    from vpce_console.lab.history import rhythm

    day = datetime(2026, 11, 25, 14, tzinfo=UTC).timestamp()
    night = datetime(2026, 11, 25, 3, tzinfo=UTC).timestamp()
    weekend = datetime(2026, 11, 28, 14, tzinfo=UTC).timestamp()
    assert rhythm(day) > 3 * rhythm(night) and rhythm(weekend) < rhythm(day)
