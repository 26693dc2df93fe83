"""The `trail:` config section: strict keys and values, and what a lab's ready-file fills in."""

from __future__ import annotations

import pytest

from vpce_console.config import config_from_dict
from vpce_console.errors import ConfigError
from vpce_console.readyfile import config_defaults


def test_trail_defaults_mean_no_trail() -> None:
    config = config_from_dict({})
    assert config.trail.bucket is None and config.trail.engine == "local"


@pytest.mark.parametrize(
    ("trail", "problem"),
    [
        ({"engine": "presto"}, "trail.engine"),
        ({"bucket": "Bad_Bucket"}, "trail.bucket"),
        ({"prefix": "/x"}, "trail.prefix"),
        ({"organization_id": "org-1"}, "trail.organization_id"),
        ({"accounts": ["12"]}, "trail.accounts[0]"),
        ({"regions": ["mars"]}, "trail.regions[0]"),
        ({"cache_max_mb": 1}, "trail.cache_max_mb"),
        ({"console_window": "a week"}, "trail.console_window"),
        ({"console_denials_window": "0h"}, "trail.console_denials_window"),
        ({"athena": {"output_location": "bucket/x"}}, "trail.athena.output_location"),
        ({"athena": {"tabel": "x"}}, "trail.athena.tabel: unknown key"),
    ],
)
def test_trail_problems_name_their_key(trail: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        config_from_dict({"trail": trail})


def test_console_windows_default_to_a_week_and_a_day() -> None:
    trail = config_from_dict({"trail": {"console_window": "3d"}}).trail
    assert (trail.console_window, trail.console_denials_window) == ("3d", "24h")


def test_ready_file_fills_in_the_trail() -> None:
    ready = {
        "trail": {
            "bucket": "aws-cloudtrail-logs-999999999999-org",
            "prefix": "org-trail/",
            "organization_id": "o-lab7h2k9q4x",
            "account_id": "999999999999",
            "accounts": ["111111111111"],
            "regions": ["us-east-1"],
            "history": {"records": 1},
        }
    }
    config = config_from_dict({}, defaults=config_defaults(ready))
    assert config.trail.bucket == "aws-cloudtrail-logs-999999999999-org"
    assert config.trail.account_id == "999999999999" and config.trail.accounts == ("111111111111",)
