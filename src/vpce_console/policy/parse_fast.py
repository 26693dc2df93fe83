"""The fast path for well-formed JSON: one regex scan that aligns `json.loads`' values with their offsets.

Anything unusual raises, and the careful parser in `parse` takes over and explains the error.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from vpce_console.policy.parsed import (
    MAX_DEPTH,
    Duplicate,
    Member,
    Node,
    ParsedPolicy,
    format_path,
)


class _Pairs(list[tuple[str, Any]]):
    """An object's members as json's object_pairs_hook hands them over (order and duplicates kept)."""


class Misaligned(Exception):
    """The token scan and the decoded tree disagree (or nest too deep); use the careful parser instead."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_TOKEN = re.compile(r'[ \t\n\r,:\]}]*("[^"\\]*(?:\\.[^"\\]*)*"|[{\[]|-?[0-9][0-9.eE+-]*|true|false|null)')
"""Every key or value start, in document order, for JSON that is already known to be valid."""


def fast_parse(text: str, starts: list[int]) -> ParsedPolicy:
    """Decode with the C json module, then attach positions from one regex pass over the same text.

    In valid JSON the starts of keys and values (strings, numbers, literals, `{`, `[`) appear in the text in
    exactly the pre-order of the tree, so walking the decoded tree while consuming that list gives every node
    its offset. Raises ValueError for invalid JSON and Misaligned if anything does not line up.
    """
    body = 1 if text.startswith("\ufeff") else 0
    data = json.loads(text[body:] if body else text, object_pairs_hook=_Pairs, parse_constant=_reject_constant)
    # stop before the trailing run of closers/white space: a long run with no token after it would make the
    # scan retry the run at every position (quadratic)
    end = len(text.rstrip(" \t\n\r}],:"))
    offsets = [m.start(1) for m in _TOKEN.finditer(text, body, end)]
    index = 0
    bisect_right = bisect.bisect_right
    duplicates: list[Duplicate] = []
    path: list[str | int] = []
    new = tuple.__new__  # skips NamedTuple's Python-level __new__; the fields are passed in order

    def build(value: Any, depth: int) -> Node:
        nonlocal index
        offset = offsets[index]
        index += 1
        row = bisect_right(starts, offset) - 1
        line, column = row + 1, offset - starts[row] + 1
        kind = type(value)
        if kind is str:
            return new(Node, ("string", value, offset, line, column))
        if kind is _Pairs:
            if depth >= MAX_DEPTH:
                raise Misaligned
            members: list[Member] = []
            seen: dict[str, int] = {}
            for key, child in value:
                key_offset = offsets[index]
                index += 1
                krow = bisect_right(starts, key_offset) - 1
                key_line = krow + 1
                path.append(key)
                node = build(child, depth + 1)
                if key in seen:
                    duplicates.append(
                        Duplicate(key, format_path(path), key_line, key_offset - starts[krow] + 1, seen[key])
                    )
                else:
                    seen[key] = key_line
                path.pop()
                members.append(new(Member, (key, node, key_offset, key_line, key_offset - starts[krow] + 1)))
            return new(Node, ("object", tuple(members), offset, line, column))
        if kind is list:
            if depth >= MAX_DEPTH:
                raise Misaligned
            items: list[Node] = []
            for position, child in enumerate(value):
                path.append(position)
                items.append(build(child, depth + 1))
                path.pop()
            return new(Node, ("array", tuple(items), offset, line, column))
        if kind is bool:
            return new(Node, ("bool", value, offset, line, column))
        if value is None:
            return new(Node, ("null", None, offset, line, column))
        return new(Node, ("number", value, offset, line, column))

    try:
        root = build(data, 0)
    except IndexError:
        raise Misaligned from None
    if index != len(offsets):
        raise Misaligned
    return ParsedPolicy(text, root, tuple(duplicates), None, tuple(starts))
