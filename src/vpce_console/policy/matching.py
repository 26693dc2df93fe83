"""Wildcards and policy variables, compiled once so the evaluator's hot path is a dict lookup or one regex call.

Rules encoded here (docs/aws-facts.md §2): E10 (`*` many characters, `?` one, case-sensitive unless a caller
says otherwise), E11 (ARN components matched one by one), E14 (`${…}` variables only with Version 2012-10-17,
defaults `${key, 'default'}`, the literals `${*}` `${?}` `${$}`), E15 (a variable whose key is missing makes
the value "effectively null": it matches nothing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

Context = Mapping[str, tuple[str, ...]]
"""A request context after normalisation: lower-case key -> its values (never empty)."""

VARIABLES_VERSION = "2012-10-17"
"""The only policy language version in which `${…}` is a variable rather than literal text (E14)."""

_VAR_BODY = re.compile(r"^\s*([^\s,'{}$]+)\s*(?:,\s*'([^']*)'\s*)?$")
_SPECIAL_LITERALS = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True, slots=True)
class Variable:
    """One `${key}` or `${key, 'default'}` reference inside a policy string."""

    key: str
    """The context key, lower-cased because key names are case-insensitive (E9)."""
    default: str | None = None
    """The value used when the key is missing (E14); None means the reference is then null (E15)."""


@dataclass(frozen=True, slots=True)
class Escaped:
    """`${*}`, `${?}` or `${$}`: a character that stays literal even inside a wildcard pattern (E14)."""

    char: str


Part = str | Variable | Escaped
"""A piece of a template: plain policy text (which may hold wildcards), a variable or an escaped character."""


@dataclass(frozen=True, slots=True)
class Template:
    """A policy string split into text, variables and escapes; without variables it is just `text`."""

    parts: tuple[Part, ...]
    text: str
    """The original string, used as is when the template has no variables."""
    has_variables: bool


def parse_template(text: str, *, variables: bool) -> Template:
    """Split `text` at `${…}` references; with `variables=False` (no 2012-10-17 Version) it stays literal (E14)."""
    if not variables or "${" not in text:
        return Template((text,), text, False)
    parts: list[Part] = []
    pos = 0
    buf: list[str] = []
    while pos < len(text):
        start = text.find("${", pos)
        if start < 0:
            buf.append(text[pos:])
            break
        end = text.find("}", start + 2)
        if end < 0:
            buf.append(text[pos:])
            break
        buf.append(text[pos:start])
        body = text[start + 2 : end]
        part: Part | None = None
        if body in _SPECIAL_LITERALS:
            part = Escaped(_SPECIAL_LITERALS[body])
        else:
            match = _VAR_BODY.match(body)
            if match:
                part = Variable(match.group(1).lower(), match.group(2))
        if part is None:
            # Not a well-formed reference: keep it as text rather than guess what was meant.
            buf.append(text[start : end + 1])
        else:
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(part)
        pos = end + 1
    if buf:
        parts.append("".join(buf))
    has_vars = any(not isinstance(p, str) for p in parts)
    return Template(tuple(parts), text, has_vars)


def variable_value(var: Variable, ctx: Context) -> str | None:
    """The value a variable stands for, its default, or None when it is effectively null (E15).

    Multivalued keys cannot be policy variables (E7): a key with several values counts as missing.
    """
    values = ctx.get(var.key)
    if values is not None and len(values) == 1:
        return values[0]
    return var.default


def render_literal(template: Template, ctx: Context) -> str | None:
    """The template with variables substituted, or None when one of them has no value (E15)."""
    if not template.has_variables:
        return template.text
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Escaped):
            out.append(part.char)
        else:
            value = variable_value(part, ctx)
            if value is None:
                return None
            out.append(value)
    return "".join(out)


Token = tuple[str, bool]
"""One character of a rendered pattern and whether it may act as a wildcard (False for variable values, `${*}`)."""


def _tokens_source(tokens: list[Token]) -> str:
    """Regex source for wildcard tokens that cannot backtrack catastrophically.

    Runs of `*` split the pattern into fixed-length segments (`?` is one character). Each middle segment is
    found at its leftmost position inside an atomic group — for fixed-length segments the leftmost choice is
    always safe — so matching is linear-ish instead of exponential in the number of stars.
    """
    segments: list[str] = []
    current: list[str] = []
    for ch, wild in tokens:
        if wild and ch == "*":
            segments.append("".join(current))
            current = []
        elif wild and ch == "?":
            current.append(".")
        else:
            current.append(re.escape(ch))
    segments.append("".join(current))
    if len(segments) == 1:
        return segments[0]
    first, *middle, last = segments
    out = [first]
    out.extend(f"(?>.*?{segment})" for segment in middle if segment)
    out.append(f".*{last}")
    return "".join(out)


def glob_source(text: str) -> str:
    """Regex source for a wildcard pattern: `*` any run, `?` one character, everything else literal (E10)."""
    return _tokens_source([(ch, True) for ch in text])


def template_tokens(template: Template, ctx: Context) -> list[Token] | None:
    """Render a template to wildcard tokens: policy text keeps its wildcards, variable values are literal."""
    tokens: list[Token] = []
    for part in template.parts:
        if isinstance(part, str):
            tokens.extend((ch, True) for ch in part)
        elif isinstance(part, Escaped):
            tokens.append((part.char, False))
        else:
            value = variable_value(part, ctx)
            if value is None:
                return None
            tokens.extend((ch, False) for ch in value)
    return tokens


def render_glob_source(template: Template, ctx: Context) -> str | None:
    """Regex source for a template rendered against `ctx`, or None when a variable has no value (E15)."""
    if not template.has_variables:
        return glob_source(template.text)
    tokens = template_tokens(template, ctx)
    return None if tokens is None else _tokens_source(tokens)


def template_pattern(template: Template, ctx: Context) -> re.Pattern[str] | None:
    """The compiled full-match regex of a template rendered against `ctx`, or None when a variable is null (E15).

    Cached on the template and its variables' values: requests repeat the same few values, so the pattern
    source is not rebuilt (and re-hashed) for every request.
    """
    values = tuple(variable_value(part, ctx) for part in template.parts if isinstance(part, Variable))
    if None in values:
        return None
    return _template_pattern(template, values)


@lru_cache(maxsize=8192)
def _template_pattern(template: Template, values: tuple[str | None, ...]) -> re.Pattern[str] | None:
    tokens: list[Token] = []
    it = iter(values)
    for part in template.parts:
        if isinstance(part, str):
            tokens.extend((ch, True) for ch in part)
        elif isinstance(part, Escaped):
            tokens.append((part.char, False))
        else:
            value = next(it)
            if value is None:
                return None
            tokens.extend((ch, False) for ch in value)
    return compile_source(_tokens_source(tokens))


def arn_component_sources(tokens: list[Token]) -> tuple[str, ...] | None:
    """Per-component regex sources for an ARN pattern (E11), or None when it has fewer than six components."""
    components: list[list[Token]] = [[]]
    for token in tokens:
        if token[0] == ":" and len(components) < 6:
            components.append([])
        else:
            components[-1].append(token)
    if len(components) != 6:
        return None
    return tuple(_tokens_source(component) for component in components)


@lru_cache(maxsize=8192)
def compile_source(source: str, ignore_case: bool = False) -> re.Pattern[str]:
    """Compile (and cache) a full-match regex; patterns rendered per request hit this cache."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(source, flags)


def combined_glob(patterns: list[str], *, ignore_case: bool = False) -> re.Pattern[str] | None:
    """One alternation regex for many literal wildcard patterns, so a list costs one `fullmatch` call."""
    if not patterns:
        return None
    source = "|".join(f"(?:{glob_source(p)})" for p in dict.fromkeys(patterns))
    return compile_source(source, ignore_case)
