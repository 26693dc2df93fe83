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


def _module_imports(path: Path, modules: set[str]) -> set[str]:
    """Our modules `path` imports when it is loaded (function bodies and TYPE_CHECKING blocks run later or never)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ClassDef | ast.If | ast.Try | ast.With):
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(node, field, []) or [])
                for handler in getattr(node, "handlers", []) or []:
                    visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found & modules


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            strong(v)
    return found


def test_no_module_imports_itself_back_when_loaded() -> None:
    """No import circle at load time anywhere under src/ (a circle makes import order matter and hides layers)."""
    paths = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: _module_imports(path, set(paths)) for name, path in paths.items()}
    assert _cycles(graph) == []
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]  # the finder can fail
