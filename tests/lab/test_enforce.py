"""Endpoint-policy enforcement through boto3: per credential type, tagged sessions, NAT bypass, exact errors."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.lab

ALLOW_ALL = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}


make_client: Any = None


class World:
    """Helpers around the module's own lab."""

    def __init__(self, ready: dict[str, Any]) -> None:
        self.ready = ready
        self.personas = {p["name"]: p for p in ready["personas"]}
        op = ready["operator"]
        self.op_key = (op["access_key_id"], op["secret_access_key"])

    def op(self, service: str) -> Any:
        return make_client(self.ready, service, *self.op_key)

    def as_persona(self, name: str, service: str) -> Any:
        p = self.personas[name]
        return make_client(self.ready, service, p["access_key_id"], p["secret_access_key"])

    def set_policy(self, service: str, policy: dict[str, Any]) -> None:
        self.op("ec2").modify_vpc_endpoint(
            VpcEndpointId=self.ready["hub"]["endpoints"][service], PolicyDocument=json.dumps(policy)
        )

    def in_account(self, account: str, service: str) -> Any:
        creds = self.op("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{self.ready['read_role_name']}", RoleSessionName="tests"
        )["Credentials"]
        return make_client(self.ready, service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


@pytest.fixture(scope="module")
def world(own_lab: Any, lab_client: Any) -> Iterator[World]:
    global make_client
    make_client = lab_client
    w = World(own_lab.ready)
    yield w


@pytest.fixture
def reset(world: World) -> Iterator[None]:
    yield
    for service in ("sts", "sqs", "kms", "ec2"):
        world.set_policy(service, ALLOW_ALL)


def deny_when(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": condition},
        ],
    }


ASSOCIATED = ["web-dev", "client-fn", "orders-task", "payments-irsa", "ledger-pod", "ci-user", "ops-assumed"]


def _denied(world: World, names: list[str]) -> set[str]:
    out = set()
    for name in names:
        try:
            world.as_persona(name, "sts").get_caller_identity()
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "AccessDenied"
            out.add(name)
    return out


