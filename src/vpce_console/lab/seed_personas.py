"""The lab's workloads (personas): one per credential type, in the spokes, with roles and keys."""

from __future__ import annotations

from typing import Any

from vpce_console.lab.seeder import (
    _Seeder,
)
from vpce_console.lab.world import (
    ORG_ID,
    PERSONA_SERVICES,
    REGION,
    Spoke,
    org_path,
)
from vpce_console.policy.personas import Persona
from vpce_console.readyfile import LabPersona


def _persona(
    s: _Seeder,
    *,
    name: str,
    kind: str,
    spoke: Spoke | None,
    account: str,
    role: str,
    tags: dict[str, str] | None = None,
    services: tuple[str, ...] = PERSONA_SERVICES,
    **extra: Any,
) -> LabPersona:
    rng = s.rng
    tags = dict(tags or {})
    if spoke is not None:
        tags.setdefault("vpc-id", spoke.vpc_id)
        tags.setdefault("environment", spoke.environment)
    if kind == "aws-service":
        role_arn = role
    elif kind == "iam-user":
        iam = s.b["iam"][account]["aws"]
        user = iam.create_user(REGION, role, tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        role_arn = str(user.arn)
    else:
        service = {
            "lambda": "lambda.amazonaws.com",
            "ecs-task": "ecs-tasks.amazonaws.com",
            "eks-pod-identity": "pods.eks.amazonaws.com",
        }.get(kind, "ec2.amazonaws.com")
        role_arn = s.role(account, role, tags, service)
    key, secret = rng.key("AKIA" if kind == "iam-user" else "ASIA")
    ip = None
    public_ip = None
    if spoke is not None:
        ip = rng.host(spoke.cidr, s.used_ips)
        public_ip = f"3.{rng.r.randint(80, 240)}.{rng.r.randint(0, 255)}.{rng.r.randint(1, 254)}"
    env = spoke.environment if spoke else "network"
    persona = Persona(
        name=name,
        kind=kind,
        account_id=account,
        vpc_id=spoke.vpc_id if spoke else None,
        private_ip=ip,
        role_arn=role_arn,
        tags=tags,
        org_id=ORG_ID,
        org_paths=(org_path(env),),
        public_ip=public_ip,
        **extra,
    )
    p = LabPersona(persona, key, secret, services)
    s.world.personas.append(p)
    return p


PERSONA_KEYS = frozenset(
    {
        "name",
        "why",
        "kind",
        "spoke",
        "role",
        "tags",
        "services",
        "instance_id",
        "session_name",
        "function_arn",
        "cluster_arn",
        "namespace",
        "service_account",
        "oidc_provider_arn",
    }
)
"""What an entry of data/lab_personas.yaml may say."""


def persona_entries() -> list[dict[str, Any]]:
    """The lab's personas as data/lab_personas.yaml lists them (invented lab data, in seeding order)."""
    from importlib.resources import files

    from vpce_console.safeload import load_yaml

    text = files("vpce_console.data").joinpath("lab_personas.yaml").read_text(encoding="utf-8")
    entries = load_yaml(text)["personas"]
    for index, entry in enumerate(entries):
        unknown = set(entry) - PERSONA_KEYS
        if unknown:  # a typo in packaged data is a bug, not user input
            raise ValueError(f"lab_personas.yaml personas[{index}]: unknown key(s) {', '.join(sorted(unknown))}")
    return list(entries)


def _personas(s: _Seeder, by_name: dict[str, Spoke]) -> None:
    """One persona per credential kind, spread over spokes, one in an unassociated VPC (data/lab_personas.yaml)."""
    for entry in persona_entries():
        spoke = by_name[entry["spoke"]] if entry.get("spoke") else None
        account = spoke.account_id if spoke is not None else s.world.hub_account
        extra: dict[str, Any] = {}
        for key in ("function_arn", "cluster_arn", "namespace", "service_account", "oidc_provider_arn"):
            if key in entry:
                extra[key] = str(entry[key]).format(region=REGION, account=account)
        if entry.get("instance_id") == "random":
            extra["instance_id"] = "i-0" + s.rng.chars(16, "0123456789abcdef")
        elif "instance_id" in entry:
            extra["instance_id"] = str(entry["instance_id"])
        if "session_name" in entry:
            extra["session_name"] = str(entry["session_name"])
        if "services" in entry:
            extra["services"] = tuple(entry["services"])
        _persona(
            s,
            name=str(entry["name"]),
            kind=str(entry["kind"]),
            spoke=spoke,
            account=account,
            role=str(entry["role"]),
            tags={str(k): str(v) for k, v in (entry.get("tags") or {}).items()},
            **extra,
        )
