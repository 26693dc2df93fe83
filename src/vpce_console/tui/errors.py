"""Turn any worker failure into one notification naming the account and the call, never a traceback."""

from __future__ import annotations

from vpce_console.errors import AwsError, VpceError


def describe_error(exc: BaseException, *, doing: str) -> tuple[str, str]:
    """(title, message) for a notification about `exc` raised while `doing` something."""
    if isinstance(exc, AwsError):
        info = exc.info
        where = f"account {info.account_id}" if info.account_id else "the caller's account"
        retry = " (will retry on refresh)" if info.retryable else ""
        return f"AWS {info.kind} while {doing}", f"{info.operation} in {where}: {info.message}{retry}"
    if isinstance(exc, VpceError):
        return f"Problem while {doing}", str(exc)
    if isinstance(exc, (ConnectionError, OSError)):
        return f"Connection problem while {doing}", f"{type(exc).__name__}: {exc}"
    return f"Unexpected error while {doing}", f"{type(exc).__name__}: {exc}"
