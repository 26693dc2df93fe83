"""Reading the user's input files, so every command reports an unreadable file the same way (one line, exit 2)."""

from __future__ import annotations

import sys
from pathlib import Path

from vpce_console.errors import UsageError


def read_text(path: str) -> str:
    """The file's exact text (`-` is stdin; no newline translation, so a policy keeps its bytes), UTF-8 only."""
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
