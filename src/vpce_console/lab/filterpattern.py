"""CloudWatch Logs JSON filter patterns (`{ $.errorCode = "VpceAccessDenied" && $.x > 3 }`), which moto matches wrongly.

Supported: `=` `!=` `<` `<=` `>` `>=` on strings (quoted or bare, `*` wildcards) and numbers, `&&`, `||`, parentheses,
`IS NULL`, `NOT EXISTS`, `EXISTS`, `IS TRUE`, `IS FALSE`, selectors `$.a.b`, `$.a[0].b`, `$.*`-free paths.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*")|
    (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))|
    (?P<sel>\$(?:\.[A-Za-z0-9_\-@:]+|\[\d+\])*)|
    (?P<word>[^\s()=!<>&|"]+)
    )""",
    re.VERBOSE,
)

_MISSING = object()
Matcher = Callable[[Any], bool]


class PatternError(ValueError):
    """The pattern is not valid JSON filter syntax (CloudWatch answers InvalidParameterException)."""


def is_json_pattern(pattern: str | None) -> bool:
    """True when the pattern uses the `{ ... }` JSON form."""
    return bool(pattern) and pattern.strip().startswith("{")  # type: ignore[union-attr]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise PatternError(f"cannot parse filter pattern near {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _select(doc: Any, selector: str) -> Any:
    cur = doc
    for part in re.findall(r"\.([A-Za-z0-9_\-@:]+)|\[(\d+)\]", selector[1:]):
        key, index = part
        if key:
            if not isinstance(cur, dict) or key not in cur:
                return _MISSING
            cur = cur[key]
        else:
            if not isinstance(cur, list) or int(index) >= len(cur):
                return _MISSING
            cur = cur[int(index)]
    return cur


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(selector: str, op: str, raw: str, quoted: bool) -> Matcher:
    number = None if quoted else _number(raw)
    if number is None and op in ("<", "<=", ">", ">="):
        raise PatternError(f"{op} needs a number, got {raw!r}")

    def match(doc: Any) -> bool:
        value = _select(doc, selector)
        if value is _MISSING or value is None or isinstance(value, (dict, list)):
            return False
        if number is not None and op in ("<", "<=", ">", ">=", "=", "!="):
            if isinstance(value, bool):
                return False
            try:
                v = float(value)
            except (TypeError, ValueError):
                return op == "!="
            return {
                "<": v < number,
                "<=": v <= number,
                ">": v > number,
                ">=": v >= number,
                "=": v == number,
                "!=": v != number,
            }[op]
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        hit = fnmatch.fnmatchcase(text, raw) if "*" in raw else text == raw
        return hit if op == "=" else not hit

    return match


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.t = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise PatternError("unexpected end of filter pattern")
        self.i += 1
        return tok

    def expr(self) -> Matcher:
        left = self.conj()
        while (tok := self.peek()) and tok == ("op", "||"):
            self.take()
            right = self.conj()
            left = (lambda a, b: lambda d: a(d) or b(d))(left, right)
        return left

    def conj(self) -> Matcher:
        left = self.term()
        while (tok := self.peek()) and tok == ("op", "&&"):
            self.take()
            right = self.term()
            left = (lambda a, b: lambda d: a(d) and b(d))(left, right)
        return left

    def term(self) -> Matcher:
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            inner = self.expr()
            if self.take() != ("op", ")"):
                raise PatternError("missing )")
            return inner
        if kind != "sel":
            raise PatternError(f"expected a $.selector, got {text!r}")
        selector = text
        kind, text = self.take()
        if kind == "word" and text.upper() in ("IS", "NOT", "EXISTS"):
            return self.unary(selector, text.upper())
        if kind != "op" or text not in ("=", "!=", "<", "<=", ">", ">="):
            raise PatternError(f"expected an operator after {selector}")
        vkind, value = self.take()
        if vkind == "str":
            return _compare(selector, text, json.loads(value), True)
        if vkind == "word":
            return _compare(selector, text, value, False)
        raise PatternError(f"expected a value after {selector} {text}")

    def unary(self, selector: str, first: str) -> Matcher:
        if first == "EXISTS":
            return lambda d: _select(d, selector) is not _MISSING
        if first == "NOT":
            word = self.take()[1].upper()
            if word != "EXISTS":
                raise PatternError("expected NOT EXISTS")
            return lambda d: _select(d, selector) is _MISSING
        word = self.take()[1].upper()
        if word == "NULL":
            return lambda d: _select(d, selector) is None
        if word in ("TRUE", "FALSE"):
            want = word == "TRUE"
            return lambda d: _select(d, selector) is want
        if word == "NOT":
            nxt = self.take()[1].upper()
            if nxt == "NULL":
                return lambda d: _select(d, selector) not in (None, _MISSING)
        raise PatternError("expected IS NULL / IS TRUE / IS FALSE")


def compile_json_pattern(pattern: str) -> Matcher:
    """Compile `{ ... }` into a predicate over a parsed JSON document."""
    body = pattern.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise PatternError("JSON filter patterns are enclosed in { }")
    parser = _Parser(_tokens(body[1:-1]))
    matcher = parser.expr()
    if parser.peek() is not None:
        raise PatternError(f"unexpected {parser.peek()[1]!r} in filter pattern")  # type: ignore[index]
    return matcher


def message_matcher(pattern: str | None) -> Callable[[str], bool]:
    """A predicate over raw log messages: JSON patterns parse the message, others use term matching."""
    if not pattern or not pattern.strip():
        return lambda message: True
    if is_json_pattern(pattern):
        matcher = compile_json_pattern(pattern)

        def match_json(message: str) -> bool:
            try:
                doc = json.loads(message)
            except ValueError:
                return False
            return matcher(doc)

        return match_json
    return _term_matcher(pattern)


def _term_matcher(pattern: str) -> Callable[[str], bool]:
    """Plain term patterns: all terms must appear; `?a ?b` means any; `-x` excludes; quotes keep phrases."""
    terms = re.findall(r'"[^"]*"|\S+', pattern)
    optional = [t[1:].strip('"') for t in terms if t.startswith("?")]
    excluded = [t[1:].strip('"') for t in terms if t.startswith("-") and len(t) > 1]
    required = [t.strip('"') for t in terms if not t.startswith(("?", "-"))]

    def match(message: str) -> bool:
        if any(x in message for x in excluded):
            return False
        if optional and not any(x in message for x in optional):
            return False
        return all(x in message for x in required)

    return match
