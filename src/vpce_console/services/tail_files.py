"""CloudTrail records from files: JSONL, a JSON array or S3 objects of the trail, gzipped or not, each bounded."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from vpce_console.errors import UsageError


def _open_text(path: Path) -> IO[str]:
    raw = path.open("rb")
    magic = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8")
    return io.TextIOWrapper(raw, encoding="utf-8")


def _records_of(document: Any, where: str) -> Iterator[dict[str, Any]]:
    if isinstance(document, Mapping) and isinstance(document.get("Records"), list):
        document = document["Records"]
    if isinstance(document, Mapping):
        yield dict(document)
        return
    if not isinstance(document, list):
        raise UsageError(f'{where}: expected CloudTrail records (JSONL, a JSON array or {{"Records": [...]}})')
    for item in document:
        if isinstance(item, Mapping):
            yield dict(item)


MAX_RECORD_CHARS = 16 * 1024 * 1024
"""One JSONL line or one whole JSON document (a CloudTrail S3 object is a few MB): beyond this it is not CloudTrail."""


def _line(fh: IO[str], path: Path, lineno: int) -> str:
    line = fh.readline(MAX_RECORD_CHARS + 1)
    if len(line) > MAX_RECORD_CHARS:
        raise UsageError(f"{path}:{lineno}: a line longer than {MAX_RECORD_CHARS // (1024 * 1024)} MB: not CloudTrail")
    return line


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise UsageError(f"{where}: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}") from None
    except ValueError as exc:  # a number over 4,300 digits
        raise UsageError(f"{where}: unreadable JSON value ({str(exc).split(':')[0]})") from None


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield CloudTrail records from a file, streaming JSONL line by line (large files never load at once)."""
    path = Path(path)
    try:
        fh = _open_text(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        try:
            first, lineno = "", 0
            while True:
                first = _line(fh, path, lineno + 1)
                lineno += 1
                if not first or first.strip():
                    break
            stripped = first.strip()
            if not stripped:
                return
            try:
                head = json.loads(stripped)
            except (ValueError, RecursionError):
                head = None
            if isinstance(head, Mapping) and not isinstance(head.get("Records"), list):
                yield dict(head)  # JSONL: one record per line
                while True:
                    lineno += 1
                    line = _line(fh, path, lineno)
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        item = json.loads(line)
                    except (ValueError, RecursionError):
                        raise UsageError(f"{path}:{lineno}: not a JSON record") from None
                    if isinstance(item, Mapping):
                        yield dict(item)
            if head is None:
                rest = fh.read(MAX_RECORD_CHARS + 1 - len(first))
                if len(first) + len(rest) > MAX_RECORD_CHARS:
                    raise UsageError(f"{path}: a JSON document over {MAX_RECORD_CHARS // (1024 * 1024)} MB")
                document = _json(first + rest, str(path))
            else:
                document = head
        except (UnicodeDecodeError, EOFError, OSError, gzip.BadGzipFile, zlib.error) as exc:
            raise UsageError(
                f"cannot read {path}: {str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}"
            ) from None
        yield from _records_of(document, str(path))
