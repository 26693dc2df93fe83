"""AwsGateway against the lab through the real SDK: caller identity, assume-role per account with caching and
refresh before expiry, one error type for SDK failures."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from vpce_console.aws.session import AwsGateway
from vpce_console.config import Config
from vpce_console.connect import Target
from vpce_console.errors import AwsError

pytestmark = pytest.mark.lab


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_assume_role_per_account_is_cached_and_refreshed(
    lab_target: tuple[Config, Target], lab_ready: Mapping[str, Any]
) -> None:
    config, target = lab_target
    spokes = sorted({s["account_id"] for s in lab_ready["spokes"]})
    clock = Clock()

    async def go() -> tuple[list[str], int, int, int]:
        async with AwsGateway(target, config, clock=clock, total_max_attempts=1) as gw:
            me = await gw.caller_identity()
            accounts = []
            for account in (spokes[0], spokes[0], spokes[1]):
                answer = await gw.call("sts", "get_caller_identity", account_id=account)
                accounts.append(str(answer["Account"]))
                assert config.roles.read_role_name in str(answer["Arn"])
            # The caller's own account needs no role.
            own = await gw.call("sts", "get_caller_identity", account_id=me.account_id)
            assert own["Arn"] == me.arn
            first = gw.stats.assume_role_calls
            clock.now += 3600  # past the credentials' lifetime (minus the refresh margin)
            await gw.call("sts", "get_caller_identity", account_id=spokes[0])
            return accounts, first, gw.stats.assume_role_calls, gw.stats.api_calls["sts:AssumeRole"]

    accounts, first, after, wire = asyncio.run(go())
    assert accounts == [spokes[0], spokes[0], spokes[1]]
    assert first == 2  # one per account, reused for the second call
    assert after == 3 and wire == 3  # renewed once the lifetime ran out


def test_role_name_comes_from_config_per_account(
    lab_target: tuple[Config, Target], lab_ready: Mapping[str, Any]
) -> None:
    import dataclasses

    config, target = lab_target
    account = lab_ready["spokes"][0]["account_id"]
    roles = dataclasses.replace(config.roles, per_account={account: "SpecialRead"})
    special = dataclasses.replace(config, roles=roles)

    async def go() -> str:
        async with AwsGateway(target, special, total_max_attempts=1) as gw:
            answer = await gw.call("sts", "get_caller_identity", account_id=account)
            return str(answer["Arn"])

    assert ":assumed-role/SpecialRead/" in asyncio.run(go())


def test_sdk_errors_leave_as_one_error_type(lab_target: tuple[Config, Target]) -> None:
    config, target = lab_target

    async def go() -> AwsError:
        async with AwsGateway(target, config, total_max_attempts=1) as gw:
            try:
                await gw.call("ec2", "describe_vpc_endpoints", VpcEndpointIds=["vpce-0000000000000dead"])
            except AwsError as exc:
                return exc
        raise AssertionError("expected an AwsError")

    err = asyncio.run(go())
    assert err.kind == "not-found" and err.operation == "ec2:DescribeVpcEndpoints"
    assert "\n" not in str(err)


def test_parameter_errors_are_mapped_too(lab_target: tuple[Config, Target]) -> None:
    config, target = lab_target

    async def go() -> AwsError:
        async with AwsGateway(target, config, total_max_attempts=1) as gw:
            try:
                await gw.call("ec2", "describe_vpc_attribute", VpcId=123)
            except AwsError as exc:
                return exc
        raise AssertionError("expected an AwsError")

    err = asyncio.run(go())
    assert err.kind == "invalid" and err.operation == "ec2:DescribeVpcAttribute"


def test_access_denied_is_one_line_naming_the_call(lab_factory: Any) -> None:
    """A real AccessDenied from the lab (an endpoint policy denies a workload) becomes one AwsError line."""
    import json

    from vpce_console.config import Config as PlainConfig

    lab = lab_factory(scale="demo", seed=5, propagation="0:0")
    ready = lab.ready
    operator = Target(
        endpoint_url=ready["endpoint_url"],
        region=ready["region"],
        profile=None,
        access_key_id=ready["operator"]["access_key_id"],
        secret_access_key=ready["operator"]["secret_access_key"],
    )
    persona = next(p for p in ready["personas"] if p["name"] == "web-dev")
    workload = Target(
        endpoint_url=ready["endpoint_url"],
        region=ready["region"],
        profile=None,
        access_key_id=persona["access_key_id"],
        secret_access_key=persona["secret_access_key"],
    )
    deny_all = json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})

    async def go() -> AwsError:
        async with AwsGateway(operator, PlainConfig(), total_max_attempts=1) as gw:
            await gw.call(
                "ec2", "modify_vpc_endpoint", VpcEndpointId=ready["hub"]["endpoints"]["sqs"], PolicyDocument=deny_all
            )
        async with AwsGateway(workload, PlainConfig(), total_max_attempts=1) as gw:
            try:
                await gw.call("sqs", "list_queues")
            except AwsError as exc:
                return exc
        raise AssertionError("expected the endpoint policy to deny")

    err = asyncio.run(go())
    assert err.kind == "access-denied" and not err.retryable
    assert err.operation == "sqs:ListQueues"
    text = str(err)
    assert "\n" not in text and "access denied" in text and "explicit deny in a VPC endpoint policy" in text
