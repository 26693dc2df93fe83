"""The seeded world as a client sees it through boto3: hub, endpoints, DNS, SGs, TGW, PHZs, spokes, faults."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

pytestmark = pytest.mark.lab


def test_ready_file_contract(lab_ready: dict[str, Any]) -> None:
    for key in (
        "endpoint_url",
        "region",
        "hub",
        "operator",
        "read_role_name",
        "accounts",
        "spokes",
        "personas",
        "cloudtrail_log_group",
        "seeded_faults",
        "propagation_seconds",
        "config",
    ):
        assert key in lab_ready, key
    assert lab_ready["propagation_seconds"] == [1.0, 2.0]
    assert set(lab_ready["hub"]) >= {"account_id", "vpc_id", "cidr"}
    assert {f["code"] for f in lab_ready["seeded_faults"]} == {
        "phz-missing-association",
        "phz-forbidden-association",
        "phz-stale-association",
        "sg-missing-spoke-cidr",
        "private-dns-enabled-on-shared",
        "alias-target-mismatch",
    }
    kinds = {p["kind"] for p in lab_ready["personas"]}
    assert kinds == {
        "ec2-instance",
        "lambda",
        "ecs-task",
        "eks-irsa",
        "eks-pod-identity",
        "iam-user",
        "assumed-role",
        "aws-service",
    }
    envs = {s["environment"] for s in lab_ready["spokes"]}
    assert {"dev", "staging", "prod", "sensitive"} <= envs
    assert len(lab_ready["spokes"]) >= 10 and len(lab_ready["accounts"]) >= 4


def test_operator_is_hub_account(operator: Any, lab_ready: dict[str, Any]) -> None:
    ident = operator("sts").get_caller_identity()
    assert ident["Account"] == lab_ready["hub"]["account_id"]
    assert ident["Arn"].endswith(":user/vpce-operator")


def test_interface_endpoints_shape(operator: Any, lab_ready: dict[str, Any]) -> None:
    ec2 = operator("ec2")
    hub = lab_ready["hub"]
    eps = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [hub["vpc_id"]]}])["VpcEndpoints"]
    services = {e["ServiceName"].split(".", 3)[3] for e in eps}
    assert {
        "sqs",
        "sts",
        "kms",
        "logs",
        "ssm",
        "ssmmessages",
        "ec2messages",
        "secretsmanager",
        "ecr.api",
        "ecr.dkr",
        "monitoring",
    } <= services
    subnets = {
        s["SubnetId"]: s
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [hub["vpc_id"]]}])["Subnets"]
    }
    sqs = next(e for e in eps if e["ServiceName"] == "com.amazonaws.us-east-1.sqs")
    assert sqs["VpcEndpointType"] == "Interface" and sqs["PrivateDnsEnabled"] is False
    assert 2 <= len(sqs["SubnetIds"]) <= 3
    names = [d["DnsName"] for d in sqs["DnsEntries"]]
    assert len(names) == 1 + len(sqs["SubnetIds"])
    assert names[0].startswith(sqs["VpcEndpointId"] + "-") and names[0].endswith(".sqs.us-east-1.vpce.amazonaws.com")
    assert all(d["HostedZoneId"] == "Z7HUB4ULCMQR5" for d in sqs["DnsEntries"])
    azs = {subnets[s]["AvailabilityZone"] for s in sqs["SubnetIds"]}
    assert {n.split(".")[0].rsplit("-", 3)[-3:][0] for n in names[1:]} and all(
        any(az in n for az in azs) for n in names[1:]
    )
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=sqs["NetworkInterfaceIds"])["NetworkInterfaces"]
    sg_id = sqs["Groups"][0]["GroupId"]
    for eni in enis:
        cidr = ipaddress.ip_network(subnets[eni["SubnetId"]]["CidrBlock"])
        assert ipaddress.ip_address(eni["PrivateIpAddress"]) in cidr
        assert sg_id in {g["GroupId"] for g in eni["Groups"]}
    ecr = next(e for e in eps if e["ServiceName"].endswith(".ecr.api"))
    assert ecr["DnsEntries"][0]["DnsName"].endswith(".api.ecr.us-east-1.vpce.amazonaws.com")


def test_sg_rules_allow_443_from_spokes(operator: Any, lab_ready: dict[str, Any]) -> None:
    ec2 = operator("ec2")
    sqs_id = lab_ready["hub"]["endpoints"]["kms"]
    ep = ec2.describe_vpc_endpoints(VpcEndpointIds=[sqs_id])["VpcEndpoints"][0]
    sg = ec2.describe_security_groups(GroupIds=[ep["Groups"][0]["GroupId"]])["SecurityGroups"][0]
    rule = sg["IpPermissions"][0]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443)
    dev = next(s for s in lab_ready["spokes"] if s["name"] == "dev-app")
    assert dev["cidr"] in {r["CidrIp"] for r in rule["IpRanges"]}


def test_tgw_and_routes(operator: Any, lab_ready: dict[str, Any], spoke_session: Any) -> None:
    ec2 = operator("ec2")
    atts = ec2.describe_transit_gateway_attachments()["TransitGatewayAttachments"]
    vpcs = {a["ResourceId"] for a in atts}
    assert lab_ready["hub"]["vpc_id"] in vpcs
    assert {s["vpc_id"] for s in lab_ready["spokes"]} <= vpcs
    dev = next(s for s in lab_ready["spokes"] if s["name"] == "dev-app")
    spoke_ec2 = spoke_session(dev["account_id"], "ec2")
    tables = spoke_ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [dev["vpc_id"]]}])["RouteTables"]
    routes = [r for t in tables for r in t["Routes"]]
    assert any(r.get("DestinationCidrBlock") == lab_ready["hub"]["cidr"] and r.get("TransitGatewayId") for r in routes)
    vpc = spoke_ec2.describe_vpcs(VpcIds=[dev["vpc_id"]])["Vpcs"][0]
    tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
    assert tags == {"Name": "dev-app", "environment": "dev"}
    attr = spoke_ec2.describe_vpc_attribute(VpcId=dev["vpc_id"], Attribute="enableDnsHostnames")
    assert attr["EnableDnsHostnames"]["Value"] is True


def test_phz_alias_and_associations(operator: Any, lab_ready: dict[str, Any]) -> None:
    r53 = operator("route53")
    zones = {z["Name"]: z for z in r53.list_hosted_zones()["HostedZones"]}
    zone = zones["sqs.us-east-1.amazonaws.com."]
    assert zone["Config"]["PrivateZone"] is True
    records = r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    alias = next(r for r in records if r["Type"] == "A")
    ec2 = operator("ec2")
    ep = ec2.describe_vpc_endpoints(VpcEndpointIds=[lab_ready["hub"]["endpoints"]["sqs"]])["VpcEndpoints"][0]
    assert alias["AliasTarget"]["DNSName"].rstrip(".") == ep["DnsEntries"][0]["DnsName"]
    vpcs = {v["VPCId"] for v in r53.get_hosted_zone(Id=zone["Id"])["VPCs"]}
    faults = {f["code"]: f for f in lab_ready["seeded_faults"]}
    assert faults["phz-stale-association"]["vpc_id"] in vpcs
    assert faults["phz-forbidden-association"]["vpc_id"] in vpcs
    kms_zone = zones["kms.us-east-1.amazonaws.com."]
    kms_vpcs = {v["VPCId"] for v in r53.get_hosted_zone(Id=kms_zone["Id"])["VPCs"]}
    assert faults["phz-missing-association"]["vpc_id"] not in kms_vpcs


def test_seeded_faults_visible(operator: Any, lab_ready: dict[str, Any]) -> None:
    ec2 = operator("ec2")
    ssm = ec2.describe_vpc_endpoints(VpcEndpointIds=[lab_ready["hub"]["endpoints"]["ssm"]])["VpcEndpoints"][0]
    assert ssm["PrivateDnsEnabled"] is True
    mon_id = lab_ready["hub"]["endpoints"]["monitoring"]
    r53 = operator("route53")
    zone = lab_ready["hub"]["zones"]["monitoring"]
    alias = next(r for r in r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"] if r["Type"] == "A")
    assert not alias["AliasTarget"]["DNSName"].startswith(mon_id)
    stale = next(f for f in lab_ready["seeded_faults"] if f["code"] == "phz-stale-association")
    assert not any(stale["vpc_id"] == s["vpc_id"] for s in lab_ready["spokes"])
    assert lab_ready["config"]["forbidden"] == ["environment=prod"]


def test_zones_by_vpc_across_accounts(lab_ready: dict[str, Any], spoke_session: Any) -> None:
    dev = next(s for s in lab_ready["spokes"] if s["name"] == "dev-app")
    r53 = spoke_session(dev["account_id"], "route53")
    zones = r53.list_hosted_zones_by_vpc(VPCId=dev["vpc_id"], VPCRegion="us-east-1")["HostedZoneSummaries"]
    assert {z["HostedZoneId"] for z in zones} == set(lab_ready["hub"]["zones"].values())
    assert {z["Owner"]["OwningAccount"] for z in zones} == {lab_ready["hub"]["account_id"]}


def test_endpoint_bytes_processed_metrics(operator: Any, lab_ready: dict[str, Any]) -> None:
    import datetime as dt

    ep = operator("ec2").describe_vpc_endpoints(VpcEndpointIds=[lab_ready["hub"]["endpoints"]["sqs"]])["VpcEndpoints"][
        0
    ]
    end = dt.datetime.now(dt.UTC)
    result = operator("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "e0",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/PrivateLinkEndpoints",
                        "MetricName": "BytesProcessed",
                        "Dimensions": [
                            {"Name": "Endpoint Type", "Value": "Interface"},
                            {"Name": "Service Name", "Value": ep["ServiceName"]},
                            {"Name": "VPC Endpoint Id", "Value": ep["VpcEndpointId"]},
                            {"Name": "VPC Id", "Value": ep["VpcId"]},
                        ],
                    },
                    "Period": 3600,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=end - dt.timedelta(hours=24),
        EndTime=end,
    )["MetricDataResults"][0]
    assert len(result["Values"]) >= 23 and all(v > 0 for v in result["Values"])


def test_seed_makes_the_world_repeatable(lab_ready: dict[str, Any], lab_factory: Any) -> None:
    twin = lab_factory(scale="demo", seed=7, propagation="1:2").ready
    assert twin["endpoint_url"] != lab_ready["endpoint_url"]
    for key in ("hub", "operator", "spokes", "personas", "seeded_faults", "accounts"):
        assert twin[key] == lab_ready[key], key
