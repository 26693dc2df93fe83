"""The few error types every layer shares, so the CLI and the TUI can turn them into one line."""

from __future__ import annotations

from dataclasses import dataclass


class VpceError(Exception):
    """Base of every error we expect and report as one line (never a traceback)."""


class UsageError(VpceError):
    """Bad input from the user: unreadable file, invalid flag combination, bad config; CLI exit 2."""


class ConfigError(UsageError):
    """A config file problem, reported with its dotted key path."""


@dataclass(frozen=True, slots=True)
class AwsErrorInfo:
    """What went wrong talking to AWS, in words an on-call engineer can act on."""

    kind: str
    """One of: credentials, access-denied, throttled, not-found, invalid, unavailable, connection, other."""
    operation: str
    """`service:Operation`, e.g. `ec2:DescribeVpcEndpoints`."""
    message: str
    retryable: bool
    account_id: str | None = None


class AwsError(VpceError):
    """The single error type the `aws/` layer raises; SDK exceptions never leave that package."""

    def __init__(
        self,
        kind: str,
        operation: str,
        message: str,
        *,
        retryable: bool = False,
        account_id: str | None = None,
    ) -> None:
        self.info = AwsErrorInfo(kind, operation, message, retryable, account_id)
        where = f" in account {account_id}" if account_id else ""
        super().__init__(f"{operation}{where}: {message}")

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def operation(self) -> str:
        return self.info.operation

    @property
    def retryable(self) -> bool:
        return self.info.retryable
