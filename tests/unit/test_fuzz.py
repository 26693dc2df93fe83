"""Fuzz: 10,000 random and mutated documents (fixed seed) through `lint` and `evaluate`; nothing may raise.

`compile_policy` may raise only the documented PolicyError. The generator is benchmarks/fuzz.py (also the
long `make fuzz` run). If `vpce_console.policy.linter` is missing, the lint half is skipped (importorskip) and
the evaluator is fuzzed on its own.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

DOCUMENTS = 10_000
SEED = 20261128


def load_fuzz_module() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz.py"
    spec = importlib.util.spec_from_file_location("vpce_fuzz", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_clean(stats: dict[str, Any]) -> None:
    samples = json.dumps(stats.get("failure_samples", []), indent=1)[:4000]
    assert stats["failures"] == 0, samples
    assert stats["documents"] == DOCUMENTS
    # The generator must reach the evaluator often enough to mean something.
    assert stats["compiled"] > DOCUMENTS // 10
    assert stats["evaluations"] == 3 * stats["compiled"]


def _lint_available() -> bool:
    return importlib.util.find_spec("vpce_console.policy.linter") is not None


def test_fuzz_lint_and_evaluate() -> None:
    lint_module = pytest.importorskip(
        "vpce_console.policy.linter", reason="lint module not built yet: lint half skipped"
    )
    stats = load_fuzz_module().run(DOCUMENTS, SEED, lint_module.lint)
    assert_clean(stats)
    assert stats["linted"] == DOCUMENTS


@pytest.mark.skipif(_lint_available(), reason="covered by test_fuzz_lint_and_evaluate")
def test_fuzz_evaluate_only() -> None:
    stats = load_fuzz_module().run(DOCUMENTS, SEED, None)
    assert_clean(stats)


def test_generator_is_deterministic() -> None:
    import random

    fuzz = load_fuzz_module()
    first = [fuzz.generate(random.Random(5)) for _ in range(3)]
    second = [fuzz.generate(random.Random(5)) for _ in range(3)]
    assert first == second


INPUT_ITERATIONS = 250
"""Per reader (config, personas, request file, CloudTrail file): 1,000 hostile files in a few seconds."""


def test_fuzz_input_readers() -> None:
    """Configs, personas, request files and CloudTrail files: only the documented one-line errors, never a crash."""
    stats = load_fuzz_module().run_inputs(INPUT_ITERATIONS, SEED)
    samples = json.dumps(stats.get("failure_samples", []), indent=1)[:4000]
    assert stats["failures"] == 0, samples
    for kind in ("configs", "personas", "requests", "trails"):
        assert stats[kind] == INPUT_ITERATIONS
    # the generators must also produce inputs the readers accept, or the fuzz would only test refusals
    assert stats["refused"]["trails"] < INPUT_ITERATIONS // 2
    assert stats["refused"]["configs"] < INPUT_ITERATIONS
    assert stats["accepted"]["personas"] > INPUT_ITERATIONS // 10
