"""Policy diff: byte-exact by default, optional JSON normalisation."""

from __future__ import annotations

from vpce_console.policy.diff import normalize_policy_text, policy_diff

BEFORE = '{\n  "Statement": [\n    {"Effect": "Allow"}\n  ]\n}\n'
AFTER = '{\n  "Statement": [\n    {"Effect": "Deny"}\n  ]\n}\n'


def test_identical_texts_have_empty_diff() -> None:
    assert policy_diff(BEFORE, BEFORE) == ""


def test_unified_diff_with_labels_and_changed_lines() -> None:
    diff = policy_diff(BEFORE, AFTER)
    lines = diff.splitlines()
    assert lines[0] == "--- deployed"
    assert lines[1] == "+++ draft"
    assert '-    {"Effect": "Allow"}' in lines
    assert '+    {"Effect": "Deny"}' in lines


def test_context_lines_are_configurable() -> None:
    long_before = "\n".join(f"line {i}" for i in range(20)) + "\n"
    long_after = long_before.replace("line 10\n", "line ten\n")
    assert " line 7" in policy_diff(long_before, long_after, context=3)
    assert " line 7" not in policy_diff(long_before, long_after, context=1)
    assert " line 9" in policy_diff(long_before, long_after, context=1)


def test_whitespace_only_change_shows_unless_normalized() -> None:
    minified = '{"Statement":[{"Effect":"Allow"}]}'
    pretty = '{\n  "Statement": [\n    {\n      "Effect": "Allow"\n    }\n  ]\n}\n'
    assert policy_diff(minified, pretty) != ""
    assert policy_diff(minified, pretty, normalize=True) == ""


def test_missing_final_newline_is_marked() -> None:
    diff = policy_diff("a\nb", "a\nc")
    assert "\\ No newline at end of file" in diff


def test_normalize_keeps_invalid_json_as_is() -> None:
    assert normalize_policy_text("{not json") == "{not json"
    assert normalize_policy_text('{"b":1,"a":2}') == '{\n  "b": 1,\n  "a": 2\n}\n'
