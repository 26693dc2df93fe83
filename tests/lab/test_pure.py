"""Pure lab parts with injected clocks and randomness: propagation, limits, faults, paging tokens, error bodies."""

from __future__ import annotations

import json
import random

import pytest

from vpce_console.lab import errors
from vpce_console.lab.faults import FaultTable, parse_faults
from vpce_console.lab.limits import RateLimiter, family_of
from vpce_console.lab.pagination import PageError, make_token, paginate_ec2_xml, read_token
from vpce_console.lab.propagation import Propagation, parse_window


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_propagation_old_then_mixed_then_new() -> None:
    clock = Clock()
    prop = Propagation((10.0, 10.0), rng=random.Random(1), clock=clock)
    assert prop.effective("vpce-1", "A") == "A"
    change = prop.changed("vpce-1", "A", "B")
    assert change.fully_propagated_at == 1010.0
    assert {prop.effective("vpce-1", "B") for _ in range(200)} == {"A"}  # t = t0: nobody has it yet
    clock.now = 1007.0
    seen = [prop.effective("vpce-1", "B") for _ in range(2000)]
    assert 0.35 < seen.count("B") / len(seen) < 0.63  # (0.7)^2 = 0.49
    clock.now = 1010.0
    assert {prop.effective("vpce-1", "B") for _ in range(200)} == {"B"}
    assert prop.snapshot() == {"endpoints": {"vpce-1": {"changed_at": 1000.0, "fully_propagated_at": 1010.0}}}


def test_propagation_window_parsing() -> None:
    assert parse_window("20:60") == (20.0, 60.0)
    assert parse_window("5") == (5.0, 5.0)
    for bad in ("60:20", "-1:2", "a:b", "1:2:3"):
        with pytest.raises(ValueError):
            parse_window(bad)


def test_rate_limiter_refills() -> None:
    clock = Clock()
    limiter = RateLimiter({"route53": (5.0, 5.0)}, clock=clock)
    assert [limiter.allow("a", "route53") for _ in range(6)] == [True] * 5 + [False]
    assert limiter.allow("b", "route53")  # per account
    clock.now += 0.2
    assert limiter.allow("a", "route53") and not limiter.allow("a", "route53")
    assert limiter.allow("a", None)
    assert family_of("ec2", "DescribeVpcs") == "ec2:describe" and family_of("ec2", "ModifyVpcEndpoint") == "ec2:mutate"
    assert family_of("cloudtrail", "LookupEvents") == "cloudtrail:LookupEvents" and family_of("sqs", "X") is None


def test_fault_spec() -> None:
    rules = parse_faults("route53=throttle@0.5, ec2:DescribeVpcs=latency:2,sqs=drop,*=5xx@0")
    assert [(r.service, r.action, r.kind, r.arg, r.probability) for r in rules] == [
        ("route53", "*", "throttle", 0.0, 0.5),
        ("ec2", "DescribeVpcs", "latency", 2.0, 1.0),
        ("sqs", "*", "drop", 0.0, 1.0),
        ("*", "*", "5xx", 0.0, 0.0),
    ]
    table = FaultTable(rules, rng=random.Random(3))
    assert [f.kind for f in table.pick("ec2", "DescribeVpcs")] == ["latency"]
    assert table.pick("kms", "Decrypt") == []
    fired = sum(bool(table.pick("route53", "ListHostedZones")) for _ in range(1000))
    assert 400 < fired < 600
    for bad in ("sqs=explode", "sqs", "sqs=drop@2"):
        with pytest.raises(ValueError):
            parse_faults(bad)


def test_paging_tokens_and_ec2_slicing() -> None:
    assert read_token(make_token(5, "abc"), "abc") == 5
    with pytest.raises(PageError):
        read_token(make_token(5, "abc"), "other")
    with pytest.raises(PageError):
        read_token("garbage!", "abc")
    items = "".join(f"<item><vpcId>vpc-{i}</vpcId></item>" for i in range(7))
    body = (
        '<?xml version="1.0"?><DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        f"<requestId>r</requestId><vpcSet>{items}</vpcSet></DescribeVpcsResponse>"
    ).encode()
    first = paginate_ec2_xml(body, 0, 5, "fp").decode()
    assert first.count("<item>") == 5 and "<nextToken>" in first and "ns0:" not in first
    last = paginate_ec2_xml(body, 5, 5, "fp").decode()
    assert last.count("<item>") == 2 and "nextToken" not in last and "vpc-6" in last


