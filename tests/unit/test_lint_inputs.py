"""`vpce lint` on the files where policies live: directories, CloudFormation, Terraform plans, describe output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from vpce_console.cli import main

HERE = Path(__file__).parent / "lintinputs"
POLICIES = Path(__file__).parent / "policies"
CFN_YAML = str(HERE / "endpoints.cfn.yaml")
CFN_JSON = str(HERE / "endpoints.cfn.json")
PLAN = str(HERE / "plan.tfplan.json")
DESCRIBE = str(HERE / "describe-vpc-endpoints.json")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["lint", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]]]:
    code, out, _ = _run(capsys, "--format", "json", *argv)
    return code, json.loads(out)["files"]


def _line_of(path: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line of `path` containing `needle` (so tests do not hard-code positions)."""
    hits = [i for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1) if needle in line]
    return hits[nth - 1]


def _finding(entry: dict[str, Any], code: str) -> dict[str, Any]:
    hits = [f for f in entry["findings"] if f["code"] == code]
    assert len(hits) == 1, [f["code"] for f in entry["findings"]]
    return hits[0]


def test_cloudformation_yaml_with_intrinsics(capsys: pytest.CaptureFixture[str]) -> None:
    code, files = _json(capsys, CFN_YAML)
    assert code == 1
    assert [(f["path"], f["resource"], f["service"]) for f in files] == [
        (CFN_YAML, "S3GatewayEndpoint", "s3"),  # !Sub com.amazonaws.${AWS::Region}.s3: the service part is literal
        (CFN_YAML, "SqsEndpoint", "sqs"),
    ]
    s3, sqs = files
    assert s3["service_reason"] == "from ServiceName of S3GatewayEndpoint"
    shape = _finding(s3, "value-shape-mismatch")
    assert shape["line"] == _line_of(CFN_YAML, "aws:SourceVpce: vpc-0a1b2c3d4e5f67890")
    assert shape["column"] == 17 and shape["path"] == "Statement[0].Condition.StringEquals.aws:SourceVpce"
    # the !If branch is linted: s3:ListAllMyBuckets only takes Resource "*"
    star = _finding(s3, "action-resource-mismatch")
    assert star["line"] == _line_of(CFN_YAML, "Action: s3:ListAllMyBuckets")
    # !Ref OrgId and !Sub …${ArtifactsBucket}… are placeholders, not errors
    assert {f["code"] for f in s3["findings"]} <= {
        "value-shape-mismatch",
        "hub-scoped-key",
        "action-resource-mismatch",
        "unresolved-placeholder",
    }
    no_allow = _finding(sqs, "no-allow")
    assert no_allow["line"] == _line_of(CFN_YAML, "PolicyDocument:", 2) + 1  # the document's first element


def test_cloudformation_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, files = _json(capsys, CFN_JSON)
    assert code == 1
    (kms,) = files
    assert (kms["resource"], kms["service"]) == ("KmsEndpoint", "kms")  # from Fn::Join with AWS::Region
    bad = _finding(kms, "invalid-principal")
    assert bad["line"] == _line_of(CFN_JSON, "arn:aws:iam:111122223333:role/app")
    star = _finding(kms, "action-resource-mismatch")
    assert star["line"] == _line_of(CFN_JSON, '"kms:ListKeys"')
    assert "principal-account-root" not in {f["code"] for f in kms["findings"]}  # !Sub …${AWS::AccountId}:root


def test_cloudformation_text_names_logical_id_and_service(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, CFN_YAML)
    assert (
        f"{CFN_YAML} [SqsEndpoint]: linted as an sqs endpoint policy (from ServiceName of SqsEndpoint)"
        in out.splitlines()
    )
    line = _line_of(CFN_YAML, "PolicyDocument:", 2) + 1
    assert any(row.startswith(f"{CFN_YAML}:{line}:9: error no-allow [SqsEndpoint] ") for row in out.splitlines())
    assert out.splitlines()[-1].startswith("1 file checked (2 policies): ")


def test_terraform_plan_two_endpoints(capsys: pytest.CaptureFixture[str]) -> None:
    code, files = _json(capsys, PLAN)
    assert code == 1
    assert [(f["resource"], f["service"], f["service_reason"]) for f in files] == [
        ("aws_vpc_endpoint.s3", "s3", "from service_name of aws_vpc_endpoint.s3"),
        (
            "module.sqs.aws_vpc_endpoint_policy.this[0]",
            "sqs",
            "from service_name of module.sqs.aws_vpc_endpoint.this",
        ),
    ]
    s3, sqs = files
    no_allow = _finding(s3, "no-allow")
    assert no_allow["line"] == _line_of(PLAN, '"policy": "{', 2)  # resource_changes, not planned_values
    merged = _finding(sqs, "set-operator-mismatch")
    assert merged["severity"] == "error" and [r["code"] for r in merged["related"]] == ["forallvalues-vacuous"]
    assert merged["line"] == _line_of(PLAN, '"policy": "{', 3)  # inside a JSON string: the string's line
    assert "forallvalues-vacuous" not in {f["code"] for f in sqs["findings"]}


