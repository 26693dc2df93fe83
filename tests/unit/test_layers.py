"""The layers point one way (STYLE.md rule 1); a test walks every import to keep it so."""

from __future__ import annotations

import ast
from pathlib import Path

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
    "tui": (*SDK, "vpce_console.aws", "vpce_console.lab", "vpce_console.commands", "vpce_console.cli"),
    "data": ("textual", *SDK, "vpce_console.aws", "vpce_console.services", "vpce_console.tui", "vpce_console.lab"),
    # the lab is another process, reached only over HTTP: it shares only pure code with the console
    "lab": ("textual", "vpce_console.aws", "vpce_console.services", "vpce_console.tui", "vpce_console.commands"),
    # connect.py knows AWS from a lab and nothing about what runs on top
    "connect.py": ("textual", "vpce_console.services", "vpce_console.tui", "vpce_console.commands"),
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
        parts = path.relative_to(SRC).parts
        package = parts[0] if len(parts) > 1 else parts[0] if parts[0] in FORBIDDEN else ""
        forbidden = FORBIDDEN.get(package, ())
        if package not in ALLOWED_SDK_PACKAGES:
            forbidden = (*forbidden, *SDK)
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


def test_layers_point_one_way() -> None:
    assert _violations() == []


def test_walker_sees_a_violation(tmp_path: Path) -> None:
    """The walker itself must be able to fail: a planted SDK import is found."""
    bad = tmp_path / "x.py"
    bad.write_text("import boto3\nfrom textual.app import App\n")
    assert _imports(bad) == ["boto3", "textual.app"]