def test_error_bodies() -> None:
    sqs = errors.access_denied("sqs", "no")
    assert dict(sqs.headers)["x-amzn-query-error"] == "AccessDenied;Sender"
    assert json.loads(sqs.body)["__type"].endswith("AccessDeniedException") and sqs.status == 403
    ec2 = errors.access_denied("ec2", "no")
    assert b"<Response><Errors><Error><Code>UnauthorizedOperation</Code>" in ec2.body
    sts = errors.access_denied("sts", "no")
    assert b"<Type>Sender</Type><Code>AccessDenied</Code>" in sts.body and sts.status == 403
    kms = errors.access_denied("kms", "no")
    assert json.loads(kms.body) == {"__type": "AccessDeniedException", "message": "no"}
    assert errors.throttled("route53", "ListHostedZones").status == 400
    assert b"RequestLimitExceeded" in errors.throttled("ec2", "DescribeVpcs").body
    msg = errors.endpoint_denial_message("arn:x", "sqs:SendMessage", "*", explicit=False)
    expected = (
        "User: arn:x is not authorized to perform: sqs:SendMessage "
        "because no VPC endpoint policy allows the sqs:SendMessage action"
    )
    assert msg == expected


def test_ready_file_round_trip_and_errors(tmp_path: object) -> None:
    from pathlib import Path

    from vpce_console.errors import UsageError
    from vpce_console.lab.ready import write_ready_file
    from vpce_console.readyfile import read_ready_json

    folder = Path(str(tmp_path))
    data = {k: k for k in ("endpoint_url", "region", "hub", "operator", "read_role_name", "accounts", "spokes")}
    data["personas"] = []
    write_ready_file(folder / "r.json", data)
    assert read_ready_json(folder / "r.json") == data
    assert [p.name for p in folder.iterdir()] == ["r.json"]  # no temp file left behind
    (folder / "bad.json").write_text("{not json")
    (folder / "partial.json").write_text('{"endpoint_url": "x"}')
    for name, needle in (("missing.json", "cannot read"), ("bad.json", "not valid JSON"), ("partial.json", "lacks")):
        with pytest.raises(UsageError, match=needle):
            read_ready_json(folder / name)


def test_lab_personas_are_data_with_a_reason_each() -> None:
    """The lab's personas come from data/lab_personas.yaml: every credential kind, each entry saying why it exists."""
    from vpce_console.lab.seed_personas import persona_entries
    from vpce_console.policy.vocab import CREDENTIAL_KINDS

    entries = persona_entries()
    assert {e["kind"] for e in entries} == set(CREDENTIAL_KINDS)
    assert all(str(e.get("why", "")).strip() for e in entries)
    assert len({e["name"] for e in entries}) == len(entries)


def test_lab_spokes_are_data_with_a_reason_each() -> None:
    """The demo's spoke accounts and VPCs come from data/lab_spokes.yaml, each saying why it is there."""
    from importlib.resources import files

    from vpce_console.lab.seed_scenarios import _DEMO_NAMES, demo_layout
    from vpce_console.safeload import load_yaml

    layout = demo_layout()
    assert [env for _, env, _ in layout] == ["dev", "staging", "prod", "sensitive"]
    assert len(_DEMO_NAMES) == sum(len(names) for _, _, names in layout) == 10
    data = load_yaml(files("vpce_console.data").joinpath("lab_spokes.yaml").read_text(encoding="utf-8"))
    entries = [*data["accounts"], *(s for a in data["accounts"] for s in a["spokes"])]
    assert all(str(e.get("why", "")).strip() for e in entries)
