"""The only policy write the console makes: ModifyVpcEndpoint's PolicyDocument, dry-run first, then re-read.

The document is passed and returned as the exact string AWS stores (DescribeVpcEndpoints' `PolicyDocument`), so
the journal can restore it byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vpce_console.aws.errors import AwsCallError
from vpce_console.errors import AwsError
from vpce_console.policy.vocab import DEFAULT_POLICY_TEXT

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway


@dataclass(frozen=True, slots=True)
class EndpointPolicy:
    """One endpoint's identity and its policy document exactly as DescribeVpcEndpoints returned it."""

    endpoint_id: str
    service_name: str
    """Full service name, e.g. `com.amazonaws.us-east-1.sqs`."""
    vpc_id: str
    owner_id: str | None
    state: str
    policy_text: str
    """PolicyDocument string, byte for byte."""
    policy_reported: bool = True
    """False when AWS returned no PolicyDocument and DEFAULT_POLICY_TEXT stands in for it."""

    @property
    def service(self) -> str:
        """Short service name (`sqs`, `ecr.api`) from the full service name."""
        parts = self.service_name.split(".")
        return ".".join(parts[3:]) if len(parts) > 3 else self.service_name


async def describe_endpoint_policy(
    gateway: AwsGateway, endpoint_id: str, *, account_id: str | None = None
) -> EndpointPolicy:
    """Read one endpoint and its current policy document; AwsError(not-found) when it does not exist."""
    async with gateway.client("ec2", account_id=account_id) as ec2:
        answer = await ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])
    items = answer.get("VpcEndpoints") or []
    item = next((i for i in items if i.get("VpcEndpointId") == endpoint_id), None)
    if item is None:
        raise AwsCallError("not-found", "ec2:DescribeVpcEndpoints", f"endpoint {endpoint_id} not found")
    text = item.get("PolicyDocument")
    return EndpointPolicy(
        endpoint_id=endpoint_id,
        service_name=str(item.get("ServiceName", "")),
        vpc_id=str(item.get("VpcId", "")),
        owner_id=item.get("OwnerId"),
        state=str(item.get("State", "")),
        policy_text=text if isinstance(text, str) else DEFAULT_POLICY_TEXT,
        policy_reported=isinstance(text, str),
    )


async def dry_run_modify_policy(
    gateway: AwsGateway, endpoint_id: str, policy_text: str, *, account_id: str | None = None
) -> bool:
    """ModifyVpcEndpoint with DryRun: True when AWS answered DryRunOperation (permission and syntax OK).

    False means the API ignored DryRun and answered as if it wrote; callers must then treat the write as done.
    Any other refusal (UnauthorizedOperation, a malformed document) raises AwsError.
    """
    try:
        async with gateway.client("ec2", account_id=account_id) as ec2:
            await ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PolicyDocument=policy_text, DryRun=True)
    except AwsError as exc:
        if exc.kind == "dry-run-ok" or getattr(exc, "code", None) == "DryRunOperation":
            return True
        raise
    return False


async def modify_policy(
    gateway: AwsGateway, endpoint_id: str, policy_text: str, *, account_id: str | None = None
) -> None:
    """Write the endpoint's policy document (the one mutation the console makes)."""
    async with gateway.client("ec2", account_id=account_id) as ec2:
        answer = await ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PolicyDocument=policy_text)
    if answer.get("Return") is False:
        raise AwsCallError("other", "ec2:ModifyVpcEndpoint", f"AWS returned false for {endpoint_id}")
