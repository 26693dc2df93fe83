"""A JSON parser that keeps the line and column of every key and value, so findings point at the exact spot.

`json.loads` has no positions and silently keeps the last of two duplicate keys, so policies are parsed here:
a small recursive-descent parser that uses the C-accelerated `json.decoder.scanstring` for string bodies
(the bulk of a policy) and regular expressions for whitespace and numbers. Invalid JSON never raises; it
becomes a `json-syntax` finding with the line and column of the error.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from json import JSONDecodeError
from json import decoder as _decoder
from typing import cast

from vpce_console.policy.parse_fast import Misaligned, fast_parse
from vpce_console.policy.parsed import (
    MAX_DEPTH,
    Duplicate,
    Member,
    Node,
    NodeKind,
    ParsedPolicy,
    SyntaxProblem,
    format_path,
    line_starts_of,
    position,
    walk,
)

__all__ = [
    "Duplicate",
    "Member",
    "Node",
    "NodeKind",
    "ParsedPolicy",
    "SyntaxProblem",
    "careful_parse",
    "format_path",
    "line_starts_of",
    "parse_policy",
    "walk",
]
"""The parsed types live in `parsed`, the fast path in `parse_fast`; callers import them from here."""


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")


_scanstring = cast(Callable[[str, int, bool], tuple[str, int]], _decoder.scanstring)  # type: ignore[attr-defined]


class _Error(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class _Parser:
    """Recursive descent over the text; positions are turned into line/column with one bisect per node."""

    __slots__ = ("duplicates", "line_starts", "path", "text")

    def __init__(self, text: str, line_starts: list[int]) -> None:
        self.text = text
        self.line_starts = line_starts
        self.path: list[str | int] = []
        self.duplicates: list[Duplicate] = []

    def pos(self, offset: int) -> tuple[int, int]:
        line_starts = self.line_starts
        index = bisect.bisect_right(line_starts, offset) - 1
        return index + 1, offset - line_starts[index] + 1

    def skip(self, i: int) -> int:
        return _WS.match(self.text, i).end()  # type: ignore[union-attr]

    def value(self, i: int, depth: int) -> tuple[Node, int]:
        text = self.text
        if i >= len(text):
            raise _Error("the document ends where a value was expected", i)
        ch = text[i]
        line, col = self.pos(i)
        if ch == '"':
            s, end = self.string(i)
            return Node("string", s, i, line, col), end
        if ch == "{":
            if depth >= MAX_DEPTH:
                raise _Error(f"nesting deeper than {MAX_DEPTH} levels", i)
            return self.obj(i, line, col, depth + 1)
        if ch == "[":
            if depth >= MAX_DEPTH:
                raise _Error(f"nesting deeper than {MAX_DEPTH} levels", i)
            return self.array(i, line, col, depth + 1)
        if ch == "t" and text.startswith("true", i):
            return Node("bool", True, i, line, col), i + 4
        if ch == "f" and text.startswith("false", i):
            return Node("bool", False, i, line, col), i + 5
        if ch == "n" and text.startswith("null", i):
            return Node("null", None, i, line, col), i + 4
        m = _NUMBER.match(text, i)
        if m is not None:
            frac, exp = m.group(1), m.group(2)
            raw = m.group()
            try:
                number: int | float = float(raw) if frac or exp else int(raw)
            except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits, 4,300)
                raise _Error(f"a number with {len(raw):,} digits is too long to read", i) from None
            return Node("number", number, i, line, col), m.end()
        if ch == "'":
            raise _Error("strings must use double quotes, not single quotes", i)
        if ch in "}]":
            raise _Error(f"expected a value before '{ch}' (trailing comma?)", i)
        if ch == "/":
            raise _Error("comments are not allowed in JSON", i)
        raise _Error(f"unexpected character {ch!r} where a value was expected", i)

    def string(self, i: int) -> tuple[str, int]:
        try:
            return _scanstring(self.text, i + 1, True)
        except JSONDecodeError as exc:
            message = exc.msg
            if message.startswith("Unterminated string"):
                message = "unterminated string (missing closing quote)"
            elif message.startswith("Invalid control character"):
                message = "a raw line break or control character inside a string (use \\n)"
            else:
                message = message[0].lower() + message[1:]
            raise _Error(message, exc.pos) from None

    def obj(self, start: int, line: int, col: int, depth: int) -> tuple[Node, int]:
        text = self.text
        members: list[Member] = []
        seen: dict[str, int] = {}
        i = self.skip(start + 1)
        if i < len(text) and text[i] == "}":
            return Node("object", (), start, line, col), i + 1
        path = self.path
        while True:
            if i >= len(text):
                raise _Error("the document ends inside an object (missing '}')", i)
            if text[i] != '"':
                if text[i] == "}":
                    raise _Error("trailing comma before '}'", i)
                if text[i] == "'":
                    raise _Error("object keys must use double quotes, not single quotes", i)
                raise _Error(f"expected a double-quoted key, found {text[i]!r}", i)
            key_offset = i
            key, i = self.string(i)
            key_line, key_col = self.pos(key_offset)
            i = self.skip(i)
            if i >= len(text) or text[i] != ":":
                raise _Error(f"expected ':' after the key \"{key}\"", i)
            i = self.skip(i + 1)
            path.append(key)
            node, i = self.value(i, depth)
            if key in seen:
                self.duplicates.append(Duplicate(key, format_path(path), key_line, key_col, seen[key]))
            else:
                seen[key] = key_line
            path.pop()
            members.append(Member(key, node, key_offset, key_line, key_col))
            i = self.skip(i)
            if i < len(text) and text[i] == ",":
                i = self.skip(i + 1)
                continue
            if i < len(text) and text[i] == "}":
                return Node("object", tuple(members), start, line, col), i + 1
            if i >= len(text):
                raise _Error("the document ends inside an object (missing '}')", i)
            raise _Error(f"expected ',' or '}}' after the value of \"{key}\", found {text[i]!r}", i)

    def array(self, start: int, line: int, col: int, depth: int) -> tuple[Node, int]:
        text = self.text
        items: list[Node] = []
        i = self.skip(start + 1)
        if i < len(text) and text[i] == "]":
            return Node("array", (), start, line, col), i + 1
        path = self.path
        index = 0
        while True:
            path.append(index)
            node, i = self.value(i, depth)
            path.pop()
            items.append(node)
            index += 1
            i = self.skip(i)
            if i < len(text) and text[i] == ",":
                i = self.skip(i + 1)
                if i < len(text) and text[i] == "]":
                    raise _Error("trailing comma before ']'", i)
                continue
            if i < len(text) and text[i] == "]":
                return Node("array", tuple(items), start, line, col), i + 1
            if i >= len(text):
                raise _Error("the document ends inside a list (missing ']')", i)
            raise _Error(f"expected ',' or ']' in a list, found {text[i]!r}", i)


def parse_policy(text: str) -> ParsedPolicy:
    """Parse `text` as JSON with positions; never raises (a syntax error is recorded on the result)."""
    starts = line_starts_of(text)
    try:
        return fast_parse(text, starts)
    except (ValueError, RecursionError, Misaligned):
        pass  # invalid (or unusual) JSON: the careful parser finds the exact error and explains it
    return careful_parse(text, starts)


def careful_parse(text: str, starts: list[int] | None = None) -> ParsedPolicy:
    """The recursive-descent parser: slower, but it explains syntax errors in plain words."""
    if starts is None:
        starts = line_starts_of(text)
    parser = _Parser(text, starts)
    try:
        i = parser.skip(1 if text.startswith("\ufeff") else 0)
        if i >= len(text):
            raise _Error("the document is empty", i)
        root, i = parser.value(i, 0)
        i = parser.skip(i)
        if i < len(text):
            raise _Error(f"unexpected text after the end of the document: {text[i]!r}", i)
    except _Error as exc:
        line, col = position(starts, exc.offset)
        problem = SyntaxProblem(exc.message, exc.offset, line, col)
        return ParsedPolicy(text, None, tuple(parser.duplicates), problem, tuple(starts))
    return ParsedPolicy(text, root, tuple(parser.duplicates), None, tuple(starts))
