"""Replay's pure parts: the shape query in both dialects, the policy versions of a window, the grouping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlglot

from vpce_console.policy.partial import compile_partial
from vpce_console.policy.record import AccountFacts, ContextMap
from vpce_console.services.replay import replay_shapes
from vpce_console.services.replay_model import PolicyVersion, Shape, versions_in_window
from vpce_console.services.trail_sql import ShapeQuestion, render_shapes

SINCE = datetime(2026, 11, 23, tzinfo=UTC)
DEFAULT = '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'


def deny_account(account: str) -> str:
    return json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": account}},
                },
            ]
        }
    )


def test_shape_question_renders_for_both_engines() -> None:
    q = ShapeQuestion("vpce-0abc", SINCE, (SINCE + timedelta(days=1), SINCE + timedelta(days=2)), ("1" * 12,))
    for dialect in ("duckdb", "athena"):
        sql = render_shapes(q, dialect, "db.trail" if dialect == "athena" else "cloudtrail")
        sqlglot.parse_one(sql, read=dialect)  # valid in its own dialect
        assert "sessionissuer.arn" in sql and "vpce-0abc" in sql
        # the later boundary is tested first: a call after both changes is in period 2
        assert sql.index("2026-11-25T00:00:00Z") < sql.index("2026-11-24T00:00:00Z")


def test_shape_question_runs_in_duckdb() -> None:
    import duckdb

    db = duckdb.connect()
    db.execute(
        "CREATE TABLE cloudtrail (useridentity STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, "
        "accountid VARCHAR, sessioncontext STRUCT(sessionissuer STRUCT(arn VARCHAR))), eventtime VARCHAR, "
        "eventsource VARCHAR, eventname VARCHAR, awsregion VARCHAR, sourceipaddress VARCHAR, errorcode VARCHAR, "
        "eventcategory VARCHAR, vpcendpointid VARCHAR, vpcendpointaccountid VARCHAR, account VARCHAR, "
        'region VARCHAR, "timestamp" VARCHAR)'
    )
    ident = (
        "{'type': 'AWSAccount', 'principalid': 'x', 'arn': NULL, 'accountid': '222222222222', 'sessioncontext': NULL}"
    )
    for t, err in (
        ("2026-11-23T10:00:00Z", None),
        ("2026-11-24T10:00:00Z", "VpceAccessDenied"),
        ("2026-11-24T11:00:00Z", "VpceAccessDenied"),
    ):
        db.execute(
            f"INSERT INTO cloudtrail VALUES ({ident}, ?, 'sqs.amazonaws.com', 'SendMessage', 'us-east-1', "
            "'10.1.0.5', ?, "
            "'NetworkActivity', 'vpce-0abc', '111111111111', '111111111111', 'us-east-1', ?)",
            [t, err, t[:10].replace("-", "/")],
        )
    q = ShapeQuestion("vpce-0abc", SINCE, (SINCE + timedelta(days=1),))
    shapes = [Shape.from_row(r) for r in db.execute(render_shapes(q, "duckdb")).fetchall()]
    assert sorted((s.period, s.denied, s.calls) for s in shapes) == [(0, False, 1), (1, True, 2)]
    versions = [
        PolicyVersion(None, DEFAULT, "cloudtrail"),
        PolicyVersion(SINCE + timedelta(days=1), deny_account("222222222222"), "cloudtrail"),
    ]
    report = replay_shapes(
        shapes,
        versions,
        compile_partial(deny_account("222222222222")),
        endpoint_id="vpce-0abc",
        endpoint_vpc="vpc-0hub",
        facts=ContextMap(),
    )  # fmt: skip
    assert report.agreement == 1.0 and report.records == 3
    assert report.newly_denied.calls == 1 and report.unchanged.calls == 2


def test_versions_in_window() -> None:
    t = [SINCE - timedelta(days=3), SINCE + timedelta(days=1), SINCE + timedelta(days=2)]
    # an older change sets the version at the start; each change inside opens a period
    got = versions_in_window(
        "C", SINCE, [(t[0], None, "A", "cloudtrail"), (t[1], None, "B", "cloudtrail"), (t[2], None, "C", "cloudtrail")]
    )
    assert [(v.start, v.text) for v in got] == [(None, "A"), (t[1], "B"), (t[2], "C")]
    # only the journal's change inside: its before document is the start's
    got = versions_in_window("B", SINCE, [(t[1], "A", "B", "journal")])
    assert [(v.start, v.text) for v in got] == [(None, "A"), (t[1], "B")]
    # a change seen only in CloudTrail with nothing earlier: the start's version is unknown, not guessed
    got = versions_in_window("B", SINCE, [(t[1], None, "B", "cloudtrail")])
    assert got[0].text is None
    # no change: the deployed document all along
    assert [(v.start, v.text, v.source) for v in versions_in_window("D", SINCE, [])] == [(None, "D", "deployed")]


def _shape(account: str, denied: bool, calls: int, arn: str | None = None, period: int = 0) -> Shape:
    kind = "AssumedRole" if arn else "AWSAccount"
    return Shape(
        kind,
        arn,
        account,
        None,
        "sqs.amazonaws.com",
        "SendMessage",
        "10.1.0.5",
        "us-east-1",
        "111111111111",
        denied,
        period,
        calls,
        "",
        "",
    )


def test_grouping_and_sanity() -> None:
    shapes = [_shape("222222222222", False, 5), _shape("333333333333", False, 7), _shape("333333333333", True, 2)]
    tag_gated = compile_partial(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}}]}
    )  # fmt: skip
    facts = ContextMap({"222222222222": AccountFacts("o-abcdefghij")})
    report = replay_shapes(
        shapes,
        [PolicyVersion(None, DEFAULT, "deployed")],
        tag_gated,
        endpoint_id="vpce-0abc",
        endpoint_vpc=None,
        facts=facts,
    )
    assert report.unchanged.calls == 5  # known to be in the org
    assert {k: g.calls for k, g in report.undetermined.items()} == {frozenset({"aws:PrincipalOrgID"}): 9}
    # the deployed default allows what AWS denied: a disagreement, shown
    assert report.disagree == 2 and report.agree == 12 and report.disagreements[0]["aws"] == "denied"
    # an unknown version is counted apart, never compared
    report = replay_shapes(
        shapes,
        [PolicyVersion(None, None, "cloudtrail")],
        tag_gated,
        endpoint_id="vpce-0abc",
        endpoint_vpc=None,
        facts=facts,
    )
    assert report.version_unknown == 14 and report.agreement is None


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vpce_console.cli import main

    cap = capsys
    draft = tmp_path / "draft.json"
    draft.write_text("{not json")
    assert main(["replay", "--endpoint", "vpce-0abc", "--policy", str(draft)]) == 2
    err = cap.readouterr().err
    assert err.startswith("vpce replay: --policy") and "not valid JSON" in err and err.count("\n") == 1
    draft.write_text(DEFAULT)
    assert main(["replay", "--endpoint", "sg-0abc", "--policy", str(draft)]) == 2
    assert "expected a vpce-" in cap.readouterr().err
    assert main(["replay", "--endpoint", "vpce-0abc", "--policy", str(tmp_path / "missing.json")]) == 2


def test_observed_line_and_text() -> None:
    from vpce_console.services.replay_text import observed_line, observed_text

    shapes = [_shape("222222222222", False, 5), _shape("333333333333", False, 7)]
    draft = compile_partial(deny_account("333333333333"))
    report = replay_shapes(
        shapes, [PolicyVersion(None, DEFAULT, "deployed")], draft, endpoint_id="vpce-0abc", endpoint_vpc=None,
        facts=ContextMap(),
    )  # fmt: skip
    doc = report.to_json()
    assert observed_line(doc) == "this draft would have denied 7 call(s) from 1 account(s) in the last 7 days"
    text = observed_text(doc)
    assert "(redacted: 333333333333)" in text and "Sanity: the versions in force reproduce" in text


def test_the_report_keeps_what_it_predicts_and_who_called() -> None:
    """The draft's denials (and undetermined calls) are kept per caller and action; callers heaviest first."""
    role = "arn:aws:sts::111111111111:assumed-role/tools/i-0abc"
    shapes = [
        _shape("222222222222", False, 5),
        _shape("333333333333", False, 7),
        _shape("111111111111", False, 3, role),
    ]
    report = replay_shapes(
        shapes, [PolicyVersion(None, DEFAULT, "deployed")], compile_partial(deny_account("333333333333")),
        endpoint_id="vpce-0abc", endpoint_vpc=None, facts=ContextMap(),
    )  # fmt: skip
    doc = report.to_json()
    assert doc["predicted_denials"] == [
        {"account": "333333333333", "principal": None, "action": "sqs:SendMessage", "draft": "deny", "calls": 7}
    ]
    callers = [(c["account"], c["principal"], c["redacted"], c["calls"]) for c in doc["callers"]]
    assert callers == [
        ("333333333333", None, True, 7),
        ("222222222222", None, True, 5),
        ("111111111111", "arn:aws:iam::111111111111:role/tools", False, 3),
    ]


