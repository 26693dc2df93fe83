"""Probe calls: one cheap read call as ourselves or as an assumed probe role, answered with AWS's raw error.

The services decide what an answer means (endpoint explicit/implicit deny, another policy type, passed the
endpoint), so this module returns the error code and the full, untruncated message. Probes make exactly one
attempt per call: a retried call would hide the very answer we are sampling.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpce_console.aws.errors import map_exception

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway

SESSION_NAME = "vpce-console-probe"
CREDENTIAL_LIFETIME = 2700.0
"""Seconds after which assumed probe credentials are renewed (they last an hour)."""

SUPPORTED = frozenset(
    {
        "sqs:ListQueues",
        "sqs:GetQueueAttributes",
        "kms:ListKeys",
        "kms:DescribeKey",
        "sts:GetCallerIdentity",
        "logs:DescribeLogGroups",
        "secretsmanager:ListSecrets",
        "ssm:DescribeParameters",
    }
)
"""`service:Action` probe calls this module knows how to make."""


@dataclass(frozen=True, slots=True)
class ProbeCallResult:
    """The raw answer to one probe call."""

    ok: bool
    error_code: str | None = None
    message: str = ""
    """AWS's full error message (not shortened: the policy type is near its end)."""
    kind: str | None = None
    """AwsError kind for failures before or around AWS's answer (connection, credentials, throttled, …)."""
    http_status: int | None = None
    answered_at: float = 0.0
    """Wall-clock time (epoch seconds) the answer arrived."""


def queue_url(endpoint_url: str | None, region: str, queue_arn: str) -> str:
    """The QueueUrl for a queue ARN (`arn:aws:sqs:<region>:<account>:<name>`)."""
    parts = queue_arn.split(":")
    account, name = (parts[4], parts[5]) if len(parts) >= 6 else ("000000000000", queue_arn)
    base = endpoint_url.rstrip("/") if endpoint_url else f"https://sqs.{region}.amazonaws.com"
    return f"{base}/{account}/{name}"


class ProbeRunner:
    """Makes probe calls, caching one single-attempt client per (identity, service)."""

    def __init__(self, gateway: AwsGateway) -> None:
        self.gateway = gateway
        self._stack = AsyncExitStack()
        self._clients: dict[tuple[str, str], Any] = {}
        self._creds: dict[str, tuple[dict[str, Any], float]] = {}
        self._session: Any = None

    async def __aenter__(self) -> ProbeRunner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every probe client."""
        self._clients.clear()
        with contextlib.suppress(Exception):
            await self._stack.aclose()

    def _config(self) -> Any:
        from aiobotocore.config import AioConfig

        aws = self.gateway.config.aws
        return AioConfig(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=min(aws.connect_timeout, 5.0),
            read_timeout=min(aws.read_timeout, 10.0),
        )

    async def _credentials(self, role_arn: str, session_tags: Mapping[str, str]) -> dict[str, Any]:
        key = role_arn + "|" + ",".join(f"{k}={v}" for k, v in sorted(session_tags.items()))
        cached = self._creds.get(key)
        if cached is not None and time.time() - cached[1] < CREDENTIAL_LIFETIME:
            return cached[0]
        params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME}
        if session_tags:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in session_tags.items()]
        async with self.gateway.client("sts") as sts:
            answer = await sts.assume_role(**params)
        creds = answer["Credentials"]
        kwargs = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds.get("SessionToken"),
        }
        self._creds[key] = (kwargs, time.time())
        for client_key in [k for k in self._clients if k[0] == key]:
            self._clients.pop(client_key)
        return kwargs

    async def _client(
        self,
        service: str,
        role_arn: str | None,
        session_tags: Mapping[str, str],
        keys: tuple[str, str] | None = None,
    ) -> Any:
        from aiobotocore.session import AioSession

        target = self.gateway.target
        identity = "self"
        kwargs: dict[str, Any] = {"region_name": self.gateway.region, "config": self._config()}
        if target.endpoint_url:
            kwargs["endpoint_url"] = target.endpoint_url
        if role_arn:
            kwargs.update(await self._credentials(role_arn, session_tags))
            identity = role_arn + "|" + ",".join(f"{k}={v}" for k, v in sorted(session_tags.items()))
        elif keys is not None:
            kwargs.update(aws_access_key_id=keys[0], aws_secret_access_key=keys[1])
            identity = "keys|" + keys[0]
        elif target.access_key_id and target.secret_access_key:
            kwargs.update(aws_access_key_id=target.access_key_id, aws_secret_access_key=target.secret_access_key)
        key = (identity, service)
        client = self._clients.get(key)
        if client is None:
            if self._session is None:
                self._session = AioSession(profile=target.profile) if target.profile else AioSession()
            client = await self._stack.enter_async_context(self._session.create_client(service, **kwargs))
            self._clients[key] = client
        return client

    async def call(
        self,
        action: str,
        resource: str,
        *,
        role_arn: str | None = None,
        session_tags: Mapping[str, str] | None = None,
        keys: tuple[str, str] | None = None,
    ) -> ProbeCallResult:
        """Make one probe call; never raises for AWS answers (they are the data), only for unsupported actions."""
        import botocore.exceptions as bex

        if action not in SUPPORTED:
            raise ValueError(f"no probe call for {action}")
        service = action.split(":", 1)[0]
        tags = dict(session_tags or {})
        try:
            client = await self._client(service, role_arn, tags, keys)
            await self._invoke(client, action, resource)
        except bex.ClientError as exc:
            error = exc.response.get("Error", {}) or {}
            return ProbeCallResult(
                ok=False,
                error_code=str(error.get("Code") or "Unknown"),
                message=str(error.get("Message") or ""),
                http_status=exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
                answered_at=time.time(),
            )
        except Exception as exc:
            mapped = map_exception(exc, operation=action)
            return ProbeCallResult(
                ok=False,
                error_code=getattr(mapped, "code", None),
                message=str(mapped),
                kind=mapped.kind,
                answered_at=time.time(),
            )
        return ProbeCallResult(ok=True, answered_at=time.time())

    async def _invoke(self, client: Any, action: str, resource: str) -> None:
        if action == "sqs:ListQueues":
            await client.list_queues()
        elif action == "sqs:GetQueueAttributes":
            url = queue_url(self.gateway.target.endpoint_url, self.gateway.region, resource)
            await client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        elif action == "kms:ListKeys":
            await client.list_keys(Limit=1)
        elif action == "kms:DescribeKey":
            await client.describe_key(KeyId=resource)
        elif action == "sts:GetCallerIdentity":
            await client.get_caller_identity()
        elif action == "logs:DescribeLogGroups":
            await client.describe_log_groups(limit=1)
        elif action == "secretsmanager:ListSecrets":
            await client.list_secrets(MaxResults=1)
        elif action == "ssm:DescribeParameters":
            await client.describe_parameters(MaxResults=1)
