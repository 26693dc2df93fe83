"""Words every layer shares, defined once: the default endpoint policy, credential kinds, severities, progress.

`policy/` is the package every layer may import (tests/unit/test_layers.py), so the shared vocabulary lives here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from vpce_console.policy.findings import SEVERITY_RANK, Severity

DEFAULT_POLICY_TEXT = '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
"""The full-access policy AWS attaches when none is given (facts §3: no Version element), as the API returns it."""

DEFAULT_POLICY: Mapping[str, Any] = json.loads(DEFAULT_POLICY_TEXT)
"""The same document parsed (compare statements with it, never mutate it)."""

DEFAULT_POLICY_DRAFT = json.dumps({"Version": "2012-10-17", **DEFAULT_POLICY}, indent=2)
"""The same access as the editor offers it to start a draft: indented, with the Version a new document carries."""

CREDENTIAL_KINDS = (
    "ec2-instance",
    "lambda",
    "ecs-task",
    "eks-irsa",
    "eks-pod-identity",
    "iam-user",
    "assumed-role",
    "aws-service",
)
"""Credential kinds a persona (or a probe) can have; they decide which identity-origin keys exist (facts §1b)."""

ROLE_KINDS = frozenset(CREDENTIAL_KINDS) - {"iam-user", "aws-service"}
"""Kinds that call with temporary role-session credentials (principal = assumed-role session ARN)."""

SEVERITIES: tuple[str, ...] = tuple(str(s) for s in sorted(Severity, key=SEVERITY_RANK.__getitem__))
"""Severity names, worst first (`error`, `warning`, `info`): the order every list and count shows them in."""

SEVERITY_ORDER: Mapping[str, int] = {str(severity): rank for severity, rank in SEVERITY_RANK.items()}
"""Display order by severity name: errors first (`SEVERITY_RANK` keyed by plain strings)."""

Progress = Callable[[str], None]
"""A progress line from a long service call: what it is doing now (`reading account 3/40`)."""

FractionProgress = Callable[[str, float], None]
"""Progress with a fraction, for the console's loading bar: what is loading and how far (0..1)."""
