"""The trail questions, written once; sqlglot generates DuckDB's and Athena's (Trino) SQL from the one source.

Both engines query a table shaped like the one Athena's CloudTrail integration creates: lower-case columns,
`useridentity` a struct, `eventtime` an ISO string, and the partition columns `account`, `region` and
`timestamp` (`yyyy/MM/dd`, the S3 key's date). The `timestamp` condition is what partition projection prunes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlglot
from sqlglot import exp

TABLE = "cloudtrail"
DENIED = "VpceAccessDenied"

GROUPS: dict[str, tuple[str, ...]] = {
    "endpoint": (),
    "account": ("useridentity.accountid",),
    "principal": ("COALESCE(useridentity.arn, useridentity.principalid)",),
    "action": ("eventsource", "eventname"),
    "vpc": ("sourceipaddress",),
    "reason": ("errorcode",),
    "denial": (
        "useridentity.accountid",
        "COALESCE(useridentity.arn, useridentity.principalid)",
        "eventsource",
        "eventname",
    ),
}
"""`--by` value -> the column expressions it groups on (vpc groups by source IP; the inventory maps IPs to VPCs).

`denial` (caller account, principal, action) is the console's Denials-pane backfill: one row per who × what.
"""

_SOURCE = """
SELECT vpcendpointid AS endpoint_id, {keys}
       COUNT(*) AS calls,
       SUM(CASE WHEN errorcode = 'VpceAccessDenied' THEN 1 ELSE 0 END) AS denials,
       MIN(eventtime) AS first_seen,
       MAX(eventtime) AS last_seen