@pytest.mark.parametrize(
    ("target", "condition"),
    [
        ("web-dev", lambda p: {"StringEquals": {"aws:Ec2InstanceSourceVpc": p["vpc_id"]}}),
        ("client-fn", lambda p: {"ArnEquals": {"lambda:SourceFunctionArn": p["function_arn"]}}),
        ("orders-task", lambda p: {"ArnEquals": {"aws:PrincipalArn": p["role_arn"]}}),
        ("payments-irsa", lambda p: {"StringEquals": {"aws:FederatedProvider": p["oidc_provider_arn"]}}),
        ("ledger-pod", lambda p: {"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": p["namespace"]}}),
        ("ci-user", lambda p: {"StringEquals": {"aws:username": "ci-deployer"}}),
        ("ops-assumed", lambda p: {"StringEquals": {"aws:PrincipalTag/team": "ops"}}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_credential_type_sees_its_own_keys(world: World, reset: None, target: str, condition: Any) -> None:
    world.set_policy("sts", deny_when(condition(world.personas[target])))
    assert _denied(world, ASSOCIATED) == {target}


def test_vpc_source_ip_names_the_spoke_and_source_vpc_names_the_hub(world: World, reset: None) -> None:
    web = world.personas["web-dev"]
    world.set_policy("sts", deny_when({"IpAddress": {"aws:VpcSourceIp": f"{web['private_ip']}/32"}}))
    assert _denied(world, ASSOCIATED) == {"web-dev"}
    world.set_policy("sts", deny_when({"StringEquals": {"aws:SourceVpc": world.ready["hub"]["vpc_id"]}}))
    assert _denied(world, ASSOCIATED) == set(ASSOCIATED)


def test_nat_bypass_for_unassociated_vpc(world: World, reset: None) -> None:
    world.set_policy("kms", {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})
    legacy = world.personas["legacy-ec2"]
    key = world.as_persona("legacy-ec2", "kms").describe_key(KeyId="alias/staging-data")["KeyMetadata"]
    assert key["Arn"].startswith(f"arn:aws:kms:us-east-1:{legacy['account_id']}:key/")
    with pytest.raises(ClientError) as denied:
        world.as_persona("web-dev", "kms").describe_key(KeyId="alias/dev-data")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    trail = world.in_account(legacy["account_id"], "cloudtrail")
    events = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": legacy["instance_id"]}], MaxResults=5
    )["Events"]
    record = json.loads(next(e for e in events if e["EventName"] == "DescribeKey")["CloudTrailEvent"])
    assert record["sourceIPAddress"] == legacy["public_ip"]
    assert "vpcEndpointId" not in record


def test_exact_errors_per_protocol(world: World, reset: None) -> None:
    web = world.personas["web-dev"]
    arn = f"arn:aws:sts::{web['account_id']}:assumed-role/dev-web-instance/{web['instance_id']}"
    only_s3 = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}
    for service in ("sts", "ec2"):
        world.set_policy(service, only_s3)
    world.set_policy("sqs", deny_when({"StringEquals": {"aws:PrincipalAccount": web["account_id"]}}))

    with pytest.raises(ClientError) as sts:
        world.as_persona("web-dev", "sts").get_caller_identity()
    assert sts.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert sts.value.response["Error"] == {
        "Type": "Sender",
        "Code": "AccessDenied",
        "Message": f"User: {arn} is not authorized to perform: sts:GetCallerIdentity "
        "because no VPC endpoint policy allows the sts:GetCallerIdentity action",
    }

    with pytest.raises(ClientError) as ec2:
        world.as_persona("web-dev", "ec2").describe_vpcs()
    assert ec2.value.response["Error"]["Code"] == "UnauthorizedOperation"
    assert ec2.value.response["Error"]["Message"].endswith(
        f"User: {arn} is not authorized to perform: ec2:DescribeVpcs "
        "because no VPC endpoint policy allows the ec2:DescribeVpcs action"
    )

    queue = f"{world.ready['endpoint_url']}/{web['account_id']}/orders-dev"
    with pytest.raises(ClientError) as sqs:
        world.as_persona("web-dev", "sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])
    err = sqs.value.response["Error"]
    assert err["Code"] == "AccessDenied" and err["Type"] == "Sender"
    assert err["Message"] == (
        f"User: {arn} is not authorized to perform: sqs:GetQueueAttributes on resource: "
        f"arn:aws:sqs:us-east-1:{web['account_id']}:orders-dev with an explicit deny in a VPC endpoint policy"
    )
    assert sqs.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"] == "AccessDenied;Sender"


def test_operator_is_never_subject_to_endpoint_policies(world: World, reset: None) -> None:
    world.set_policy("ec2", {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})
    assert world.op("ec2").describe_vpc_endpoints(MaxResults=5)["VpcEndpoints"]


def test_tagged_assumed_role_carries_session_tags_and_caller_location(world: World, reset: None) -> None:
    web = world.personas["web-dev"]
    world.set_policy("sqs", deny_when({"StringEquals": {"aws:PrincipalTag/tier": "blue"}}))
    sts = world.as_persona("web-dev", "sts")
    role = f"arn:aws:iam::{web['account_id']}:role/ops-readonly"
    queue = f"{world.ready['endpoint_url']}/{web['account_id']}/orders-dev"
    clients = {}
    for tier in ("blue", "green"):
        creds = sts.assume_role(RoleArn=role, RoleSessionName=f"probe-{tier}", Tags=[{"Key": "tier", "Value": tier}])[
            "Credentials"
        ]
        clients[tier] = make_client(
            world.ready, "sqs", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
    assert clients["green"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    with pytest.raises(ClientError) as blue:
        clients["blue"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    assert "assumed-role/ops-readonly/probe-blue is not authorized" in blue.value.response["Error"]["Message"]
    # the session inherits web-dev's location: its private IP is aws:VpcSourceIp
    world.set_policy("sqs", deny_when({"IpAddress": {"aws:VpcSourceIp": f"{web['private_ip']}/32"}}))
    with pytest.raises(ClientError):
        clients["green"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    # and the role's own tags (team=ops) are principal tags of the session too
    world.set_policy("sqs", deny_when({"StringEquals": {"aws:PrincipalTag/team": "ops"}}))
    with pytest.raises(ClientError):
        clients["green"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])


def test_operator_sessions_call_from_the_hub_bastion(world: World, reset: None) -> None:
    web = world.personas["web-dev"]
    creds = world.op("sts").assume_role(
        RoleArn=f"arn:aws:iam::{web['account_id']}:role/ops-readonly",
        RoleSessionName="probe-op",
        Tags=[{"Key": "tier", "Value": "red"}],
    )["Credentials"]
    world.set_policy("sts", deny_when({"StringEquals": {"aws:PrincipalTag/tier": "red"}}))
    client = make_client(world.ready, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    with pytest.raises(ClientError):
        client.get_caller_identity()


def test_network_activity_record_in_hub_not_in_caller_account(world: World, reset: None) -> None:
    web = world.personas["web-dev"]
    sqs_endpoint = world.ready["hub"]["endpoints"]["sqs"]
    world.set_policy("sqs", deny_when({"StringEquals": {"aws:PrincipalTag/team": "web"}}))
    queue = f"{world.ready['endpoint_url']}/{web['account_id']}/audit-dev"
    with pytest.raises(ClientError):
        world.as_persona("web-dev", "sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    hub = world.ready["hub"]["account_id"]
    pattern = f'{{ $.errorCode = "VpceAccessDenied" && $.vpcEndpointId = "{sqs_endpoint}" }}'
    events = world.op("logs").filter_log_events(logGroupName=world.ready["cloudtrail_log_group"], filterPattern=pattern)
    records = [json.loads(e["message"]) for e in events["events"]]
    record = next(r for r in records if r["userIdentity"]["accountId"] == web["account_id"])
    assert record["eventVersion"] == "1.09"
    assert record["eventCategory"] == "NetworkActivity" and record["eventType"] == "AwsVpceEvent"
    assert record["errorMessage"] == "The request was denied due to a VPC endpoint policy"
    assert record["userIdentity"]["type"] == "AWSAccount" and "arn" not in record["userIdentity"]
    assert record["userIdentity"]["principalId"]
    assert record["recipientAccountId"] == hub == record["vpcEndpointAccountId"]
    assert record["sourceIPAddress"] == web["private_ip"]
    assert (record["eventSource"], record["eventName"], record["awsRegion"]) == (
        "sqs.amazonaws.com",
        "GetQueueAttributes",
        "us-east-1",
    )
    assert len(record["eventID"]) == 36 and record["eventTime"].endswith("Z")
    caller_logs = world.in_account(web["account_id"], "logs")
    mine = caller_logs.filter_log_events(
        logGroupName=world.ready["cloudtrail_log_group"], filterPattern='{ $.errorCode = "VpceAccessDenied" }'
    )
    assert mine["events"] == []


def test_management_event_for_modify_and_lookup_events(world: World, reset: None) -> None:
    endpoint = world.ready["hub"]["endpoints"]["kms"]
    policy = deny_when({"StringEquals": {"aws:PrincipalTag/team": "nobody"}})
    world.set_policy("kms", policy)
    trail = world.op("cloudtrail")
    events = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": endpoint}], MaxResults=1
    )
    assert len(events["Events"]) == 1 and events.get("NextToken")
    record = json.loads(events["Events"][0]["CloudTrailEvent"])
    assert record["eventName"] == "ModifyVpcEndpoint" and record["eventCategory"] == "Management"
    assert record["userIdentity"]["arn"].endswith(":user/vpce-operator")
    assert json.loads(record["requestParameters"]["ModifyVpcEndpointRequest"]["PolicyDocument"]) == policy
    assert record["recipientAccountId"] == world.ready["hub"]["account_id"]
    with pytest.raises(ClientError) as two:
        trail.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "ModifyVpcEndpoint"},
                {"AttributeKey": "ReadOnly", "AttributeValue": "false"},
            ]
        )
    assert two.value.response["Error"]["Code"] == "InvalidLookupAttributesException"
    with pytest.raises(ClientError) as big:
        trail.lookup_events(MaxResults=51)
    assert big.value.response["Error"]["Code"] == "InvalidMaxResultsException"


def test_reset_policy_and_private_dns_stick(world: World, reset: None) -> None:
    ec2 = world.op("ec2")
    endpoint = world.ready["hub"]["endpoints"]["logs"]
    ec2.modify_vpc_endpoint(
        VpcEndpointId=endpoint, PolicyDocument=json.dumps(deny_when({"Bool": {"aws:SecureTransport": "false"}}))
    )
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, ResetPolicy=True, PrivateDnsEnabled=True)
    ep = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]
    assert json.loads(ep["PolicyDocument"]) == ALLOW_ALL and ep["PrivateDnsEnabled"] is True
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PrivateDnsEnabled=False)
    assert ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]["PrivateDnsEnabled"] is False
    with pytest.raises(ClientError) as dry:
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PolicyDocument=json.dumps(ALLOW_ALL), DryRun=True)
    assert dry.value.response["Error"]["Code"] == "DryRunOperation"


