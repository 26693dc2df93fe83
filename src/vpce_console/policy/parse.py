"""A JSON parser that keeps the line and column of every key and value, so findings point at the exact spot.

`json.loads` has no positions and silently keeps the last of two duplicate keys, so policies are parsed here:
a small recursive-descent parser that uses the C-accelerated `json.decoder.scanstring` for string bodies
(the bulk of a policy) and regular expressions for whitespace and numbers. Invalid JSON never raises; it
becomes a `json-syntax` finding with the line and column of the error.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from json import JSONDecodeError
from json import decoder as _decoder
from typing import Any, Literal, NamedTuple, cast

from vpce_console.policy.findings import Finding, Severity

NodeKind = Literal["object", "array", "string", "number", "bool", "null"]

MAX_DEPTH = 256
"""Deeper nesting is reported as a syntax error instead of exhausting the interpreter stack."""

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_scanstring = cast(Callable[[str, int, bool], tuple[str, int]], _decoder.scanstring)  # type: ignore[attr-defined]


class Node(NamedTuple):
    """One JSON value with its position; objects and arrays hold their children in document order.

    A NamedTuple rather than a frozen dataclass: a policy has a thousand or more nodes and a tuple is built
    three times faster, which is a fifth of the lint budget (immutability and field docs are the same).
    """

    kind: NodeKind
    """JSON type of the value."""
    value: Any
    """str/int/float/bool/None for scalars, `tuple[Member, ...]` for objects, `tuple[Node, ...]` for arrays."""
    offset: int
    """0-based character offset of the value's first character."""
    line: int
    """1-based line of the value's first character."""
    column: int
    """1-based column (in characters) of the value's first character."""

    @property
    def members(self) -> tuple[Member, ...]:
        """The members of an object node (empty for other kinds)."""
        return cast(tuple[Member, ...], self.value) if self.kind == "object" else ()

    @property
    def items(self) -> tuple[Node, ...]:
        """The items of an array node (empty for other kinds)."""
        return cast(tuple[Node, ...], self.value) if self.kind == "array" else ()

    def get(self, key: str) -> Member | None:
        """The member named exactly `key` (the last one, as JSON parsers keep), or None."""
        found = None
        for member in self.members:
            if member.key == key:
                found = member
        return found

    def to_python(self) -> Any:
        """Plain Python data, like `json.loads` would return (duplicate keys: last wins)."""
        if self.kind == "object":
            return {m.key: m.value.to_python() for m in self.members}
        if self.kind == "array":
            return [item.to_python() for item in self.items]
        return self.value


class Member(NamedTuple):
    """One `"key": value` pair of an object, with the position of the key itself (a NamedTuple, like Node)."""

    key: str
    """The decoded key text."""
    value: Node
    """The member's value."""
    offset: int
    """0-based offset of the key's opening quote."""
    line: int
    """1-based line of the key."""
    column: int
    """1-based column of the key."""


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A key that occurs more than once in one object; AWS and json.loads silently keep only the last."""

    key: str
    """The repeated key."""
    path: str
    """JSON path of the repeated member."""
    line: int
    """Line of the later occurrence."""
    column: int
    """Column of the later occurrence."""
    first_line: int
    """Line of the first occurrence, so the message can point at both."""


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """Why the text is not valid JSON, and where."""

    message: str
    """Plain-words description of the error."""
    offset: int
    """0-based offset of the error."""
    line: int
    """1-based line of the error."""
    column: int
    """1-based column of the error."""


@dataclass(frozen=True, slots=True)
class ParsedPolicy:
    """The result of parsing: the tree (None if invalid), duplicate keys, and the syntax error if any."""

    text: str
    """The text that was parsed."""
    root: Node | None
    """The document's root value; None when the text is not valid JSON."""
    duplicates: tuple[Duplicate, ...] = ()
    """Keys repeated inside one object."""
    error: SyntaxProblem | None = None
    """The first syntax error; parsing stops there."""
    line_starts: tuple[int, ...] = field(default=(0,), repr=False)
    """Offsets where each line starts, to turn any offset into a line and column."""

    @property
    def ok(self) -> bool:
        """True when the text is valid JSON."""
        return self.error is None

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        return _position(self.line_starts, offset)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """`json-syntax` and `duplicate-key` findings for this text."""
        from vpce_console.data.knowledge import default_catalog

        catalog = default_catalog()
        out: list[Finding] = []
        if self.error is not None:
            out.append(
                Finding(
                    code="json-syntax",
                    severity=Severity(catalog.severity("json-syntax")),
                    line=self.error.line,
                    column=self.error.column,
                    path="",
                    message=f"The policy is not valid JSON: {self.error.message}. AWS rejects the whole document.",
                    hint="Fix the JSON at this position (common causes: a trailing comma, a missing comma or quote, "
                    "single quotes, comments).",
                )
            )
        for dup in self.duplicates:
            out.append(
                Finding(
                    code="duplicate-key",
                    severity=Severity(catalog.severity("duplicate-key")),
                    line=dup.line,
                    column=dup.column,
                    path=dup.path,
                    message=f'"{dup.key}" appears again here (first on line {dup.first_line}); JSON parsers keep '
                    "only the last one, so the earlier value is silently ignored.",
                    hint=f'Merge the two "{dup.key}" entries into one (for conditions: list all values under one key).',
                )
            )
        return tuple(out)


