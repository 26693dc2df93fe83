"""The position-keeping JSON parser: values equal json.loads, every node knows its line/column, errors are findings."""

from __future__ import annotations

import json
import random

import pytest

from vpce_console.policy.parse import Node, format_path, parse_policy, walk

SAMPLE = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": "*",
      "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
      "Resource": "*",
      "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}, "NumericLessThan": {"x": -1.5e3}}
    }
  ]
}"""


def _position_of(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def test_values_equal_json_loads() -> None:
    parsed = parse_policy(SAMPLE)
    assert parsed.ok and parsed.root is not None
    assert parsed.root.to_python() == json.loads(SAMPLE)


def test_every_key_and_value_has_its_position() -> None:
    parsed = parse_policy(SAMPLE)
    assert parsed.root is not None
    statement = parsed.root.get("Statement")
    assert statement is not None
    assert (statement.line, statement.column) == _position_of(SAMPLE, '"Statement"')
    first = statement.value.items[0]
    action = first.get("Action")
    assert action is not None
    assert (action.value.line, action.value.column) == _position_of(SAMPLE, '["sqs:SendMessage"')
    second = action.value.items[1]
    assert second.value == "sqs:ReceiveMessage"
    assert (second.line, second.column) == _position_of(SAMPLE, '"sqs:ReceiveMessage"')
    condition = first.get("Condition")
    assert condition is not None
    key = condition.value.get("StringEquals")
    assert key is not None
    org = key.value.get("aws:PrincipalOrgID")
    assert org is not None
    assert (org.line, org.column) == _position_of(SAMPLE, '"aws:PrincipalOrgID"')
    assert (org.value.line, org.value.column) == _position_of(SAMPLE, '"o-a1b2c3d4e5"')
    number = condition.value.get("NumericLessThan")
    assert number is not None and number.value.get("x") is not None
    assert number.value.get("x").value.value == -1500.0  # type: ignore[union-attr]


def test_walk_paths_are_json_paths() -> None:
    parsed = parse_policy(SAMPLE)
    assert parsed.root is not None
    paths = {format_path(path) for path, _ in walk(parsed.root)}
    assert "Statement[0].Condition.StringEquals.aws:PrincipalOrgID" in paths
    assert "Statement[0].Action[1]" in paths


def test_columns_count_characters_not_bytes() -> None:
    text = '{"Sid": "ünïcödé", "Effect": "Allow"}'
    parsed = parse_policy(text)
    assert parsed.root is not None
    effect = parsed.root.get("Effect")
    assert effect is not None
    assert (effect.line, effect.column) == (1, text.index('"Effect"') + 1)


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    text = '{\n  "Statement": {\n    "Effect": "Allow",\n    "Effect": "Deny"\n  }\n}'
    parsed = parse_policy(text)
    assert parsed.ok
    assert len(parsed.duplicates) == 1
    dup = parsed.duplicates[0]
    assert (dup.key, dup.path, dup.line, dup.column, dup.first_line) == ("Effect", "Statement.Effect", 4, 5, 3)
    codes = [f.code for f in parsed.findings]
    assert codes == ["duplicate-key"]
    assert parsed.root is not None and parsed.root.to_python() == json.loads(text)  # last wins, like AWS


def test_no_duplicates_in_sibling_objects() -> None:
    parsed = parse_policy('[{"a": 1}, {"a": 2}]')
    assert parsed.duplicates == ()


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('{\n  "a": 1,\n}', 3, 1, "trailing comma"),
        ('{\n  "a": [1, 2,]\n}', 2, 14, "trailing comma"),
        ('{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ','"),
        ("{'a': 1}", 1, 2, "double quotes"),
        ('{"a": "unterminated}', 1, 7, "unterminated"),
        ('{"a": tru}', 1, 7, "unexpected character"),
        ("", 1, 1, "empty"),
        ("   \n  ", 2, 3, "empty"),
        ('{"a": 1} x', 1, 10, "after the end"),
        ('{"a": 1', 1, 8, "ends inside an object"),
        ('{"a" 1}', 1, 6, "expected ':'"),
        ('{"a": "line\nbreak"}', 1, 12, "control character"),
        ('{"a": 01}', 1, 8, "expected ','"),
        ('// comment\n{"a": 1}', 1, 1, "comments"),
    ],
)
def test_invalid_json_is_a_finding_with_position(text: str, line: int, column: int, words: str) -> None:
    parsed = parse_policy(text)
    assert not parsed.ok and parsed.root is None and parsed.error is not None
    assert (parsed.error.line, parsed.error.column) == (line, column)
    assert words in parsed.error.message
    findings = parsed.findings
    assert [f.code for f in findings] == ["json-syntax"]
    assert (findings[0].line, findings[0].column) == (line, column)
    assert str(findings[0].severity) == "error"


def test_error_offset_agrees_with_json_module() -> None:
    text = '{"Statement": [{"Effect": "Allow"} {"Effect": "Deny"}]}'
    with pytest.raises(json.JSONDecodeError) as exc:
        json.loads(text)
    parsed = parse_policy(text)
    assert parsed.error is not None
    assert (parsed.error.line, parsed.error.column) == (exc.value.lineno, exc.value.colno)


def test_deep_nesting_is_a_syntax_finding_not_a_crash() -> None:
    parsed = parse_policy("[" * 5000 + "]" * 5000)
    assert not parsed.ok and parsed.error is not None and "nesting" in parsed.error.message


def test_documents_beyond_20480_characters() -> None:
    statements = [
        {"Sid": f"S{i}", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": f"arn:x:{i}"}
        for i in range(400)
    ]
    text = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)
    assert len(text) > 40_000
    parsed = parse_policy(text)
    assert parsed.ok and parsed.root is not None
    assert parsed.root.to_python() == json.loads(text)
    last = parsed.root.get("Statement").value.items[-1].get("Resource")  # type: ignore[union-attr]
    assert last is not None and last.value.value == "arn:x:399"
    assert (last.value.line, last.value.column) == _position_of(text, '"arn:x:399"')


def test_bom_and_crlf() -> None:
    text = '\ufeff{\r\n  "Effect": "Allow"\r\n}'
    parsed = parse_policy(text)
    assert parsed.ok and parsed.root is not None
    effect = parsed.root.get("Effect")
    assert effect is not None and (effect.line, effect.column) == (2, 3)


def test_random_garbage_never_raises() -> None:
    rng = random.Random(20261128)
    alphabet = '{}[]:,"\\ \n\tabc01-.eE+truefalsnul'
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        parsed = parse_policy(text)
        try:
            expected = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            assert not parsed.ok
        else:
            assert parsed.ok and isinstance(parsed.root, Node)
            assert parsed.root.to_python() == expected


def test_long_white_space_runs_parse_like_json_loads() -> None:
    """Long runs (padding, a huge indent) must not make the position scan retry them at every offset."""
    pad = " " * 30_000
    for text in (
        '{"a": [1, 2]}' + pad,
        "{" + pad + '"a":' + pad + "[1," + pad + "2" + pad + "]" + pad + "}" + pad,
        '{"a": {}}' + "\n" * 30_000,
    ):
        parsed = parse_policy(text)
        assert parsed.ok and parsed.root is not None
        assert parsed.root.to_python() == json.loads(text)
        second = parsed.root.get("a")
        assert second is not None and text[second.value.offset] in "[{"


def test_fast_and_careful_parsers_agree() -> None:
    """The C-backed fast path and the recursive-descent parser give identical trees and duplicates."""
    from vpce_console.policy.parse import careful_parse

    rng = random.Random(7)

    def value(depth: int) -> str:
        roll = rng.random()
        if depth > 3 or roll < 0.4:
            return rng.choice(['"s"', '"a\\"b"', "1", "-2.5e3", "true", "false", "null", '"${aws:x}"', '"é"'])
        if roll < 0.7:
            return "[" + ", ".join(value(depth + 1) for _ in range(rng.randint(0, 3))) + "]"
        keys = [rng.choice(["a", "b", "Effect", "c"]) for _ in range(rng.randint(0, 4))]
        sep = rng.choice([" ", "\n  ", ""])
        return "{" + ("," + sep).join(f'"{k}":{sep}{value(depth + 1)}' for k in keys) + "}"

    for _ in range(300):
        text = value(0)
        fast, careful = parse_policy(text), careful_parse(text)
        assert fast.ok and careful.ok
        assert fast.root == careful.root
        assert fast.duplicates == careful.duplicates
