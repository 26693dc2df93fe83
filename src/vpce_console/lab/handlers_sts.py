"""STS: who the caller is and the roles it assumes (session tags the enforcer reads)."""

from __future__ import annotations

import re
from typing import Any

from vpce_console.lab import errors
from vpce_console.lab.calls import (
    Call,
)
from vpce_console.lab.errors import WireResponse
from vpce_console.lab.lab_state import LabState
from vpce_console.lab.personas import Identity


class StsHandlers(LabState):
    """STS calls the lab answers itself."""

    def _caller_identity(self, identity: Identity) -> WireResponse:
        user_id = identity.user_identity().get("principalId", identity.access_key_id)
        body = (
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
            f"<Arn>{identity.arn}</Arn><UserId>{user_id}</UserId><Account>{identity.account_id}</Account>"
            f"</GetCallerIdentityResult><ResponseMetadata><RequestId>{errors.request_id()}</RequestId>"
            "</ResponseMetadata></GetCallerIdentityResponse>"
        )
        return errors.xml_ok(body)

    def _assume_role(
        self, environ: dict[str, Any], call: Call, identity: Identity | None, account: str | None
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        status, headers, data = self._forward(environ, call.body, account)
        if not status.startswith("200"):
            return status, headers, data
        match = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", data)
        if match is None:
            return status, headers, data
        role_arn = str(call.params.get("RoleArn", ""))
        tags: dict[str, str] = {}
        i = 1
        while f"Tags.member.{i}.Key" in call.params:
            tags[call.params[f"Tags.member.{i}.Key"]] = call.params.get(f"Tags.member.{i}.Value", "")
            i += 1
        self.registry.assumed(
            identity,
            access_key_id=match.group(1).decode(),
            role_arn=role_arn,
            session_name=str(call.params.get("RoleSessionName", "session")),
            session_tags=tags,
            role_tags=self._role_tags(role_arn),
        )
        return status, headers, data

    def _role_tags(self, role_arn: str) -> dict[str, str]:
        from moto.iam.models import iam_backends

        parts = role_arn.split(":")
        if len(parts) < 6:
            return {}
        with self.lock:
            if parts[4] not in iam_backends:
                # No IAM backend means no role and no tags; creating one loads every managed policy (~1 s
                # under the lock), which stalled every request once per spoke account at org scale.
                return {}
            try:
                role = iam_backends[parts[4]]["aws"].get_role(parts[5].rsplit("/", 1)[-1])
            except Exception:
                return {}
            tags = role.tags
            if isinstance(tags, dict):
                return {str(k): str(v["Value"]) if isinstance(v, dict) else str(v) for k, v in tags.items()}
            return {str(t["Key"]): str(t["Value"]) for t in tags}
