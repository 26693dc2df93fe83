"""Words every layer shares, defined once: the default endpoint policy, credential kinds, the order of severities.

`policy/` is the package every layer may import (tests/unit/test_layers.py), so the shared vocabulary lives here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vpce_console.policy.findings import SEVERITY_RANK

DEFAULT_POLICY_TEXT = '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
"""The full-access policy AWS attaches when none is given (facts §3: no Version element), as the API returns it."""

DEFAULT_POLICY: Mapping[str, Any] = json.loads(DEFAULT_POLICY_TEXT)
"""The same document parsed (compare statements with it, never mutate it)."""

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

SEVERITY_ORDER: Mapping[str, int] = {str(severity): rank for severity, rank in SEVERITY_RANK.items()}
"""Display order by severity name: errors first (`SEVERITY_RANK` keyed by plain strings)."""
