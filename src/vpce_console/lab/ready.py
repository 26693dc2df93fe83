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
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read lab ready-file {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"lab ready-file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"lab ready-file {path} is not a JSON object")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise UsageError(f"lab ready-file {path} lacks {', '.join(missing)}")
    return data