def test_filter_log_events_and_lookup_events_page(world: World, reset: None) -> None:
    for _ in range(3):
        world.set_policy("ec2", ALLOW_ALL)
    logs = world.op("logs")
    group = world.ready["cloudtrail_log_group"]
    pattern = '{ $.eventName = "ModifyVpcEndpoint" }'
    everything = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
    assert len(everything) >= 3
    paged = [
        e["eventId"]
        for p in logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, filterPattern=pattern, PaginationConfig={"PageSize": 2}
        )
        for e in p["events"]
    ]
    assert paged == [e["eventId"] for e in everything]
    trail = world.op("cloudtrail")
    attr = [{"AttributeKey": "EventName", "AttributeValue": "ModifyVpcEndpoint"}]
    first = trail.lookup_events(LookupAttributes=attr, MaxResults=2)
    assert len(first["Events"]) == 2
    second = trail.lookup_events(LookupAttributes=attr, MaxResults=2, NextToken=first["NextToken"])
    assert {e["EventId"] for e in first["Events"]}.isdisjoint({e["EventId"] for e in second["Events"]})
    assert first["Events"][0]["EventTime"] >= second["Events"][0]["EventTime"]  # newest first


def test_endpoint_created_through_the_api_gets_realistic_enis_and_dns(world: World) -> None:
    ec2 = world.op("ec2")
    hub = world.ready["hub"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [hub["vpc_id"]]}])["Subnets"][:2]
    sg = ec2.create_security_group(GroupName="vpce-sns-test", Description="test", VpcId=hub["vpc_id"])["GroupId"]
    created = ec2.create_vpc_endpoint(
        VpcId=hub["vpc_id"],
        ServiceName="com.amazonaws.us-east-1.sns",
        VpcEndpointType="Interface",
        SubnetIds=[s["SubnetId"] for s in subnets],
        SecurityGroupIds=[sg],
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]
    ep = ec2.describe_vpc_endpoints(VpcEndpointIds=[created["VpcEndpointId"]])["VpcEndpoints"][0]
    names = [d["DnsName"] for d in ep["DnsEntries"]]
    assert len(names) == 3 and names[0].endswith(".sns.us-east-1.vpce.amazonaws.com")
    cidrs = {s["SubnetId"]: s["CidrBlock"] for s in subnets}
    for eni in ec2.describe_network_interfaces(NetworkInterfaceIds=ep["NetworkInterfaceIds"])["NetworkInterfaces"]:
        assert ipaddress.ip_address(eni["PrivateIpAddress"]) in ipaddress.ip_network(cidrs[eni["SubnetId"]])
        assert [g["GroupId"] for g in eni["Groups"]] == [sg]
        assert eni["InterfaceType"] == "vpc_endpoint"


