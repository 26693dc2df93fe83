"""The lab's workloads (personas): one per credential type, in the spokes, with roles and keys."""

from __future__ import annotations

from typing import Any

from vpce_console.lab.seeder import (
    _Seeder,
)
from vpce_console.lab.world import (
    REGION,
    LabPersona,
    Spoke,
    org_path,
)


def _persona(
    s: _Seeder,
    *,
    name: str,
    kind: str,
    spoke: Spoke | None,
    account: str,
    role: str,
    tags: dict[str, str] | None = None,
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
    p = LabPersona(
        name=name,
        kind=kind,
        account_id=account,
        vpc_id=spoke.vpc_id if spoke else None,
        private_ip=ip,
        role_arn=role_arn,
        tags=tags,
        access_key_id=key,
        secret_access_key=secret,
        org_paths=(org_path(env),),
        public_ip=public_ip,
        **extra,
    )
    s.world.personas.append(p)
    return p


def _personas(s: _Seeder, by_name: dict[str, Spoke]) -> None:
    """One persona per credential kind, spread over spokes, one in an unassociated VPC."""
    w = s.world
    r = REGION

    def sp(n: str) -> Spoke:
        return by_name[n]

    dev = sp("dev-app")
    _persona(
        s,
        name="web-dev",
        kind="ec2-instance",
        spoke=dev,
        account=dev.account_id,
        role="dev-web-instance",
        tags={"team": "web"},
        instance_id="i-0" + s.rng.chars(16, "0123456789abcdef"),
        session_name="i-0web",
    )
    cl = sp("client-lambdas")
    fn = f"arn:aws:lambda:{r}:{cl.account_id}:function:client-ingest"
    _persona(
        s,
        name="client-fn",
        kind="lambda",
        spoke=cl,
        account=cl.account_id,
        role="client-ingest-exec",
        tags={"team": "clients", "data-class": "sensitive"},
        function_arn=fn,
        session_name="client-ingest",
    )
    st = sp("staging-app")
    _persona(
        s,
        name="orders-task",
        kind="ecs-task",
        spoke=st,
        account=st.account_id,
        role="orders-task-role",
        tags={"team": "orders"},
        cluster_arn=f"arn:aws:ecs:{r}:{st.account_id}:cluster/staging",
        session_name="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    )
    eks = sp("staging-eks")
    oidc = f"arn:aws:iam::{eks.account_id}:oidc-provider/oidc.eks.{r}.amazonaws.com/id/5C7E1B0D1E2F3A4B5C6D7E8F9A0B1C2D"
    _persona(
        s,
        name="payments-irsa",
        kind="eks-irsa",
        spoke=eks,
        account=eks.account_id,
        role="payments-irsa",
        tags={"team": "payments"},
        cluster_arn=f"arn:aws:eks:{r}:{eks.account_id}:cluster/staging",
        namespace="payments",
        service_account="payments-api",
        oidc_provider_arn=oidc,
        session_name="botocore-session-1700000000",
    )
    deks = sp("dev-eks")
    _persona(
        s,
        name="ledger-pod",
        kind="eks-pod-identity",
        spoke=deks,
        account=deks.account_id,
        role="ledger-pod-role",
        tags={"team": "ledger"},
        cluster_arn=f"arn:aws:eks:{r}:{deks.account_id}:cluster/dev",
        namespace="ledger",
        service_account="ledger",
        session_name="eks-dev-ledger-pod-1a2b",
    )
    batch = sp("dev-batch")
    _persona(
        s,
        name="ci-user",
        kind="iam-user",
        spoke=batch,
        account=batch.account_id,
        role="ci-deployer",
        tags={"team": "platform"},
    )
    _persona(
        s,
        name="ops-assumed",
        kind="assumed-role",
        spoke=dev,
        account=dev.account_id,
        role="ops-readonly",
        tags={"team": "ops"},
        session_name="alice",
    )
    legacy = sp("staging-legacy")
    _persona(
        s,
        name="legacy-ec2",
        kind="ec2-instance",
        spoke=legacy,
        account=legacy.account_id,
        role="legacy-instance",
        tags={"team": "legacy"},
        instance_id="i-0" + s.rng.chars(16, "0123456789abcdef"),
        session_name="i-0legacy",
    )
    _persona(
        s,
        name="lambda-service",
        kind="aws-service",
        spoke=None,
        account=w.hub_account,
        role="lambda.amazonaws.com",
        services=("sqs", "kms"),
    )
