"""Pure policy engine: parse with positions, lint, evaluate, personas, impact, diff. No I/O, no SDK, no Textual.

The public names are re-exported lazily so that each submodule can be imported (and tested) on its own.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "parse_policy": "parse",
    "lint": "linter",
    "lint_report": "linter",
    "LintReport": "linter",
    "EndpointContext": "endpoint_context",
    "Finding": "findings",
    "Severity": "findings",
    "compile_policy": "evaluator",
    "evaluate": "evaluator",
    "CompiledPolicy": "evaluator",
    "Request": "evaluator",
    "Decision": "evaluator",
    "MatchedStatement": "evaluator",
    "PolicyError": "evaluator",
    "CREDENTIAL_KINDS": "personas",
    "principal_arn": "personas",
    "ImpactResult": "impact_matrix",
    "ImpactCell": "impact_matrix",
    "Persona": "personas",
    "HubEndpoint": "personas",
    "request_context": "personas",
    "persona_request": "personas",
    "load_personas": "persona_file",
    "impact": "impact_matrix",
    "policy_diff": "diff",
    "compile_partial": "partial",
    "evaluate_partial": "partial",
    "PartialRequest": "partial",
    "PartialDecision": "partial",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the submodule that owns `name` on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
