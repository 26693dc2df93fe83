"""Where vpce-console keeps its own files, so the journal, drafts, exports and crash logs agree on one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_STATE_HOME/vpce-console`, falling back to `~/.local/state/vpce-console` (XDG base directory spec)."""
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path(env.get("HOME") or Path.home()) / ".local/state"
    return root / "vpce-console"


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parents with mode 0700 (and tighten `path` itself if it exists).

    Journal, drafts, exports and crash logs name accounts, ARNs and policies: only their owner may list them,
    whatever the umask (`mkdir(mode=…)` is filtered by the umask and never applies to the parents).
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process made it first; it is tightened below when it is ours
        os.chmod(folder, 0o700)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def private_file(path: Path, *, append: bool = False) -> int:
    """An fd for writing `path` with mode 0600 (truncating unless `append`), whatever the umask."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return fd
