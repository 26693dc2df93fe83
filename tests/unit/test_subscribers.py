"""A subscribers-matrix cell's status: wiring and config first, then the doctor's findings on that cell win."""

from __future__ import annotations

import pytest

from vpce_console.services.subscribers import SubscriberStatus, subscriber_status

S = SubscriberStatus


@pytest.mark.parametrize(
    ("associated", "expected", "forbidden", "codes", "status"),
    [
        (True, False, False, (), S.ASSOCIATED),
        (True, True, True, (), S.FORBIDDEN),
        (False, True, False, (), S.MISSING),
        (False, True, True, (), S.NONE),  # a forbidden VPC is never "missing" a service
        (False, False, False, (), S.NONE),
        (True, False, False, ("phz-forbidden-association",), S.FORBIDDEN),
        (False, False, False, ("profile-missing-zone",), S.MISSING),
        (True, False, False, ("phz-missing-association",), S.ASSOCIATED),  # associated after all: not missing
        (True, False, False, ("phz-stale-association",), S.STALE),
        (False, True, False, ("phz-missing-association", "phz-stale-association"), S.MISSING),
    ],
)
def test_status(associated: bool, expected: bool, forbidden: bool, codes: tuple[str, ...], status: S) -> None:
    assert subscriber_status(associated=associated, expected=expected, forbidden=forbidden, codes=codes) is status
    assert status.value in ("associated", "missing", "forbidden", "stale", "none")  # the pane's words
