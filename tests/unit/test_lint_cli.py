"""`vpce lint` as scripts and CI see it: formats, exit codes, stdin, unreadable input."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from vpce_console.cli import main

POLICIES = Path(__file__).parent / "policies"
BAD = str(POLICIES / "bad_hub_scoped_key.json")
WARN = str(POLICIES / "bad_default_full_access.json")
CLEAN = str(POLICIES / "clean_data_perimeter.json")

# The parts of the SARIF 2.1.0 schema (https://json.schemastore.org/sarif-2.1.0.json, OASIS
# sarif-schema-2.1.0.json) that our output uses, with their `required`, `enum` and `minimum` constraints kept.
SARIF_SUBSET: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"enum": ["2.1.0"]},
        "runs": {"type": ["array", "null"], "items": {"$ref": "#/definitions/run"}},
    },
    "definitions": {
        "message": {
            "type": "object",
            "properties": {"text": {"type": "string"}, "id": {"type": "string"}},
            "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
        },
        "multiformatMessageString": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string"}, "markdown": {"type": "string"}},
        },
        "reportingConfiguration": {
            "type": "object",
            "properties": {"level": {"enum": ["none", "note", "warning", "error"]}},
        },
        "reportingDescriptor": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "shortDescription": {"$ref": "#/definitions/multiformatMessageString"},
                "fullDescription": {"$ref": "#/definitions/multiformatMessageString"},
                "helpUri": {"type": "string", "format": "uri"},
                "defaultConfiguration": {"$ref": "#/definitions/reportingConfiguration"},
            },
        },
        "toolComponent": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "informationUri": {"type": "string", "format": "uri"},
                "rules": {"type": "array", "uniqueItems": True, "items": {"$ref": "#/definitions/reportingDescriptor"}},
            },
        },
        "tool": {
            "type": "object",
            "required": ["driver"],
            "properties": {"driver": {"$ref": "#/definitions/toolComponent"}},
        },
        "artifactLocation": {
            "type": "object",
            "properties": {"uri": {"type": "string", "format": "uri-reference"}},
        },
        "region": {
            "type": "object",
            "properties": {
                "startLine": {"type": "integer", "minimum": 1},
                "startColumn": {"type": "integer", "minimum": 1},
            },
        },
        "physicalLocation": {
            "type": "object",
            "properties": {
                "artifactLocation": {"$ref": "#/definitions/artifactLocation"},
                "region": {"$ref": "#/definitions/region"},
            },
            "anyOf": [{"required": ["address"]}, {"required": ["artifactLocation"]}],
        },
        "logicalLocation": {"type": "object", "properties": {"fullyQualifiedName": {"type": "string"}}},
        "location": {
            "type": "object",
            "properties": {
                "physicalLocation": {"$ref": "#/definitions/physicalLocation"},
                "logicalLocations": {"type": "array", "items": {"$ref": "#/definitions/logicalLocation"}},
            },
        },
        "result": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "ruleId": {"type": "string"},
                "ruleIndex": {"type": "integer", "minimum": -1},
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": {"$ref": "#/definitions/message"},
                "locations": {"type": "array", "items": {"$ref": "#/definitions/location"}},
            },
        },
        "run": {
            "type": "object",
            "required": ["tool"],
            "properties": {
                "tool": {"$ref": "#/definitions/tool"},
                "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                "results": {"type": ["array", "null"], "items": {"$ref": "#/definitions/result"}},
            },
        },
    },
}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["lint", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_format_and_exit_1_on_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, BAD, CLEAN)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"{BAD}: linted as an sqs endpoint policy (assumed: every action is an sqs action)"
    assert lines[1].startswith(f"{BAD}:13:11: error hub-scoped-key aws:SourceVpc ")
    assert lines[2].startswith("    hint: ")
    assert out.splitlines()[-1] == "2 files checked: 1 error, 0 warnings, 0 info"


def test_warnings_only_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, WARN)
    assert code == 0
    assert "warning default-full-access" in out


def test_clean_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, CLEAN)
    assert code == 0
    assert out == "1 file checked: 0 errors, 0 warnings, 0 info\n"


def test_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--format", "json", BAD, CLEAN)
    assert code == 1
    doc = json.loads(out)
    assert [f["path"] for f in doc["files"]] == [BAD, CLEAN]
    finding = doc["files"][0]["findings"][0]
    assert set(finding) == {"code", "severity", "line", "column", "path", "message", "hint"}
    assert (finding["code"], finding["severity"], finding["line"], finding["column"]) == (
        "hub-scoped-key",
        "error",
        13,
        11,
    )
    assert finding["path"] == "Statement[0].Condition.StringEquals.aws:SourceVpc"
    assert doc["files"][1]["findings"] == []


def test_sarif_validates_against_the_schema_subset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--format", "sarif", BAD, WARN, str(POLICIES / "bad_unconfirmed_notprincipal.json"))
    assert code == 1
    log = json.loads(out)
    jsonschema.validate(log, SARIF_SUBSET)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert {r["level"] for r in results} == {"error", "warning", "note"}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    hub = next(r for r in results if r["ruleId"] == "hub-scoped-key")
    location = hub["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("tests/unit/policies/bad_hub_scoped_key.json")
    assert location["region"] == {"startLine": 13, "startColumn": 11}


def test_sarif_schema_subset_can_fail() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}, SARIF_SUBSET)


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"Statement": [}'))
    code, out, _ = _run(capsys, "-")
    assert code == 1
    assert out.startswith("<stdin>:1:16: error json-syntax ")


def test_service_option(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(POLICIES / "bad_action_other_service.json")
    assert "action-other-service" not in _run(capsys, path)[1]
    assert "action-other-service" in _run(capsys, "--service", "sqs", path)[1]


def test_policy_type_option(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(POLICIES / "bad_missing_principal.json")
    assert _run(capsys, path)[0] == 1
    assert _run(capsys, "--policy-type", "identity", path)[0] == 0


def test_unreadable_file_is_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    code, out, err = _run(capsys, CLEAN, str(missing))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and str(missing) in err and "no such file" in err


def test_binary_file_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blob = tmp_path / "policy.bin"
    blob.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = _run(capsys, str(blob))
    assert code == 2 and "not UTF-8" in err and str(blob) in err


def test_lint_path_imports_no_sdk_or_textual() -> None:
    """`vpce lint` in CI must not pay for textual/boto imports: the lint path pulls in neither."""
    import subprocess
    import sys

    code = (
        "import sys; from vpce_console.commands import lint as c; from vpce_console.policy.linter import lint; "
        "lint(open(sys.argv[1]).read()); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'boto3', 'botocore', 'aiobotocore', 'aiohttp', 'moto')); print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(POLICIES / "clean_orgpaths.json")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"


def test_cli_choices_match_the_engine() -> None:
    from vpce_console.commands.lint import POLICY_TYPE_CHOICES
    from vpce_console.policy.linter import POLICY_TYPES

    assert POLICY_TYPE_CHOICES == POLICY_TYPES


def test_sarif_uri_is_a_relative_reference_with_spaces_quoted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "my policy.json"
    policy.write_text((POLICIES / "bad_hub_scoped_key.json").read_text())
    _, out, _ = _run(capsys, "--format", "sarif", str(policy))
    uri = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("/my%20policy.json") and " " not in uri
