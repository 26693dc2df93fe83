"""The lab's ready-file contract: one typed reading, real personas with their keys, no silent drops."""

from __future__ import annotations

from typing import Any

import pytest

from vpce_console.config import config_from_dict
from vpce_console.errors import UsageError
from vpce_console.policy.personas import Persona
from vpce_console.readyfile import LabPersona, parse_ready_file

WEB = {
    "name": "web-dev",
    "kind": "ec2-instance",
    "account_id": "222222222222",
    "vpc_id": "vpc-0aaaaaaaaaaaaaaaa",
    "private_ip": "10.1.0.20",
    "role_arn": "arn:aws:iam::222222222222:role/dev-web-instance",
    "tags": {"team": "web"},
    "access_key_id": "ASIAWEB",
    "secret_access_key": "s1",
    "session_name": "i-0web",
    "org_id": "o-lab7h2k9q4x",
    "org_paths": ["o-lab7h2k9q4x/r-lb7q/ou-lb7q-dev/"],
    "instance_id": "i-0123456789abcdef0",
    "services": ["sqs", "kms"],
}


def ready(*personas: Any, **extra: Any) -> dict[str, Any]:
    return {
        "endpoint_url": "http://127.0.0.1:5",
        "region": "us-east-1",
        "operator": {"access_key_id": "AKIALAB", "secret_access_key": "s"},
        "read_role_name": "vpce-console-read",
        "hub": {
            "account_id": "111111111111",
            "vpc_id": "vpc-0fff00000000000aa",
            "endpoints": {"sqs": "vpce-0sqs"},
            "org_id": "o-lab7h2k9q4x",
            "org_paths": ["o-lab7h2k9q4x/r-lb7q/ou-lb7q-network/"],
        },
        "accounts": ["111111111111", "222222222222"],
        "spokes": [{"account_id": "222222222222"}],
        "personas": list(personas),
        "organization": {"id": "o-lab7h2k9q4x"},
        **extra,
    }


def test_personas_are_engine_personas_with_their_keys() -> None:
    lab = parse_ready_file(ready(WEB), "r.json")
    (web,) = lab.personas
    assert isinstance(web.persona, Persona) and web.persona.instance_id == "i-0123456789abcdef0"
    assert (web.access_key_id, web.secret_access_key, web.services) == ("ASIAWEB", "s1", ("sqs", "kms"))
    assert lab.credentials == {"web-dev": ("ASIAWEB", "s1")}
    assert (lab.hub.account_id, lab.hub.endpoint_id, lab.hub_endpoints) == ("111111111111", "", {"sqs": "vpce-0sqs"})
    assert LabPersona.from_json(web.to_json(), 0) == web  # what the lab writes is what the console reads


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"kind": "robot"}, "personas[1].kind"),
        ({"account_id": "12"}, "personas[1].account_id"),
        ({"secret_access_key": None}, "personas[1]: missing access_key_id or secret_access_key"),
        ({"services": "sqs"}, "personas[1].services"),
    ],
)
def test_a_bad_persona_is_a_one_line_error_not_a_silent_drop(change: dict[str, Any], said: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_ready_file(ready(WEB, {**WEB, "name": "other", **change}), "r.json")
    message = str(caught.value)
    assert said in message and "r.json" in message and "\n" not in message


def test_the_labs_config_section_is_our_config_schema_under_the_users_file() -> None:
    suggestions = {
        "hubs": [{"account_id": "111111111111", "region": "us-east-1", "vpc_id": "vpc-0fff00000000000aa"}],
        "forbidden": ["environment=prod"],
        "expected_services": {"vpc-0aaaaaaaaaaaaaaaa": ["sqs"]},
        "roles": {"read_role_name": "vpce-console-read"},
    }
    lab = parse_ready_file(ready(WEB, config=suggestions), "r.json")
    config = config_from_dict({"forbidden": ["vpc-0123456789abcdef0"]}, defaults=lab.config_defaults)
    assert config.forbidden == ("vpc-0123456789abcdef0",)  # the user's file wins
    assert config.expected_services == {"vpc-0aaaaaaaaaaaaaaaa": ("sqs",)}
    assert config.roles.read_role_name == "vpce-console-read"
    replay = lab.config_defaults["replay"]
    assert replay["accounts"]["222222222222"]["org_paths"] == ["o-lab7h2k9q4x/r-lb7q/ou-lb7q-dev/"]
    assert replay["role_tags"] == {WEB["role_arn"]: {"team": "web"}}


def test_a_file_that_is_not_a_labs_says_what_it_lacks() -> None:
    with pytest.raises(UsageError, match=r"r\.json lacks operator"):
        parse_ready_file({k: v for k, v in ready(WEB).items() if k != "operator"}, "r.json")
    with pytest.raises(UsageError, match=r"r\.json is malformed"):
        parse_ready_file({**ready(WEB), "operator": {}}, "r.json")
