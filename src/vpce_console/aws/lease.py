"""The lease's SDK calls: an SSM parameter in the hub account, created only if absent (`Overwrite=False`).

`PutParameter` without `Overwrite` fails with `ParameterAlreadyExists` when the name exists, so exactly one of
two racing creators succeeds; that is the compare-and-swap `ModifyVpcEndpoint` lacks. IAM the operator needs
(docs/cli/rollout.md, "One writer per endpoint"): `ssm:PutParameter`, `ssm:GetParameter`,
`ssm:DeleteParameter` on `arn:aws:ssm:REGION:HUB_ACCOUNT:parameter/vpce-console/lease/*`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vpce_console.aws.errors import AwsCallError
from vpce_console.errors import AwsError

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway

LEASE_PREFIX = "/vpce-console/lease/"


@dataclass(frozen=True, slots=True)
class StoredLease:
    """The lease parameter as stored: its JSON value and SSM's version number."""

    value: str
    version: int


def lease_name(endpoint_id: str) -> str:
    """The parameter name of one endpoint's lease."""
    return f"{LEASE_PREFIX}{endpoint_id}"


async def create_lease(gateway: AwsGateway, endpoint_id: str, value: str, *, account_id: str | None) -> bool:
    """Create the lease if nobody holds one: True when created, False when it already exists."""
    try:
        async with gateway.client("ssm", account_id=account_id) as ssm:
            await ssm.put_parameter(
                Name=lease_name(endpoint_id),
                Value=value,
                Type="String",
                Overwrite=False,
                Description="vpce-console rollout lease: one writer per endpoint",
            )
    except AwsError as exc:
        if isinstance(exc, AwsCallError) and exc.code == "ParameterAlreadyExists":
            return False
        raise
    return True


async def read_lease(gateway: AwsGateway, endpoint_id: str, *, account_id: str | None) -> StoredLease | None:
    """The current lease, or None when there is none."""
    try:
        async with gateway.client("ssm", account_id=account_id) as ssm:
            answer = await ssm.get_parameter(Name=lease_name(endpoint_id))
    except AwsError as exc:
        if isinstance(exc, AwsCallError) and exc.code == "ParameterNotFound":
            return None
        raise
    parameter = answer.get("Parameter") or {}
    return StoredLease(str(parameter.get("Value", "")), int(parameter.get("Version") or 0))


async def overwrite_lease(gateway: AwsGateway, endpoint_id: str, value: str, *, account_id: str | None) -> int:
    """Renew (or update the journal id of) a lease this process holds; returns the new version."""
    async with gateway.client("ssm", account_id=account_id) as ssm:
        answer = await ssm.put_parameter(Name=lease_name(endpoint_id), Value=value, Type="String", Overwrite=True)
    return int(answer.get("Version") or 0)


async def delete_lease(gateway: AwsGateway, endpoint_id: str, *, account_id: str | None) -> None:
    """Remove the lease; a lease that is already gone is not an error."""
    try:
        async with gateway.client("ssm", account_id=account_id) as ssm:
            await ssm.delete_parameter(Name=lease_name(endpoint_id))
    except AwsError as exc:
        if isinstance(exc, AwsCallError) and exc.code == "ParameterNotFound":
            return
        raise
