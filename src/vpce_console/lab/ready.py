"""The ready-file: how clients find a running lab (endpoint URL, accounts, keys, personas, seeded faults)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from vpce_console.errors import UsageError

REQUIRED = ("endpoint_url", "region", "hub", "operator", "read_role_name", "accounts", "spokes", "personas")


def write_ready_file(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Write atomically (temp file + rename) so a reader never sees half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lab-ready-", dir=str(target.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_ready_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load and check a ready-file; UsageError (one line) when it is missing or not a lab's."""
    from vpce_console.safeload import MB, read_text_capped

    try:
        text = read_text_capped(str(path), limit=64 * MB, what="lab ready-file")  # an org-scale lab is a few MB
    except UsageError as exc:
        raise UsageError(f"lab ready-file {exc}") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"lab ready-file {path} is not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"lab ready-file {path} is not a JSON object")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise UsageError(f"lab ready-file {path} lacks {', '.join(missing)}")
    return data
