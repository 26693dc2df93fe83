"""A JSON TextArea with highlighting from a small lexer, so we need no tree-sitter grammar at run time."""

from __future__ import annotations

import re

from textual.widgets import TextArea

_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)'
    r'|(?P<string>"(?:[^"\\]|\\.)*"?)'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<boolean>\btrue\b|\bfalse\b)"
    r"|(?P<null>\bnull\b)"
)
_NAMES = {"key": "json.label", "string": "string", "number": "number", "boolean": "boolean", "null": "json.null"}
"""Lexer groups -> TextArea theme highlight names (the theme decides the colour)."""


def json_highlights(line: str) -> list[tuple[int, int, str]]:
    """(start byte, end byte, highlight name) for one line; strings never span lines in a policy."""
    out: list[tuple[int, int, str]] = []
    for match in _TOKEN.finditer(line):
        group = match.lastgroup or ""
        start = len(line[: match.start()].encode("utf-8"))
        end = start + len(match.group().encode("utf-8"))
        out.append((start, end, _NAMES[group]))
    return out


class PolicyTextArea(TextArea):
    """TextArea that colours JSON keys, strings, numbers and literals line by line."""

    def _build_highlight_map(self) -> None:
        """Re-lex the document (policies are at most 20,480 characters, so this is cheap)."""
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        for index, line in enumerate(self.text.split("\n")):
            spans = json_highlights(line)
            if spans:
                highlights[index].extend(spans)
