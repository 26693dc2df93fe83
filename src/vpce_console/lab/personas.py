"""Who signed a request: the operator (control plane), a read-role session, or a workload (data plane)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from vpce_console.lab.world import OPERATOR_BASTION_IP, ORG_ID, READ_ROLE, World, org_path
from vpce_console.policy.personas import Persona, principal_arn

OPERATOR = "operator"
CONTROL = "control"
WORKLOAD = "workload"


def unique_id(arn: str, prefix: str) -> str:
    """A stable AIDA/AROA id for an ARN, as CloudTrail's principalId shows it."""
    digest = hashlib.sha256(arn.encode()).hexdigest().upper()
    return prefix + digest[:17]


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller behind one access key."""

    kind: str
    """operator | control | workload: only workloads are subject to endpoint policies."""
    account_id: str
    access_key_id: str
    arn: str
    """Caller ARN: IAM user, or assumed-role session ARN."""
    persona: Persona | None = None
    """Workload identity and location (VPC, private IP, tags) for data-plane calls, as the policy engine sees it."""
    role_arn: str | None = None
    session_name: str | None = None
    user_name: str | None = None

    def user_identity(self) -> dict[str, Any]:
        """CloudTrail `userIdentity` for management events this caller makes."""
        if self.role_arn:
            role_id = unique_id(self.role_arn, "AROA")
            return {
                "type": "AssumedRole",
                "principalId": f"{role_id}:{self.session_name}",
                "arn": self.arn,
                "accountId": self.account_id,
                "accessKeyId": self.access_key_id,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": self.role_arn,
                        "accountId": self.account_id,
                        "userName": self.role_arn.rsplit("/", 1)[-1],
                    },
                    "attributes": {"mfaAuthenticated": "false"},
                },
            }
        if self.persona is not None and self.persona.kind == "aws-service":
            return {"type": "AWSService", "invokedBy": self.arn}
        return {
            "type": "IAMUser",
            "principalId": unique_id(self.arn, "AIDA"),
            "arn": self.arn,
            "accountId": self.account_id,
            "accessKeyId": self.access_key_id,
            "userName": self.user_name or self.arn.rsplit("/", 1)[-1],
        }

    @property
    def username(self) -> str:
        """LookupEvents' Username attribute: the user name or the role session name."""
        return self.session_name or self.user_name or self.arn.rsplit("/", 1)[-1]


class Registry:
    """Access key -> Identity; AssumeRole through the lab adds sessions at run time."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._keys: dict[str, Identity] = {}
        self._lock = threading.Lock()
        hub = world.hub_account
        self.add(
            Identity(
                OPERATOR,
                hub,
                world.operator_key,
                f"arn:aws:iam::{hub}:user/vpce-operator",
                user_name="vpce-operator",
            )
        )
        for workload in world.personas:
            p = workload.persona
            is_role = p.kind not in ("iam-user", "aws-service")
            arn = principal_arn(p)  # the engine's: the lab signs as exactly what the policy evaluates
            self.add(
                Identity(
                    WORKLOAD,
                    p.account_id,
                    workload.access_key_id,
                    arn,
                    persona=p,
                    role_arn=p.role_arn if is_role else None,
                    session_name=arn.rsplit("/", 1)[-1] if is_role else None,
                    user_name=p.role_arn.rsplit("/", 1)[-1] if p.kind == "iam-user" else None,
                )
            )

    def add(self, identity: Identity) -> None:
        """Register (or replace) one key."""
        with self._lock:
            self._keys[identity.access_key_id] = identity

    def lookup(self, access_key_id: str | None) -> Identity | None:
        """The identity for a key, or None for keys the lab never issued."""
        if not access_key_id:
            return None
        with self._lock:
            return self._keys.get(access_key_id)

    def assumed(
        self,
        caller: Identity | None,
        *,
        access_key_id: str,
        role_arn: str,
        session_name: str,
        session_tags: dict[str, str],
        role_tags: dict[str, str],
    ) -> Identity:
        """Register the keys AssumeRole issued: read-role sessions of the operator stay control plane, every other
        session is a workload at the caller's location, carrying the role's tags overlaid with the session tags."""
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else self.world.hub_account
        role_name = role_arn.rsplit("/", 1)[-1]
        arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
        if caller is not None and caller.kind in (OPERATOR, CONTROL) and role_name == READ_ROLE:
            identity = Identity(CONTROL, account, access_key_id, arn, role_arn=role_arn, session_name=session_name)
            self.add(identity)
            return identity
        origin = caller.persona if caller is not None else None
        tags = {**role_tags, **session_tags}
        if origin is not None:
            vpc_id, private_ip, public_ip = origin.vpc_id, origin.private_ip, origin.public_ip
            paths = origin.org_paths
        else:
            # the operator's bastion sits in the hub VPC: its sessions reach the endpoints directly
            vpc_id, private_ip, public_ip = self.world.hub_vpc_id or None, OPERATOR_BASTION_IP, None
            paths = (org_path("network"),)
        persona = Persona(
            name=f"session:{role_name}/{session_name}",
            kind="assumed-role",
            account_id=account,
            vpc_id=vpc_id,
            private_ip=private_ip,
            role_arn=role_arn,
            tags=tags,
            session_name=session_name,
            org_id=ORG_ID,
            org_paths=tuple(paths),
            public_ip=public_ip,
        )
        identity = Identity(
            WORKLOAD, account, access_key_id, arn, persona=persona, role_arn=role_arn, session_name=session_name
        )
        self.add(identity)
        return identity
