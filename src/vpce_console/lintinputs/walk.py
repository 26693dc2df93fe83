"""Expand `vpce lint PATH…` into files: directories recursively, hidden and vendored folders skipped."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

EXTENSIONS = (".json", ".yaml", ".yml", ".template")
"""File names a directory walk looks at (`.tf.json` ends in `.json`)."""

VENDORED = frozenset(
    {"node_modules", "vendor", "site-packages", "__pycache__", "venv", "cdk.out", "bower_components", "third_party"}
)
"""Folders of other people's code; hidden folders (`.git`, `.terraform`, `.venv`) are skipped too."""


def _excluded(path: Path, root: Path, patterns: tuple[str, ...]) -> bool:
    if not patterns:
        return False
    rel = path.relative_to(root).as_posix() if path != root else path.name
    full = path.as_posix()
    return any(
        fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(path.name, pat) or fnmatch.fnmatch(full, pat) for pat in patterns
    )


def expand_paths(args: list[str], exclude: tuple[str, ...] = ()) -> list[tuple[str, bool]]:
    """(path, found_in_a_directory) for each file to lint, in argument order, directories sorted within.

    Files named on the command line are always read; files found by walking a directory are only linted when
    their content is a policy or holds policies (the caller decides), so a repository's other JSON is skipped.
    """
    out: list[tuple[str, bool]] = []
    for arg in args:
        root = Path(arg)
        if arg == "-" or not root.is_dir():
            if arg == "-" or not _excluded(root, root, exclude):
                out.append((arg, False))
            continue
        for folder, dirs, files in os.walk(root):
            here = Path(folder)
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(".") and d not in VENDORED and not _excluded(here / d, root, exclude)
            )
            for name in sorted(files):
                path = here / name
                if name.startswith(".") or not name.lower().endswith(EXTENSIONS) or _excluded(path, root, exclude):
                    continue
                out.append((str(path), True))
    return out