def test_unpredicted_denials_are_the_ones_no_prediction_covers() -> None:
    from vpce_console.services.replay_live import unpredicted
    from vpce_console.services.replay_model import principal_key

    assert principal_key("arn:aws:sts::1:assumed-role/R/sess-1") == "arn:aws:iam::1:role/R"
    predicted = [
        {"account": "333333333333", "principal": None, "action": "sqs:SendMessage"},  # redacted: the whole account
        {"account": "111111111111", "principal": "arn:aws:iam::111111111111:role/tools", "action": "sqs:ListQueues"},
        {"account": None, "principal": None, "action": "sqs:PurgeQueue"},  # a probe of unknown account
    ]
    tools, new = "arn:aws:sts::111111111111:assumed-role/tools/x", "arn:aws:sts::111111111111:assumed-role/new/x"
    denials = [
        {"account": "333333333333", "principal": "(redacted)", "action": "sqs:SendMessage"},  # predicted
        {"account": "333333333333", "principal": "(redacted)", "action": "sqs:ReceiveMessage"},  # other action
        {"account": "111111111111", "principal": tools, "action": "sqs:ListQueues"},
        {"account": "111111111111", "principal": new, "action": "sqs:ListQueues"},
        {"account": "111111111111", "principal": "(redacted)", "action": "sqs:ListQueues"},  # could be tools: covered
        {"account": "444444444444", "principal": "(redacted)", "action": "sqs:PurgeQueue"},
    ]  # fmt: skip
    left = unpredicted(denials, predicted)
    assert left == [denials[1], denials[3]]


