"""The layers point one way (STYLE.md rule 1); a test walks every import to keep it so."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "vpce_console"
SDK = ("boto3", "botocore", "aiobotocore", "aiohttp", "moto")

# package -> import prefixes it must never use
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "policy": (
        "textual",
        *SDK,
        "vpce_console.aws",
        "vpce_console.services",
        "vpce_console.tui",
        "vpce_console.lab",
        "vpce_console.cli",
        "vpce_console.commands",
    ),
    "services": (
        "textual",
        *SDK,
        "vpce_console.tui",
        "vpce_console.lab",
        "vpce_console.cli",
        "vpce_console.commands",
    ),
    "tui": (*SDK, "vpce_console.aws", "vpce_console.lab"),
    "aws": ("textual", "vpce_console.services", "vpce_console.tui", "vpce_console.lab", "moto"),
}
ALLOWED_SDK_PACKAGES = {"aws", "lab"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _violations() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        package = path.relative_to(SRC).parts[0] if len(path.relative_to(SRC).parts) > 1 else ""
        forbidden = FORBIDDEN.get(package, ())
        if package not in ALLOWED_SDK_PACKAGES:
            forbidden = (*forbidden, *SDK)
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


def test_layers_point_one_way() -> None:
    assert _violations() == []


@pytest.mark.parametrize("module", ["textual", "boto3", "botocore", "aiobotocore"])
def test_policy_package_is_pure(module: str) -> None:
    for path in (SRC / "policy").rglob("*.py"):
        assert not any(n == module or n.startswith(module + ".") for n in _imports(path)), path


def test_walker_sees_a_violation(tmp_path: Path) -> None:
    """The walker itself must be able to fail: a planted SDK import is found."""
    bad = tmp_path / "x.py"
    bad.write_text("import boto3\nfrom textual.app import App\n")
    assert _imports(bad) == ["boto3", "textual.app"]