FROM cloudtrail
WHERE eventcategory = 'NetworkActivity' AND "timestamp" >= :since_day AND eventtime >= :since
GROUP BY {positions}
ORDER BY calls DESC, {positions}
"""


@dataclass(frozen=True, slots=True)
class Question:
    """One aggregate over the window: grouped by endpoint plus `by`, optionally only some endpoints or denials."""

    by: str
    since: datetime
    endpoints: tuple[str, ...] = ()
    denied_only: bool = False
    accounts: tuple[str, ...] = ()
    """Endpoint-owner accounts (the `account` partition); empty: every account in the table."""
    regions: tuple[str, ...] = ()
    """Regions (the `region` partition); empty: every region."""

    @property
    def key_count(self) -> int:
        """How many group columns follow `endpoint_id` in each row."""
        return len(GROUPS[self.by])


def build(question: Question) -> exp.Expression:
    """The question as a sqlglot tree in the neutral dialect (the single source of both engines' SQL)."""
    keys = GROUPS[question.by]
    text = _SOURCE.format(
        keys="".join(f"{k} AS g{i}, " for i, k in enumerate(keys)),
        positions=", ".join(str(i + 1) for i in range(len(keys) + 1)),
    )
    since = question.since.strftime("%Y-%m-%dT%H:%M:%SZ")
    tree = exp.replace_placeholders(sqlglot.parse_one(text), since_day=question.since.strftime("%Y/%m/%d"), since=since)
    assert isinstance(tree, exp.Select)
    if question.endpoints:
        tree = tree.where(exp.column("vpcendpointid").isin(*map(exp.Literal.string, question.endpoints)))
    if question.accounts:
        tree = tree.where(exp.column("account").isin(*map(exp.Literal.string, question.accounts)))
    if question.regions:
        tree = tree.where(exp.column("region").isin(*map(exp.Literal.string, question.regions)))
    if question.denied_only:
        tree = tree.where(exp.column("errorcode").eq(exp.Literal.string(DENIED)))
    return tree


def render(question: Question, dialect: str, table: str = TABLE) -> str:
    """SQL for `dialect` (`duckdb` or `athena`), reading `table` (`db.table` for Athena)."""
    tree = build(question)
    if table != TABLE:
        tree = exp.replace_tables(tree, {TABLE: table})
    return tree.sql(dialect=dialect, comments=False)


def every_question(since: datetime, endpoints: Sequence[str] = ("vpce-0123456789abcdef0",)) -> list[Question]:
    """Every question the console asks (the dialect test renders each for both engines)."""
    out = []
    for by in GROUPS:
        for denied in (False, True):
            for eps in ((), tuple(endpoints)):
                out.append(Question(by, since, eps, denied, ("111122223333",), ("us-east-1",)))
    return out


def create_table_ddl(
    *,
    database: str,
    table: str,
    bucket: str,
    prefix: str,
    organization_id: str | None,
    accounts: Sequence[str],
    regions: Sequence[str],
    since_day: str = "2024/01/01",
) -> str:
    """Athena's CloudTrail table with partition projection (account, region, day): a 7-day window reads 7 days."""
    org = f"{organization_id}/" if organization_id else ""
    base = f"s3://{bucket}/{prefix}AWSLogs/{org}"
    return f"""CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` (
  eventversion STRING,
  useridentity STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, invokedby: STRING,
    accesskeyid: STRING, username: STRING,
    sessioncontext: STRUCT<sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING,
      accountid: STRING, username: STRING>>>,
  eventtime STRING, eventsource STRING, eventname STRING, awsregion STRING, sourceipaddress STRING,
  useragent STRING, errorcode STRING, errormessage STRING, requestparameters STRING, responseelements STRING,
  additionaleventdata STRING, requestid STRING, eventid STRING, readonly STRING,
  resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>, eventtype STRING, apiversion STRING,
  recipientaccountid STRING, serviceeventdetails STRING, sharedeventid STRING, vpcendpointid STRING,
  vpcendpointaccountid STRING, eventcategory STRING
)
PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '{base}'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.account.type' = 'enum',
  'projection.account.values' = '{",".join(accounts)}',
  'projection.region.type' = 'enum',
  'projection.region.values' = '{",".join(regions)}',
  'projection.timestamp.type' = 'date',
  'projection.timestamp.format' = 'yyyy/MM/dd',
  'projection.timestamp.range' = '{since_day},NOW',
  'projection.timestamp.interval' = '1',
  'projection.timestamp.interval.unit' = 'DAYS',
  'storage.location.template' = '{base}${{account}}/CloudTrail/${{region}}/${{timestamp}}'
)"""


# --- replay: distinct call shapes -------------------------------------------------------------------------------

SHAPE_COLUMNS = (
    ("identity_type", "useridentity.type"),
    ("arn", "useridentity.arn"),
    ("account", "useridentity.accountid"),
    ("issuer_arn", "useridentity.sessioncontext.sessionissuer.arn"),
    ("event_source", "eventsource"),
    ("event_name", "eventname"),
    ("source_ip", "sourceipaddress"),
    ("region", "awsregion"),
    ("endpoint_account", "vpcendpointaccountid"),
)
"""Everything of a record the partial context is built from: records equal in these are one shape."""

_SHAPES = """
SELECT {columns},
       CASE WHEN errorcode = 'VpceAccessDenied' THEN 1 ELSE 0 END AS denied,
       {period} AS period,
       COUNT(*) AS calls,
       MIN(eventtime) AS first_seen,
       MAX(eventtime) AS last_seen
FROM cloudtrail
WHERE eventcategory = 'NetworkActivity' AND "timestamp" >= :since_day AND eventtime >= :since
  AND vpcendpointid = :endpoint
GROUP BY {positions}
ORDER BY calls DESC
"""


@dataclass(frozen=True, slots=True)
class ShapeQuestion:
    """The distinct call shapes through one endpoint since `since`, split at each policy change (`boundaries`)."""

    endpoint: str
    since: datetime
    boundaries: tuple[datetime, ...] = ()
    """Times the endpoint's policy changed inside the window, oldest first: `period` k counts calls at or after
    the k-th (whole seconds: a call in the second of a write is counted with the new version)."""
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()


def build_shapes(question: ShapeQuestion) -> exp.Expression:
    """The shape question as a sqlglot tree (one source for DuckDB and Athena)."""
    period = "0"
    if question.boundaries:
        whens = " ".join(
            f"WHEN eventtime >= '{b.strftime('%Y-%m-%dT%H:%M:%SZ')}' THEN {i + 1}"
            for i, b in reversed(list(enumerate(question.boundaries)))
        )
        period = f"CASE {whens} ELSE 0 END"
    n = len(SHAPE_COLUMNS) + 2
    text = _SHAPES.format(
        columns=", ".join(f"{expr} AS {name}" for name, expr in SHAPE_COLUMNS),
        period=period,
        positions=", ".join(str(i + 1) for i in range(n)),
    )
    tree = exp.replace_placeholders(
        sqlglot.parse_one(text),
        since_day=question.since.strftime("%Y/%m/%d"),
        since=question.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        endpoint=question.endpoint,
    )
    assert isinstance(tree, exp.Select)
    if question.accounts:
        tree = tree.where(exp.column("account").isin(*map(exp.Literal.string, question.accounts)))
    if question.regions:
        tree = tree.where(exp.column("region").isin(*map(exp.Literal.string, question.regions)))
    return tree


def render_shapes(question: ShapeQuestion, dialect: str, table: str = TABLE) -> str:
    """The shape question's SQL for `dialect` (`duckdb` or `athena`)."""
    tree = build_shapes(question)
    if table != TABLE:
        tree = exp.replace_tables(tree, {TABLE: table})
    return tree.sql(dialect=dialect, comments=False)