def test_traffic_generator_makes_denials_flow(world: World, reset: None) -> None:
    import time
    import urllib.request

    world.set_policy("kms", {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})
    world.set_policy("sts", {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})
    started = int(time.time() * 1000)

    def set_rate(rate: float) -> dict[str, Any]:
        req = urllib.request.Request(
            f"{world.ready['endpoint_url']}/lab-api/traffic", data=json.dumps({"rate": rate}).encode(), method="POST"
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())  # type: ignore[no-any-return]

    set_rate(40)
    try:
        logs = world.op("logs")
        pattern = '{ $.errorCode = "VpceAccessDenied" && ($.eventSource = "kms.*" || $.eventSource = "sts.*") }'
        deadline = time.monotonic() + 20
        found: list[Any] = []
        while not found and time.monotonic() < deadline:
            time.sleep(0.3)
            found = logs.filter_log_events(
                logGroupName=world.ready["cloudtrail_log_group"], filterPattern=pattern, startTime=started
            )["events"]
    finally:
        assert set_rate(0)["calls"] > 0
    assert found


def test_cross_account_association_needs_an_authorization(world: World) -> None:
    dev = next(s for s in world.ready["spokes"] if s["name"] == "dev-app")
    spoke_ec2 = world.in_account(dev["account_id"], "ec2")
    vpc = spoke_ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    zone = world.ready["hub"]["zones"]["sqs"]
    hub_r53 = world.op("route53")
    spoke_r53 = world.in_account(dev["account_id"], "route53")
    target = {"VPCRegion": "us-east-1", "VPCId": vpc}
    with pytest.raises(ClientError) as refused:
        spoke_r53.associate_vpc_with_hosted_zone(HostedZoneId=zone, VPC=target)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    created = hub_r53.create_vpc_association_authorization(HostedZoneId=zone, VPC=target)
    assert created["HostedZoneId"] == zone and created["VPC"] == target
    assert hub_r53.list_vpc_association_authorizations(HostedZoneId=zone)["VPCs"] == [target]
    with pytest.raises(ClientError) as not_owner:
        spoke_r53.create_vpc_association_authorization(HostedZoneId=zone, VPC=target)
    assert not_owner.value.response["Error"]["Code"] == "NoSuchHostedZone"
    spoke_r53.associate_vpc_with_hosted_zone(HostedZoneId=zone, VPC=target)
    assert vpc in {v["VPCId"] for v in hub_r53.get_hosted_zone(Id=zone)["VPCs"]}
    hub_r53.delete_vpc_association_authorization(HostedZoneId=zone, VPC=target)
    assert hub_r53.list_vpc_association_authorizations(HostedZoneId=zone)["VPCs"] == []
    with pytest.raises(ClientError) as gone:
        hub_r53.delete_vpc_association_authorization(HostedZoneId=zone, VPC=target)
    assert gone.value.response["Error"]["Code"] == "VPCAssociationAuthorizationNotFound"
    hub_r53.disassociate_vpc_from_hosted_zone(HostedZoneId=zone, VPC=target)


