"""The `/` filter language: free words match any column, `key=value` (or `key:value`) matches one column.

Pure, so the panes share one behaviour and it is unit-tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RowFilter:
    """A parsed filter: every term must match (AND), case-insensitively, as a substring."""

    words: tuple[str, ...] = ()
    """Free words matched against every column."""
    fields: tuple[tuple[str, str], ...] = ()
    """(column, value) pairs matched against that column only."""

    @property
    def empty(self) -> bool:
        """True when the filter lets every row through."""
        return not self.words and not self.fields

    def matches(self, row: Mapping[str, str]) -> bool:
        """True when the row satisfies every term."""
        lowered = {key.lower(): value.lower() for key, value in row.items()}
        haystack = " ".join(lowered.values())
        if any(word not in haystack for word in self.words):
            return False
        for key, value in self.fields:
            column = lowered.get(key)
            if column is None:
                # An unknown column falls back to a free-word match so `svc=sqs` still finds something useful.
                if value not in haystack:
                    return False
            elif value not in column:
                return False
        return True


ALIASES = {"svc": "service", "acct": "account", "env": "environment", "ep": "endpoint", "vpc": "vpc"}
"""Short column names people type."""


def parse_filter(text: str) -> RowFilter:
    """Split filter text into free words and `key=value` terms."""
    words: list[str] = []
    fields: list[tuple[str, str]] = []
    for token in text.lower().split():
        for sep in ("=", ":"):
            key, found, value = token.partition(sep)
            if found and key and value:
                fields.append((ALIASES.get(key, key), value))
                break
        else:
            words.append(token)
    return RowFilter(tuple(words), tuple(fields))