def test_observed_personas_are_shown_with_counts_and_marked() -> None:
    """The heaviest callers become personas from evidence: counts, what the draft does, account-level when
    redacted, and the probe that can act as them when one exists."""
    from vpce_console.services.replay_text import persona_lines

    role = "arn:aws:sts::111111111111:assumed-role/tools/i-0abc"
    shapes = [_shape("333333333333", False, 7), _shape("111111111111", False, 3, role)]
    report = replay_shapes(
        shapes, [PolicyVersion(None, DEFAULT, "deployed")], compile_partial(deny_account("333333333333")),
        endpoint_id="vpce-0abc", endpoint_vpc=None, facts=ContextMap(),
    )  # fmt: skip
    doc = report.to_json()
    vpc = doc["callers"][0]["vpc"]
    lines = persona_lines(doc, {"arn:aws:iam::111111111111:role/tools": "probe", f"333333333333/{vpc}": "orders"})
    assert lines[0].startswith("Observed personas (heaviest 2 callers")
    assert "observed      7  account 333333333333 (account-level: AWS redacted the ARN)" in lines[1]
    assert "[draft denies 7]" in lines[1] and lines[1].endswith("· probe: orders")
    assert "arn:aws:iam::111111111111:role/tools" in lines[2] and lines[2].endswith("· probe: probe")
    assert "draft denies" not in lines[2]


def test_observed_callers_as_matrix_rows_are_three_valued() -> None:
    """An observed caller is evaluated on each column as its calls would be; a key its records lack (a principal
    tag) leaves the cell undetermined on that key, never guessed."""
    from vpce_console.services.replay_matrix import observed_matrix

    role = "arn:aws:sts::111111111111:assumed-role/tools/i-0abc"
    shapes = [_shape("333333333333", False, 7), _shape("111111111111", False, 3, role)]
    report = replay_shapes(
        shapes, [PolicyVersion(None, DEFAULT, "deployed")], compile_partial(DEFAULT),
        endpoint_id="vpce-0abc", endpoint_vpc=None, facts=ContextMap(),
    )  # fmt: skip
    callers = report.to_json()["callers"]
    tagged = json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
                        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "web"}}}]}
    )  # fmt: skip
    columns = [("sqs:SendMessage", "*")]
    rows = observed_matrix(
        callers, DEFAULT, deny_account("333333333333"), columns, endpoint_id="vpce-0abc", endpoint_vpc=None,
        facts=ContextMap(),
    )  # fmt: skip
    assert [(c["account"], cells[0].before, cells[0].after, cells[0].changed) for c, cells in rows] == [
        ("333333333333", True, False, True),
        ("111111111111", True, True, False),
    ]
    rows = observed_matrix(
        callers, DEFAULT, tagged, columns, endpoint_id="vpce-0abc", endpoint_vpc=None, facts=ContextMap()
    )
    assert all(cells[0].after is None and cells[0].depends_on == ("aws:PrincipalTag/team",) for _, cells in rows)


def test_old_document_denials_are_the_calls_the_draft_certainly_allows() -> None:
    """After a write, a denial of a call the draft allows came from the replaced document still propagating."""
    from vpce_console.services.replay_live import old_document_denials

    draft = json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Principal": "*", "Action": "sqs:GetQueueUrl", "Resource": "*"},
            ]
        }
    )
    denials = [
        {"account": "222222222222", "principal": "(redacted)", "action": "sqs:ListQueues", "source_ip": "10.1.0.9"},
        {"account": "222222222222", "principal": "(redacted)", "action": "sqs:GetQueueUrl", "source_ip": "10.1.0.9"},
        {
            "account": "111111111111",
            "principal": "arn:aws:sts::111111111111:assumed-role/app/i-0abc",
            "action": "sqs:ListQueues",
            "source_ip": "10.0.1.5",
        },
        {"account": "222222222222", "principal": "(redacted)", "action": "", "source_ip": None},
    ]
    assert old_document_denials(denials, draft, endpoint_id="vpce-1") == [True, False, True, False]
    tagged = json.dumps(  # the draft allows only team=payments: a redacted caller's tag is unknown, never assumed
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalTag/team": "payments"}},
                }
            ]
        }
    )
    assert old_document_denials(denials[:1], tagged, endpoint_id="vpce-1") == [False]
    assert old_document_denials(denials[:1], "{not json", endpoint_id="vpce-1") == [False]
