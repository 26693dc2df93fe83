"""Turn SDK exceptions into the one `AwsError` type, with one line an on-call engineer can act on."""

from __future__ import annotations

import re
from typing import Any

from vpce_console.errors import AwsError

CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "InvalidToken",
        "IncompleteSignature",
        "MissingAuthenticationToken",
    }
)
"""Error codes that mean "your credentials are missing, wrong or expired", not "you may not do this"."""

ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
        "Client.UnauthorizedOperation",
        "AccessDeniedForDependencyException",
    }
)
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "PriorRequestNotComplete",
        "SlowDown",
        "EC2ThrottledException",
        "BandwidthLimitExceeded",
    }
)
UNAVAILABLE_CODES = frozenset(
    {"InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "InternalServerError", "ServerError"}
)
INVALID_CODES = frozenset(
    {
        "InvalidParameterValue",
        "InvalidParameter",
        "InvalidParameterCombination",
        "InvalidInput",
        "ValidationError",
        "ValidationException",
        "MalformedPolicyDocument",
        "MalformedPolicyDocumentException",
        "InvalidArgument",
        "MissingParameter",
    }
)

_MAX_MESSAGE = 300


class AwsCallError(AwsError):
    """An `AwsError` that also carries AWS's own error code and HTTP status, for callers that branch on them."""

    def __init__(
        self,
        kind: str,
        operation: str,
        message: str,
        *,
        retryable: bool = False,
        account_id: str | None = None,
        code: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(kind, operation, message, retryable=retryable, account_id=account_id)
        self.code = code
        """AWS's error code (`AccessDenied`, `DryRunOperation`, …), None for client-side failures."""
        self.http_status = http_status


def one_line(text: object, limit: int = _MAX_MESSAGE) -> str:
    """Collapse whitespace so a multi-line AWS message prints as one line, cut to a readable length."""
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def kind_for_code(code: str, http_status: int | None = None) -> tuple[str, bool]:
    """The error kind and whether retrying can help, from an AWS error code and HTTP status."""
    if code == "DryRunOperation":
        return "dry-run-ok", False
    if code in CREDENTIAL_CODES:
        return "credentials", False
    if code in ACCESS_DENIED_CODES or code.endswith("AccessDenied"):
        return "access-denied", False
    if code in THROTTLE_CODES or "Throttl" in code:
        return "throttled", True
    if code in UNAVAILABLE_CODES or (http_status is not None and http_status >= 500):
        return "unavailable", True
    if code.endswith("NotFound") or code.startswith("NoSuch") or code.endswith("NotFoundException"):
        return "not-found", False
    if code in INVALID_CODES or code.startswith("Invalid") or code.startswith("Malformed"):
        return "invalid", False
    return "other", False


def map_exception(exc: BaseException, *, operation: str, account_id: str | None = None) -> AwsError:
    """Build the `AwsError` for any exception raised while talking to AWS (never raises itself)."""
    import botocore.exceptions as bex

    if isinstance(exc, AwsError):
        return exc
    where = f" for account {account_id}" if account_id else ""
    if isinstance(exc, bex.ClientError):
        error: dict[str, Any] = exc.response.get("Error", {}) or {}
        code = str(error.get("Code") or "Unknown")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        op = _operation_name(operation, exc.operation_name)
        kind, retryable = kind_for_code(code, status)
        aws_message = one_line(error.get("Message") or code)
        if kind == "credentials":
            message = (
                f"credentials rejected ({code}): they are expired or invalid{where} — refresh them "
                f"(e.g. `aws sso login`) or pick another --profile"
            )
        elif kind == "access-denied":
            message = f"access denied{where} calling {op} ({code}): {aws_message}"
        elif kind == "throttled":
            message = f"throttled by AWS ({code}) after retries: {aws_message}"
        else:
            message = f"{code}: {aws_message}"
        return AwsCallError(
            kind, op, one_line(message), retryable=retryable, account_id=account_id, code=code, http_status=status
        )
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return AwsCallError(
            "credentials",
            operation,
            "no AWS credentials found: set --profile (or AWS_PROFILE), run `aws sso login`, or run where an "
            "instance role is available",
            account_id=account_id,
        )
    sso_errors: tuple[type[BaseException], ...] = tuple(
        getattr(bex, name)
        for name in ("TokenRetrievalError", "SSOTokenLoadError", "UnauthorizedSSOTokenError", "SSOError")
        if hasattr(bex, name)
    )
    if sso_errors and isinstance(exc, sso_errors):
        return AwsCallError(
            "credentials",
            operation,
            one_line(f"SSO credentials are missing or expired ({exc}); run `aws sso login`"),
            account_id=account_id,
        )
    if isinstance(exc, bex.ProfileNotFound):
        return AwsCallError("credentials", operation, one_line(str(exc)), account_id=account_id)
    if isinstance(exc, bex.ParamValidationError):
        return AwsCallError("invalid", operation, one_line(str(exc)), account_id=account_id)
    connection_errors: tuple[type[BaseException], ...] = (
        bex.EndpointConnectionError,
        bex.ConnectionClosedError,
        bex.ConnectTimeoutError,
        bex.ReadTimeoutError,
        bex.HTTPClientError,
        ConnectionError,
        TimeoutError,
    )
    if isinstance(exc, connection_errors):
        return AwsCallError(
            "connection", operation, one_line(f"cannot reach AWS{where}: {exc}"), retryable=True, account_id=account_id
        )
    if isinstance(exc, bex.BotoCoreError):
        return AwsCallError("other", operation, one_line(str(exc)), account_id=account_id)
    try:
        import aiohttp

        if isinstance(exc, aiohttp.ClientError):
            return AwsCallError(
                "connection",
                operation,
                one_line(f"cannot reach AWS{where}: {exc}"),
                retryable=True,
                account_id=account_id,
            )
    except ImportError:  # pragma: no cover - aiohttp comes with aiobotocore
        pass
    return AwsCallError("other", operation, one_line(f"{type(exc).__name__}: {exc}"), account_id=account_id)


def _operation_name(fallback: str, operation_name: str | None) -> str:
    """`service:Operation` from the fallback's service part and botocore's operation name."""
    if not operation_name:
        return fallback
    service = fallback.split(":", 1)[0]
    return f"{service}:{operation_name}"