def format_path(segments: list[str | int] | tuple[str | int, ...]) -> str:
    """`['Statement', 0, 'Condition']` -> `Statement[0].Condition`."""
    out: list[str] = []
    for seg in segments:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        elif out:
            out.append("." + seg)
        else:
            out.append(seg)
    return "".join(out)


def _position(line_starts: tuple[int, ...] | list[int], offset: int) -> tuple[int, int]:
    index = bisect.bisect_right(line_starts, offset) - 1
    return index + 1, offset - line_starts[index] + 1


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


def line_starts_of(text: str) -> list[int]:
    """Offsets at which each line of `text` starts (only `\\n` ends a line, as in JSON error positions)."""
    starts = list(accumulate(map((1).__add__, map(len, text.split("\n"))), initial=0))
    starts.pop()
    return starts


class _Pairs(list[tuple[str, Any]]):
    """An object's members as json's object_pairs_hook hands them over (order and duplicates kept)."""


class _Misaligned(Exception):
    """The token scan and the decoded tree disagree (or nest too deep); use the careful parser instead."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_TOKEN = re.compile(r'[ \t\n\r,:\]}]*("[^"\\]*(?:\\.[^"\\]*)*"|[{\[]|-?[0-9][0-9.eE+-]*|true|false|null)')
"""Every key or value start, in document order, for JSON that is already known to be valid."""


def _fast_parse(text: str, starts: list[int]) -> ParsedPolicy:
    """Decode with the C json module, then attach positions from one regex pass over the same text.

    In valid JSON the starts of keys and values (strings, numbers, literals, `{`, `[`) appear in the text in
    exactly the pre-order of the tree, so walking the decoded tree while consuming that list gives every node
    its offset. Raises ValueError for invalid JSON and _Misaligned if anything does not line up.
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
                raise _Misaligned
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
                raise _Misaligned
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
        raise _Misaligned from None
    if index != len(offsets):
        raise _Misaligned
    return ParsedPolicy(text, root, tuple(duplicates), None, tuple(starts))


def parse_policy(text: str) -> ParsedPolicy:
    """Parse `text` as JSON with positions; never raises (a syntax error is recorded on the result)."""
    starts = line_starts_of(text)
    try:
        return _fast_parse(text, starts)
    except (ValueError, RecursionError, _Misaligned):
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
        line, col = _position(starts, exc.offset)
        problem = SyntaxProblem(exc.message, exc.offset, line, col)
        return ParsedPolicy(text, None, tuple(parser.duplicates), problem, tuple(starts))
    return ParsedPolicy(text, root, tuple(parser.duplicates), None, tuple(starts))


def walk(node: Node, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Node]]:
    """Every node under `node` with its path segments, depth first in document order."""
    yield path, node
    if node.kind == "object":
        for member in node.value:
            yield from walk(member.value, (*path, member.key))
    elif node.kind == "array":
        for index, item in enumerate(node.value):
            yield from walk(item, (*path, index))
