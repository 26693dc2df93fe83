"""AWS event-stream framing (application/vnd.amazon.eventstream), for StartLiveTail, which moto ends after one batch."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack("B", len(raw_name)) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value


def frame(event_type: str, payload: Any, *, message_type: str = "event") -> bytes:
    """One message: prelude (lengths + CRC), string headers, JSON payload, message CRC."""
    kind = ":event-type" if message_type == "event" else ":exception-type"
    headers = (
        _header(":message-type", message_type)
        + _header(kind, event_type)
        + _header(":content-type", "application/json")
    )
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + body
    return message + struct.pack(">I", zlib.crc32(message) & 0xFFFFFFFF)
