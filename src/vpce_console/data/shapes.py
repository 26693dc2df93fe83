"""Value shapes the linter checks condition values against (`lint_shapes.yaml`): what a real value looks like."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from vpce_console.data.knowledge import data_text, yaml_load


@dataclass(frozen=True, slots=True)
class ValueShape:
    """What every real value of a kind of identifier looks like (lint_shapes.yaml `value_shapes`)."""

    name: str
    """Shape name, e.g. `vpce-id`."""
    pattern: re.Pattern[str]
    """Regex that a real value matches as a whole."""
    words: str
    """The shape in words, for messages."""
    source: str
    """URL of the AWS document."""


@dataclass(frozen=True, slots=True)
class PrincipalShapes:
    """What a Principal element may hold (lint_shapes.yaml `principal`)."""

    partitions: frozenset[str]
    """AWS partitions (`aws`, `aws-cn`, …)."""
    arn_resources: dict[str, frozenset[str]]
    """Principal ARN service (`iam`, `sts`) -> resource types it may name."""
    aws_types: frozenset[str]
    """Resource types allowed under `"AWS"`."""
    federated_types: frozenset[str]
    """Resource types allowed under `"Federated"`."""
    unique_id: re.Pattern[str]
    """IAM unique ids (AROA…), which AWS itself writes in place of a deleted principal's ARN."""
    service: re.Pattern[str]
    """A service principal name."""
    canonical_user: re.Pattern[str]
    """An S3 canonical user id."""


@dataclass(frozen=True, slots=True)
class Shapes:
    """All identifier shapes the linter checks values against."""

    values: dict[str, ValueShape]
    """Shape name -> shape."""
    principal: PrincipalShapes
    """Principal element shapes."""


def load_shapes(text: str) -> Shapes:
    """Parse lint_shapes.yaml text; ValueError names the bad entry."""
    raw = yaml_load(text)
    values: dict[str, ValueShape] = {}
    for name, item in (raw.get("value_shapes") or {}).items():
        if not item.get("source") or not item.get("why"):
            raise ValueError(f"value_shapes.{name}: every shape needs `source` and `why`")
        values[str(name)] = ValueShape(str(name), re.compile(item["pattern"]), str(item["words"]), str(item["source"]))
    p = raw["principal"]
    principal = PrincipalShapes(
        partitions=frozenset(p["partitions"]),
        arn_resources={str(k): frozenset(v) for k, v in p["arn_resources"].items()},
        aws_types=frozenset(p["aws_types"]),
        federated_types=frozenset(p["federated_types"]),
        unique_id=re.compile(p["unique_id_pattern"]),
        service=re.compile(p["service_pattern"]),
        canonical_user=re.compile(p["canonical_user_pattern"]),
    )
    return Shapes(values, principal)


@cache
def default_shapes() -> Shapes:
    """The bundled identifier shapes (cached for the process)."""
    return load_shapes(data_text("lint_shapes.yaml"))