def test_describe_vpc_endpoints(capsys: pytest.CaptureFixture[str]) -> None:
    code, files = _json(capsys, DESCRIBE)
    assert code == 1
    assert [(f["resource"], f["service"]) for f in files] == [
        ("vpce-0123456789abcdef0", "sqs"),
        ("vpce-0fedcba9876543210", "ecr.api"),
        ("vpce-0aaaabbbbccccdddd", "dynamodb"),
    ]
    own, ecr, dynamodb = files
    hub = _finding(own, "hub-scoped-key")
    assert hub["line"] == _line_of(DESCRIBE, '"PolicyDocument"', 1)
    assert "(vpce-0123456789abcdef0 here)" in hub["message"]
    assert "StringNotEquals is FALSE for every request: this Allow grants nothing" in hub["message"]
    assert _finding(ecr, "invalid-principal")["line"] == _line_of(DESCRIBE, '"PolicyDocument"', 2)
    assert [f["code"] for f in dynamodb["findings"]] == ["default-full-access"]


def test_sarif_points_at_template_file_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "--format", "sarif", CFN_YAML, PLAN)
    results = json.loads(out)["runs"][0]["results"]
    shape = next(r for r in results if r["ruleId"] == "value-shape-mismatch")
    location = shape["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("lintinputs/endpoints.cfn.yaml")
    assert location["physicalLocation"]["region"]["startLine"] == _line_of(CFN_YAML, "aws:SourceVpce: vpc-")
    assert location["logicalLocations"][0] == {"name": "S3GatewayEndpoint", "kind": "resource"}
    merged = next(r for r in results if r["ruleId"] == "set-operator-mismatch")
    related = merged["relatedLocations"][0]
    assert related["message"]["text"].startswith("forallvalues-vacuous: ")
    assert related["physicalLocation"]["artifactLocation"]["uri"].endswith("lintinputs/plan.tfplan.json")


def test_directory_walk_skips_hidden_vendored_excluded_and_non_policies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "infra" / "endpoints").mkdir(parents=True)
    shutil.copy(CFN_YAML, tmp_path / "infra" / "endpoints" / "hub.template")
    shutil.copy(POLICIES / "bad_hub_scoped_key.json", tmp_path / "infra" / "sqs-policy.json")
    shutil.copy(POLICIES / "bad_no_allow.json", tmp_path / "infra" / "old.json")
    (tmp_path / "infra" / "package.json").write_text('{"name": "not-a-policy"}', encoding="utf-8")
    (tmp_path / "infra" / "values.yml").write_text("replicas: 3\n", encoding="utf-8")
    for hidden in (".terraform", "node_modules", ".git"):
        (tmp_path / hidden).mkdir()
        shutil.copy(POLICIES / "bad_invalid_principal.json", tmp_path / hidden / "p.json")
    code, files = _json(capsys, str(tmp_path), "--exclude", "old.json")
    assert code == 1
    found = sorted({Path(f["path"]).relative_to(tmp_path).as_posix() for f in files})
    assert found == ["infra/endpoints/hub.template", "infra/sqs-policy.json"]
    _, out, _ = _run(capsys, str(tmp_path), "--exclude", "infra/endpoints/*")
    assert out.splitlines()[-1].startswith("2 files checked, 2 files without a policy skipped: ")


def test_empty_directory_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, str(tmp_path))
    assert code == 2 and "no files to lint" in err


@pytest.mark.parametrize(
    ("service", "suggestion"),
    [("sqss", "sqs"), ("com.amazonaws.us-east-1.kmss", "kms"), ("secretsmanagr", "secretsmanager")],
)
def test_service_typo_is_a_usage_error_with_did_you_mean(
    service: str, suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "--service", service, str(POLICIES / "clean_data_perimeter.json"))
    assert code == 2 and out == ""
    assert f'did you mean "{suggestion}"?' in err


