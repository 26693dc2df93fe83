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
    # the lab's ready-file as the console reads it: pure types over policy/, shared by connect, services and lab
    "readyfile.py": (
        "textual",
        "vpce_console.aws",
        "vpce_console.services",
        "vpce_console.tui",
        "vpce_console.lab",
        "vpce_console.commands",
        "vpce_console.cli",
    ),
    "aws": ("textual", "vpce_console.services", "vpce_console.tui", "vpce_console.lab", "moto"),
    # reading the files `vpce lint` checks: the policy parser and the file system, nothing that talks to AWS
    "lintinputs": (
        "textual",
        "vpce_console.aws",
        "vpce_console.services",
        "vpce_console.tui",
        "vpce_console.lab",
        "vpce_console.cli",
        "vpce_console.commands",
    ),
    # commands are wiring: they open the console through tui.app, never its screens or Textual itself
    "commands": ("textual", "vpce_console.cli", "vpce_console.tui.screens", "vpce_console.tui.widgets"),
}
ALLOWED_SDK_PACKAGES = {"aws", "lab"}

# tui module (path under tui/) -> our modules it must never import, lazily or under TYPE_CHECKING included:
# only the app (the composition root) knows the app; screens post messages up and get a ScreenContext down.
TUI_FORBIDDEN: dict[str, tuple[str, ...]] = {
    "screens": ("vpce_console.tui.app",),
    "widgets": ("vpce_console.tui.app", "vpce_console.tui.screens"),
    "": ("vpce_console.tui.app", "vpce_console.tui.screens"),
}
"""Keys are the first folder under tui/ ('' for tui/*.py itself, except app.py)."""


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _forbidden(parts: tuple[str, ...]) -> tuple[str, ...]:
    """What the module at `parts` (its path under src/vpce_console) must never import."""
    package = parts[0] if len(parts) > 1 else parts[0] if parts[0] in FORBIDDEN else ""
    forbidden = FORBIDDEN.get(package, ())
    if package not in ALLOWED_SDK_PACKAGES:
        forbidden = (*forbidden, *SDK)
    if package == "tui" and parts != ("tui", "app.py"):
        forbidden = (*forbidden, *TUI_FORBIDDEN.get(parts[1] if len(parts) > 2 else "", ()))
    return forbidden


def _violations() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        forbidden = _forbidden(path.relative_to(SRC).parts)
        if _relative_imports(path):
            found.append(f"{path.relative_to(SRC)} uses a relative import (the walker reads absolute ones)")
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


def test_layers_point_one_way() -> None:
    assert _violations() == []


def _relative_imports(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level > 0)


def test_every_package_has_rules() -> None:
    """Every package (and connect.py) under src/ is named in FORBIDDEN: a new one cannot slip past the walker."""
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    unruled = packages - set(FORBIDDEN)
    assert unruled == set(), f"add a FORBIDDEN entry for {sorted(unruled)}"
    assert {"tui", "commands", "lab", "connect.py"} <= set(FORBIDDEN)


def test_screens_and_widgets_never_import_the_app() -> None:
    """Only tui/app.py knows the app: screens, widgets and the tui's shared modules may not import it, even lazily
    inside a function or under TYPE_CHECKING (the walker reads every import in the file)."""
    assert "vpce_console.tui.app" in _forbidden(("tui", "screens", "rollout.py"))
    assert "vpce_console.tui.app" in _forbidden(("tui", "widgets", "header.py"))
    assert "vpce_console.tui.screens" in _forbidden(("tui", "widgets", "header.py"))
    assert "vpce_console.tui.app" in _forbidden(("tui", "context.py"))
    assert "vpce_console.tui.screens" not in _forbidden(("tui", "app.py"))
    offenders = [v for v in _violations() if v.startswith(("tui/screens/", "tui/widgets/")) and "tui.app" in v]
    assert offenders == []


def test_walker_sees_a_lazy_import_of_the_app(tmp_path: Path) -> None:
    """An import inside a function or a TYPE_CHECKING block is an edge too (the old screens hid theirs there)."""
    bad = tmp_path / "screen.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from vpce_console.tui.app import VpceApp\n"
        "def open_it():\n    import vpce_console.tui.app\n"
    )
    names = _imports(bad)
    assert names.count("vpce_console.tui.app") == 2
    forbidden = _forbidden(("tui", "screens", "screen.py"))
    assert [n for n in names if n in forbidden] == ["vpce_console.tui.app", "vpce_console.tui.app"]


def test_walker_sees_a_violation(tmp_path: Path) -> None:
    """The walker itself must be able to fail: a planted SDK import is found."""
    bad = tmp_path / "x.py"
    bad.write_text("import boto3\nfrom textual.app import App\n")
    assert _imports(bad) == ["boto3", "textual.app"]


def _module_imports(path: Path, modules: set[str], *, lazy: bool = False) -> set[str]:
    """Our modules `path` imports when it is loaded (TYPE_CHECKING blocks never run); with `lazy`, also those
    imported inside functions (they run later, but a circle through them is still a circle)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if lazy:
                    visit([n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)])
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


def test_no_circle_through_imports_inside_functions() -> None:
    """No circle either when imports inside functions count (the app and its screens hid theirs that way: the
    app imported the screens in its methods, the screens imported the app in theirs). TYPE_CHECKING-only
    imports are left out: they never run."""
    paths = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: _module_imports(path, set(paths), lazy=True) for name, path in paths.items()}
    assert _cycles(graph) == []


def test_lazy_imports_are_edges(tmp_path: Path) -> None:
    """The lazy walk must be able to fail: an import inside a function (in a loop) is seen, a TYPE_CHECKING one not."""
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import b\n"
        "def f():\n    for _ in ():\n        import a\n"
    )
    assert _module_imports(module, {"a", "b"}) == set()
    assert _module_imports(module, {"a", "b"}, lazy=True) == {"a"}
