"""Reading the user's input files, so every command reports an unreadable file the same way (one line, exit 2).

Every reader is capped (see `vpce_console.safeload`): a policy at 1 MB, personas at 1 MB, request files at 16 MB,
so `vpce lint /dev/zero` answers at once instead of reading forever.
"""

from __future__ import annotations

from vpce_console.safeload import MAX_POLICY_BYTES, read_text_capped


def read_text(path: str, *, limit: int = MAX_POLICY_BYTES, what: str = "policy") -> str:
    """The file's exact text (`-` is stdin; no newline translation), UTF-8 only, a leading BOM dropped."""
    return read_text_capped(path, limit=limit, what=what)
