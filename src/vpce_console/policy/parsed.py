"""A policy document parsed with positions: nodes, members, duplicate keys and the syntax problem, if any."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Literal, NamedTuple, cast

from vpce_console.policy.findings import Finding, Severity

NodeKind = Literal["object", "array", "string", "number", "bool", "null"]


MAX_DEPTH = 256
"""Deeper nesting is reported as a syntax error instead of exhausting the interpreter stack."""


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
        return position(self.line_starts, offset)

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


def position(line_starts: tuple[int, ...] | list[int], offset: int) -> tuple[int, int]:
    index = bisect.bisect_right(line_starts, offset) - 1
    return index + 1, offset - line_starts[index] + 1


def line_starts_of(text: str) -> list[int]:
    """Offsets at which each line of `text` starts (only `\\n` ends a line, as in JSON error positions)."""
    starts = list(accumulate(map((1).__add__, map(len, text.split("\n"))), initial=0))
    starts.pop()
    return starts


def walk(node: Node, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Node]]:
    """Every node under `node` with its path segments, depth first in document order."""
    yield path, node
    if node.kind == "object":
        for member in node.value:
            yield from walk(member.value, (*path, member.key))
    elif node.kind == "array":
        for index, item in enumerate(node.value):
            yield from walk(item, (*path, index))