@pytest.mark.parametrize(
    "service", ["sqs", "ecr.api", "com.amazonaws.eu-west-1.s3", "com.amazonaws.vpce.us-east-1.vpce-svc-0abc"]
)
def test_valid_services_are_accepted(service: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--service", service, str(POLICIES / "clean_data_perimeter.json"))
    assert code == 0 and err == ""


def test_service_given_overrides_the_source(capsys: pytest.CaptureFixture[str]) -> None:
    _, files = _json(capsys, "--service", "sqs", DESCRIBE)
    assert {(f["service"], f["service_reason"]) for f in files} == {("sqs", "given with --service")}


def test_double_encoded_policy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps((POLICIES / "bad_value_shape_mismatch.json").read_text(encoding="utf-8")))
    code, out, _ = _run(capsys, str(path))
    assert code == 1
    assert "info policy-json-string" in out
    assert "(at Statement[0].Condition.StringEquals.aws:PrincipalOrgID)" not in out  # plain file: exact positions
    assert "error value-shape-mismatch" in out


def test_skip_non_policy_for_pre_commit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "package.json"
    other.write_text('{"name": "web", "version": "1.0.0"}', encoding="utf-8")
    code, out, _ = _run(capsys, str(other))
    assert code == 1 and "invalid-structure" in out  # named explicitly: linted as a policy
    code, out, _ = _run(capsys, "--skip-non-policy", str(other), CFN_YAML)
    assert code == 1
    assert out.splitlines()[-1].startswith("1 file checked (2 policies), 1 file without a policy skipped: ")


def test_pre_commit_hook_definition_matches_the_cli() -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    (hook,) = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "vpce-lint" and hook["language"] == "python"
    assert hook["entry"] == "vpce lint --skip-non-policy"
    import re

    for name in ("a.json", "b.yaml", "c.yml", "d.template", "e.tf.json"):
        assert re.search(hook["files"], name)


def test_lint_docs_match_help_and_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    """Every finding code is in the lint docs' table and every `vpce lint` option is described there."""
    from vpce_console.data.knowledge import default_catalog

    root = Path(__file__).resolve().parents[2]
    section = (root / "docs" / "cli" / "lint.md").read_text(encoding="utf-8")
    for code in default_catalog().entries:
        assert f"| `{code}` |" in section, code
    with pytest.raises(SystemExit):
        main(["lint", "--help"])
    help_text = capsys.readouterr().out
    import re

    own = help_text.split("\noptions:", 1)[1].split("\ntarget:", 1)[0]
    options = set(re.findall(r"(--[a-z][a-z-]+)", own)) - {"--help"}
    assert options == {"--format", "--service", "--policy-type", "--exclude", "--skip-non-policy"}
    for option in options:
        assert f"`{option}" in section, option


def test_unquoted_account_id_in_yaml_is_an_account_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "ep.yaml"
    template.write_text(
        "Resources:\n"
        "  Ep:\n"
        "    Type: AWS::EC2::VPCEndpoint\n"
        "    Properties:\n"
        "      ServiceName: com.amazonaws.us-east-1.sqs\n"
        "      PolicyDocument:\n"
        "        Version: 2012-10-17\n"
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Principal:\n"
        "              AWS: 111122223333\n"
        "            Action: sqs:SendMessage\n"
        "            Resource: '*'\n"
        "            Condition:\n"
        "              StringEquals:\n"
        "                aws:PrincipalAccount: 111122223333\n",
        encoding="utf-8",
    )
    code, files = _json(capsys, str(template))
    assert code == 0
    assert [f["code"] for f in files[0]["findings"]] == ["principal-account-root"]
    assert files[0]["findings"][0]["line"] == 11


def test_unreadable_file_in_a_directory_is_skipped_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(POLICIES / "bad_no_allow.json", tmp_path / "a.json")
    (tmp_path / "b.json").write_bytes(b"\xff\xfe not utf-8")
    code, out, err = _run(capsys, str(tmp_path))
    assert code == 1 and "error no-allow" in out
    assert err.startswith("vpce lint: skipped: ") and "b.json" in err
    code, _, err = _run(capsys, str(tmp_path / "b.json"))
    assert code == 2  # named on the command line: a usage error as before


STATE = str(HERE / "state.tfstate.json")


def test_terraform_state_knows_the_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    """`terraform show -json` of a state names the endpoint's id, so hub-scoped-key says what the condition is."""
    code, files = _json(capsys, STATE)
    assert code == 1
    (entry,) = files
    assert (entry["resource"], entry["service"]) == ("module.endpoints.aws_vpc_endpoint.s3", "s3")
    hub = _finding(entry, "hub-scoped-key")
    assert "StringEquals is TRUE for every request: the condition restricts nothing" in hub["message"]
    assert hub["line"] == _line_of(STATE, '"policy": "{')
    fit = _finding(entry, "action-resource-mismatch")
    assert "this Allow grants nothing" in fit["message"]