def test_live_tail_streams_new_denials(world: World, reset: None) -> None:
    import threading

    import boto3
    from botocore.config import Config

    op = world.ready["operator"]
    logs = boto3.client(
        "logs",
        endpoint_url=world.ready["endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id=op["access_key_id"],
        aws_secret_access_key=op["secret_access_key"],
        config=Config(retries={"total_max_attempts": 1}, inject_host_prefix=False, read_timeout=20),
    )
    group = f"arn:aws:logs:us-east-1:{world.ready['hub']['account_id']}:log-group:{world.ready['cloudtrail_log_group']}"
    stream = logs.start_live_tail(
        logGroupIdentifiers=[group], logEventFilterPattern='{ $.errorCode = "VpceAccessDenied" }'
    )["responseStream"]
    received: list[dict[str, Any]] = []
    kinds: list[str] = []
    done = threading.Event()

    def consume() -> None:
        for event in stream:
            kinds.extend(event)
            for result in event.get("sessionUpdate", {}).get("sessionResults", []):
                received.append(json.loads(result["message"]))
            if received:
                done.set()
                return

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    world.set_policy("sqs", deny_when({"StringEquals": {"aws:PrincipalTag/team": "clients"}}))
    fn = world.personas["client-fn"]
    queue = f"{world.ready['endpoint_url']}/{fn['account_id']}/orders-sensitive"
    with pytest.raises(ClientError):
        world.as_persona("client-fn", "sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    assert done.wait(10), "no live-tail update carried the denial"
    stream.close()
    assert kinds[0] == "sessionStart"
    assert received[0]["errorCode"] == "VpceAccessDenied"
    assert received[0]["userIdentity"]["accountId"] == fn["account_id"]


def test_sts_denials_leave_no_network_event(world: World, reset: None) -> None:
    """STS is not a network-activity event source (facts §4b): the caller still gets AccessDenied."""
    import time

    started = int(time.time() * 1000)
    world.set_policy("sts", deny_when({"StringEquals": {"aws:PrincipalTag/team": "orders"}}))
    with pytest.raises(ClientError):
        world.as_persona("orders-task", "sts").get_caller_identity()
    events = world.op("logs").filter_log_events(
        logGroupName=world.ready["cloudtrail_log_group"],
        filterPattern='{ $.eventSource = "sts.amazonaws.com" && $.errorCode = "VpceAccessDenied" }',
        startTime=started,
    )["events"]
    assert events == []
