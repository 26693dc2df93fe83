"""The engine API issue 2 names: `vpce_console.policy.lint(...)`, `.evaluate(...)`, `.impact(...)`."""

from __future__ import annotations

import vpce_console.policy as policy
from vpce_console.policy.evaluator import Request
from vpce_console.policy.impact_matrix import impact as impact_function
from vpce_console.policy.linter import lint as lint_function

DENY_SOURCE_VPC = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*",'
    ' "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0abc1234"}}}]}'
)


def test_package_names_are_the_functions_even_after_submodules_load() -> None:
    """Importing the submodules first must not shadow the functions with modules of the same name."""
    assert policy.lint is lint_function
    assert policy.impact is impact_function
    assert callable(policy.evaluate)


def test_package_api_lints_and_evaluates() -> None:
    codes = {finding.code for finding in policy.lint(DENY_SOURCE_VPC, policy_type="vpce")}
    assert "hub-scoped-key" in codes
    hub = Request(
        principal="arn:aws:sts::111122223333:assumed-role/app/i-1",
        action="sqs:SendMessage",
        resource="arn:aws:sqs:us-east-1:111122223333:q",
        context={"aws:SourceVpc": "vpc-0abc1234"},
    )
    spoke = Request(hub.principal, hub.action, hub.resource, {"aws:SourceVpc": "vpc-0def5678"})
    assert policy.evaluate(DENY_SOURCE_VPC, hub).kind == "allow"
    assert policy.evaluate(DENY_SOURCE_VPC, spoke).kind == "implicit_deny"


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        policy.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
