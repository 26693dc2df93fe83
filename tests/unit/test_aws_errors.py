"""SDK exceptions become one AwsError with a one-line message that names the call and the account."""

from __future__ import annotations

import botocore.exceptions as bex
import pytest

from vpce_console.aws.errors import kind_for_code, map_exception
from vpce_console.errors import AwsError


def client_error(code: str, message: str = "msg", status: int = 400, op: str = "DescribeVpcs") -> bex.ClientError:
    return bex.ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, op
    )


@pytest.mark.parametrize(
    ("code", "status", "kind", "retryable"),
    [
        ("AccessDenied", 403, "access-denied", False),
        ("UnauthorizedOperation", 403, "access-denied", False),
        ("ExpiredToken", 400, "credentials", False),
        ("InvalidClientTokenId", 403, "credentials", False),
        ("Throttling", 400, "throttled", True),
        ("RequestLimitExceeded", 503, "throttled", True),
        ("InternalError", 500, "unavailable", True),
        ("Whatever", 503, "unavailable", True),
        ("InvalidVpcEndpointId.NotFound", 400, "not-found", False),
        ("NoSuchHostedZone", 404, "not-found", False),
        ("InvalidParameterValue", 400, "invalid", False),
        ("DryRunOperation", 412, "dry-run-ok", False),
    ],
)
def test_client_error_kinds(code: str, status: int, kind: str, retryable: bool) -> None:
    err = map_exception(client_error(code, status=status), operation="ec2:?", account_id="222233334444")
    assert isinstance(err, AwsError)
    assert (err.kind, err.retryable, err.operation) == (kind, retryable, "ec2:DescribeVpcs")
    assert err.info.account_id == "222233334444"
    assert "\n" not in str(err)
    assert kind_for_code(code, status) == (kind, retryable)


def test_access_denied_names_account_and_call_on_one_line() -> None:
    exc = client_error("AccessDenied", "User: arn:aws:sts::1:assumed-role/x is not authorized\n to perform: ec2:X")
    err = map_exception(exc, operation="ec2:?", account_id="222233334444")
    text = str(err)
    assert "222233334444" in text and "ec2:DescribeVpcs" in text and "not authorized to perform" in text
    assert "\n" not in text


def test_missing_and_expired_credentials_say_what_to_do() -> None:
    err = map_exception(bex.NoCredentialsError(), operation="sts:GetCallerIdentity")
    assert err.kind == "credentials" and "no AWS credentials" in str(err) and "--profile" in str(err)
    expired = map_exception(
        client_error("ExpiredToken", "The security token included in the request is expired"), operation="sts:?"
    )
    assert expired.kind == "credentials" and "expired" in str(expired)


def test_connection_errors_are_retryable() -> None:
    err = map_exception(bex.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), operation="ec2:DescribeVpcs")
    assert err.kind == "connection" and err.retryable and "127.0.0.1:1" in str(err)


def test_long_messages_are_cut() -> None:
    err = map_exception(client_error("InvalidParameterValue", "x" * 2000), operation="ec2:?")
    assert len(err.info.message) <= 300
