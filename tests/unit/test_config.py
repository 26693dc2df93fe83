"""Config: strict YAML -> frozen dataclasses, every problem reported with its key path."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from vpce_console.config import Config, Selector, config_from_dict, load_config
from vpce_console.errors import ConfigError
from vpce_console.readyfile import config_defaults


def test_example_config_loads_and_documents_every_key(repo_root: Path) -> None:
    config = load_config(repo_root / "config.example.yaml")
    assert config.hubs[0].account_id == "111122223333"
    assert config.allow_write is False
    assert config.forbidden_selectors[0] == Selector(None, "environment", "prod")
    assert config.role_name_for("333344445555") == "LegacyReadRole"
    assert config.role_name_for("222233334444") == "VpceConsoleReadOnly"
    text = (repo_root / "config.example.yaml").read_text()

    def keys(cls: type, prefix: str = "") -> list[str]:
        out = []
        for f in dataclasses.fields(cls):
            out.append(f.name)
            if dataclasses.is_dataclass(f.type):
                out.extend(keys(f.type))  # type: ignore[arg-type]
        return out

    missing = [k for k in keys(Config) if f"{k}:" not in text]
    assert missing == []


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    assert config == Config()
    assert config.allow_write is False and config.aws.retry_mode == "standard"


def test_all_problems_are_reported_with_their_paths() -> None:
    raw = {
        "hubs": [{"account_id": 111122223333, "regoin": "us-east-1"}],
        "spokes": {"accounts": ["12"]},
        "forbidden": ["prod"],
        "watch": {"poll_seconds": "ten"},
        "aws": {"retry_mode": "legacy", "rate_limits": {"route53": {"rate": 0}}},
        "prices": {"endpoint_hour": 0.01},
        "probes": [{"name": "p", "role_arn": "not-an-arn"}],
        "colour": "blue",
    }
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw)
    text = str(info.value)
    for path in (
        "hubs[0].account_id: expected a string",
        "quote account ids",
        "hubs[0].regoin: unknown key",
        "spokes.accounts[0]",
        "forbidden[0]",
        "watch.poll_seconds: expected a number",
        "aws.retry_mode",
        "aws.rate_limits.route53.rate",
        "prices.endpoint_hour: unknown price",
        "probes[0].role_arn",
        "colour: unknown key",
    ):
        assert path in text, path


def test_required_probe_keys_are_named() -> None:
    with pytest.raises(ConfigError, match=r"probes\[0\]\.role_arn: required key is missing"):
        config_from_dict({"probes": [{"name": "x"}]})


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("hubs:\n  - account_id: '1\n")
    with pytest.raises(ConfigError, match="invalid YAML at line"):
        load_config(bad)


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(bad)


def test_lab_ready_file_feeds_defaults_that_the_file_overrides(tmp_path: Path) -> None:
    ready = {
        "endpoint_url": "http://127.0.0.1:1",
        "region": "us-east-1",
        "hub": {"account_id": "111111111111", "vpc_id": "vpc-0aaaaaaaaaaaaaaaa", "cidr": "10.0.0.0/16"},
        "read_role_name": "LabRead",
        "spokes": [{"account_id": "222222222222"}, {"account_id": "333333333333"}, {"account_id": "222222222222"}],
        "cloudtrail_log_group": "lab-trail",
        "config": {
            "forbidden": ["environment=prod", "vpc-0123456789abcdef0"],
            "expected_services": {"vpc-0bbbbbbbbbbbbbbbb": ["sqs"]},
            "hubs": [{"account_id": "111111111111", "region": "us-east-1", "vpc_id": "vpc-0aaaaaaaaaaaaaaaa"}],
        },
    }
    user = tmp_path / "c.yaml"
    user.write_text("roles:\n  read_role_name: Mine\n")
    config = load_config(user, defaults=config_defaults(ready))
    assert config.hubs[0].account_id == "111111111111" and config.hubs[0].vpc_id == "vpc-0aaaaaaaaaaaaaaaa"
    assert config.spokes.accounts == ("222222222222", "333333333333")
    assert config.roles.read_role_name == "Mine"
    assert config.tail.log_groups == ("lab-trail",)
    assert config.forbidden == ("environment=prod", "vpc-0123456789abcdef0")
    assert config.expected_services == {"vpc-0bbbbbbbbbbbbbbbb": ("sqs",)}


@pytest.mark.parametrize(
    ("text", "vpc", "tags", "hit"),
    [
        ("environment=prod", "vpc-1", {"environment": "prod"}, True),
        ("environment=prod", "vpc-1", {"environment": "dev"}, False),
        ("vpc-0123456789abcdef0", "vpc-0123456789abcdef0", {}, True),
        ("vpc-0123456789abcdef0", "vpc-0123456789abcdef1", {}, False),
    ],
)
def test_selectors(text: str, vpc: str, tags: dict[str, str], hit: bool) -> None:
    assert Selector.parse(text).matches(vpc, tags) is hit


def test_resolve_target_for_aws_and_for_a_ready_file(tmp_path: Path) -> None:
    import argparse
    import json

    from vpce_console.connect import lab_ready, resolve_target
    from vpce_console.errors import UsageError

    aws = argparse.Namespace(lab=False, lab_ready=None, profile="ops", region=None, config=None)
    config = config_from_dict({"hubs": [{"region": "eu-west-1"}]})
    target = resolve_target(aws, config)
    assert (target.endpoint_url, target.region, target.profile, target.is_lab) == (None, "eu-west-1", "ops", False)
    assert target.access_key_id is None  # the standard credential chain decides

    ready = {
        "endpoint_url": "http://127.0.0.1:5",
        "region": "us-east-1",
        "operator": {"access_key_id": "AKIALAB", "secret_access_key": "s"},
        "read_role_name": "LabRead",
        "hub": {"account_id": "111111111111"},
        "accounts": ["111111111111"],
        "spokes": [],
        "personas": [],
    }
    path = tmp_path / "ready.json"
    path.write_text(json.dumps(ready))
    lab_args = argparse.Namespace(lab=False, lab_ready=str(path), profile=None, region=None)
    ready_file = lab_ready(lab_args)
    lab = resolve_target(lab_args, Config(), ready_file)
    assert lab.is_lab and lab.endpoint_url == "http://127.0.0.1:5" and lab.access_key_id == "AKIALAB"
    assert ready_file is not None and "lab at" in lab.description
    assert config_from_dict({}, defaults=ready_file.config_defaults).roles.read_role_name == "LabRead"
    path.write_text(json.dumps({"endpoint_url": "http://x"}))
    with pytest.raises(UsageError):
        lab_ready(lab_args)
