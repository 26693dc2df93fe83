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
