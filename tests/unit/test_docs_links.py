"""The README and docs/ link to each other by relative paths and anchors: a moved section must not leave dead links."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            text = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower())
            out.add(text.replace(" ", "-"))
    return out


def _documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_every_relative_link_and_anchor_resolves() -> None:
    dead = []
    for doc in _documents():
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            resolved = (doc.parent / path).resolve() if path else doc
            if not resolved.exists():
                dead.append(f"{doc.relative_to(ROOT)}: {target}")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                dead.append(f"{doc.relative_to(ROOT)}: {target} (no such heading)")
    assert not dead, dead


def test_readme_stays_a_first_page_and_every_command_has_its_page() -> None:
    """README is what a user needs first; each `vpce` command is documented in docs/cli/ and linked from it."""
    from vpce_console.cli import COMMANDS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme) < 12_000
    assert readme.index("make demo") < 1_000 and "make test" in readme
    documented = " ".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "cli").glob("*.md"))
    for name in set(COMMANDS) - {"console", "lab"}:
        assert f"# `vpce {name}`" in documented or f"`vpce {name}`" in documented, name
