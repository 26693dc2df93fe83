"""Unified diff between the deployed and the draft policy text, for review before a rollout."""

from __future__ import annotations

import difflib
import json


def normalize_policy_text(text: str) -> str:
    """Pretty-print JSON (two-space indent, key order kept) so a minified policy diffs line by line.

    Text that is not valid JSON is returned unchanged: the diff still shows what the editor holds.
    """
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return json.dumps(parsed, indent=2, ensure_ascii=False) + "\n"


def policy_diff(
    before: str,
    after: str,
    *,
    context: int = 3,
    labels: tuple[str, str] = ("deployed", "draft"),
    normalize: bool = False,
) -> str:
    """Unified diff text from `before` to `after`; empty when they are identical.

    By default the texts are compared byte for byte, because the rollout writes exactly the draft text;
    `normalize=True` re-indents both JSON documents first so whitespace-only differences disappear.
    """
    if normalize:
        before, after = normalize_policy_text(before), normalize_policy_text(after)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=labels[0],
        tofile=labels[1],
        n=context,
    )
    out: list[str] = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
