"""The seeder: creates the lab world's accounts, VPCs, endpoints, zones and roles in moto's backends."""

from __future__ import annotations

import importlib
import ipaddress
import json
import os
import random
import string
import tempfile
from typing import Any

from vpce_console.lab.world import (
    AZS,
    HUB_CIDR,
    LOG_GROUP,
    OPERATOR_BASTION_IP,
    READ_ROLE,
    REGION,
    VPCE_ZONE_ID,
    Spoke,
    World,
    service_dns_label,
    zone_name,
)
from vpce_console.policy.vocab import DEFAULT_POLICY_TEXT


class _Rng:
    """Repeatable random values for keys and suffixes (moto's own ids come from its seeded mock_random)."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def chars(self, n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def key(self, prefix: str) -> tuple[str, str]:
        return prefix + self.chars(16, string.ascii_uppercase + string.digits), self.chars(
            40, string.ascii_letters + string.digits
        )

    def host(self, cidr: str, used: set[str]) -> str:
        net = ipaddress.ip_network(cidr)
        while True:
            ip = str(net[self.r.randint(10, net.num_addresses - 6)])
            if ip not in used:
                used.add(ip)
                return ip


def _backends() -> dict[str, Any]:
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # 6,500 AMIs cost ~1.3 s per account
    if "MOTO_AMIS_PATH" not in os.environ:  # and ~1.3 s to parse at import; the lab launches no instances
        empty = os.path.join(tempfile.gettempdir(), "vpce-lab-no-amis.json")
        if not os.path.exists(empty):
            with open(empty, "w", encoding="utf-8") as fh:
                fh.write("[]")
        os.environ["MOTO_AMIS_PATH"] = empty
    from moto.ec2.models import ec2_backends
    from moto.iam.models import iam_backends
    from moto.kms.models import kms_backends
    from moto.logs.models import logs_backends
    from moto.route53.models import route53_backends
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.sqs.models import sqs_backends
    from moto.ssm.models import ssm_backends

    return {
        "ec2": ec2_backends,
        "iam": iam_backends,
        "kms": kms_backends,
        "logs": logs_backends,
        "route53": route53_backends,
        "secretsmanager": secretsmanager_backends,
        "sqs": sqs_backends,
        "ssm": ssm_backends,
    }


class _Seeder:
    """Builds the world into moto's in-process backends."""

    def __init__(self, scale: str, seed: int) -> None:
        from moto.moto_api._internal import mock_random

        mock_random.seed(seed)
        self.b = _backends()
        self.rng = _Rng(seed)
        self.world = World(scale=scale, seed=seed)
        self.used_ips: set[str] = set()
        self.tgw_id = ""
        self.hub_rt_id = ""
        self.sg_by_service: dict[str, str] = {}
        self.sg_cidrs: dict[str, list[str]] = {}
        self.sg_cidr: dict[str, str] = {}
        self.shared_kms_key: Any = None
        """vpc id -> the CIDR SG rules use for it (an account supernet at org scale, the rule limit is 60)."""

    def ec2(self, account: str) -> Any:
        return self.b["ec2"][account][REGION]

    def r53(self) -> Any:
        return self.b["route53"][self.world.hub_account]["aws"]

    # -- accounts and identities ---------------------------------------------------------------------------

    def operator(self) -> None:
        iam = self.b["iam"][self.world.hub_account]["aws"]
        iam.create_user(REGION, "vpce-operator", tags=[{"Key": "purpose", "Value": "lab operator"}])
        key = iam.create_access_key("vpce-operator")
        self.world.operator_key = key.access_key_id
        self.world.operator_secret = key.secret_access_key

    def read_role(self, account: str) -> None:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{self.world.hub_account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam = self.b["iam"][account]["aws"]
        iam.create_role(READ_ROLE, json.dumps(trust), "/", None, "vpce-console read-only inventory", [], None)

    def role(self, account: str, name: str, tags: dict[str, str], service: str = "ec2.amazonaws.com") -> str:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        iam = self.b["iam"][account]["aws"]
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        role = iam.create_role(name, json.dumps(trust), "/", None, f"lab workload role {name}", tag_list, None)
        return str(role.arn)

    # -- hub -----------------------------------------------------------------------------------------------

    def hub(self, services: tuple[str, ...]) -> None:
        w = self.world
        ec2 = self.ec2(w.hub_account)
        vpc = ec2.create_vpc(HUB_CIDR, tags=[{"Key": "Name", "Value": "network-hub-endpoints"}])
        vpc.enable_dns_hostnames = True
        w.hub_vpc_id = vpc.id
        subnets = []
        for i, az in enumerate(AZS):
            sub = ec2.create_subnet(
                vpc.id,
                f"10.0.{i}.0/24",
                availability_zone=az,
                tags={"subnet": {"Name": f"hub-endpoints-{az[-1]}"}},
            )
            subnets.append(sub)
        ops = ec2.create_subnet(
            vpc.id, "10.0.200.0/24", availability_zone=AZS[0], tags={"subnet": {"Name": "hub-ops-bastion"}}
        )
        self.used_ips.add(OPERATOR_BASTION_IP)
        tgw = ec2.create_transit_gateway("hub transit gateway", tags=[{"Key": "Name", "Value": "network-hub-tgw"}])
        self.tgw_id = tgw.id
        self._attach(w.hub_account, vpc.id, [s.id for s in subnets], "network-hub-endpoints")
        rt = ec2.create_route_table(vpc.id, tags=[{"Key": "Name", "Value": "hub-endpoints-rt"}])
        self.hub_rt_id = rt.id
        for sub in [*subnets, ops]:
            ec2.associate_route_table(rt.id, subnet_id=sub.id)
        for svc in services:
            self.endpoint(svc, subnets, private_dns=False)
        self.subnets = subnets

    def _attach(self, account: str, vpc_id: str, subnet_ids: list[str], name: str) -> None:
        from moto.ec2.models.transit_gateway_attachments import TransitGatewayVpcAttachment

        hub = self.ec2(self.world.hub_account)
        tgw = hub.transit_gateways[self.tgw_id]
        att = TransitGatewayVpcAttachment(
            hub, transit_gateway=tgw, tags={"Name": name}, vpc_id=vpc_id, subnet_ids=subnet_ids, options=None
        )
        att.resource_owner_id = account
        hub.transit_gateway_attachments[att.id] = att
        hub.set_route_table_association(
            transit_gateway_attachment_id=att.id,
            transit_gateway_route_table_id=att.transit_gateway_route_table.id,
        )
        self.last_attachment = att.id

    def endpoint(self, service: str, subnets: list[Any], *, private_dns: bool, register: bool = True) -> Any:
        w = self.world
        ec2 = self.ec2(w.hub_account)
        full = f"com.amazonaws.{REGION}.{service}"
        sg = ec2.create_security_group(
            f"vpce-{service}" if register else f"vpce-{service}-old",
            f"443 from subscribing spokes to the {service} endpoint",
            w.hub_vpc_id,
            tags={"Name": f"vpce-{service}"},
        )
        ep = ec2.create_vpc_endpoint(
            vpc_id=w.hub_vpc_id,
            service_name=full,
            endpoint_type="Interface",
            policy_document=DEFAULT_POLICY_TEXT,
            route_table_ids=[],
            subnet_ids=None,
            security_group_ids=[sg.id],
            tags={"Name": f"hub-{service}"},
            private_dns_enabled=private_dns,
        )
        enis = []
        for sub in subnets:
            ip = self.rng.host(sub.cidr_block, self.used_ips)
            eni = ec2.create_network_interface(
                sub, ip, group_ids=[sg.id], description=f"VPC Endpoint Interface {ep.id}"
            )
            eni.interface_type = "vpc_endpoint"
            eni.requester_managed = True
            eni.requester_id = "727180483921"
            enis.append(eni.id)
        suffix = self.rng.chars(8)
        label = service_dns_label(service)
        entries = [
            {"dns_name": f"{ep.id}-{suffix}.{label}.{REGION}.vpce.amazonaws.com", "hosted_zone_id": VPCE_ZONE_ID}
        ]
        for sub in subnets:
            entries.append(
                {
                    "dns_name": f"{ep.id}-{suffix}-{sub.availability_zone}.{label}.{REGION}.vpce.amazonaws.com",
                    "hosted_zone_id": VPCE_ZONE_ID,
                }
            )
        ep.dns_entries = entries
        ep.subnet_ids = [s.id for s in subnets]
        ep.network_interface_ids = enis
        ep.ip_address_type = "ipv4"
        ep.dns_options = {"dns_record_ip_type": "ipv4", "private_dns_only_for_inbound_resolver_endpoint": False}
        if register:
            w.endpoints[service] = ep.id
            self.sg_by_service[service] = sg.id
            self.sg_cidrs[service] = []
        return ep

    def zones(self, services: tuple[str, ...]) -> None:
        w = self.world
        r53 = self.r53()
        ec2 = self.ec2(w.hub_account)
        for svc in services:
            zone = r53.create_hosted_zone(
                zone_name(svc) + ".",
                private_zone=True,
                caller_reference=f"lab-{svc}",
                vpcid=w.hub_vpc_id,
                vpcregion=REGION,
                comment=f"centralized endpoint zone for {svc}",
            )
            ep = ec2.vpc_end_points[w.endpoints[svc]]
            r53.change_resource_record_sets(
                zone.id,
                [
                    {
                        "Action": "CREATE",
                        "ResourceRecordSet": {
                            "Name": zone_name(svc) + ".",
                            "Type": "A",
                            "AliasTarget": {
                                "HostedZoneId": VPCE_ZONE_ID,
                                "DNSName": ep.dns_entries[0]["dns_name"],
                                "EvaluateTargetHealth": True,
                            },
                        },
                    }
                ],
            )
            w.zones[svc] = zone.resource_id

    # -- spokes --------------------------------------------------------------------------------------------

    def spoke(
        self, account: str, name: str, env: str, cidr: str, services: list[str], sg_cidr: str | None = None
    ) -> Spoke:
        ec2 = self.ec2(account)
        vpc = ec2.create_vpc(cidr, tags=[{"Key": "Name", "Value": name}, {"Key": "environment", "Value": env}])
        vpc.enable_dns_hostnames = True
        vpc.enable_dns_support = True
        net = ipaddress.ip_network(cidr)
        halves = list(net.subnets(new_prefix=net.prefixlen + 2))
        subnet_ids = []
        rt = ec2.create_route_table(vpc.id, tags=[{"Key": "Name", "Value": f"{name}-private"}])
        for i in range(2):
            sub = ec2.create_subnet(
                vpc.id,
                str(halves[i]),
                availability_zone=AZS[i],
                tags={"subnet": {"Name": f"{name}-private-{AZS[i][-1]}"}},
            )
            subnet_ids.append(sub.id)
            _associate(rt, sub.id)
        route = ec2.create_route(rt.id, HUB_CIDR, transit_gateway_id=self.tgw_id)
        # the TGW lives in the hub account (shared via RAM in reality); moto only looks in the spoke's backend
        route.transit_gateway = self.ec2(self.world.hub_account).transit_gateways[self.tgw_id]
        self._attach(account, vpc.id, subnet_ids, name)
        self._hub_route(cidr)
        spoke = Spoke(account, vpc.id, cidr, name, env, subnet_ids, [])
        if sg_cidr:
            self.sg_cidr[vpc.id] = sg_cidr
        for svc in services:
            self.associate(spoke, svc)
        self.world.spokes.append(spoke)
        return spoke

    def _hub_route(self, cidr: str) -> None:
        """Add `cidr -> TGW` to the hub route table directly: moto validates each new route against every existing
        one with ipaddress parsing, which is quadratic (minutes at 1,000 spokes)."""
        from moto.ec2.models.route_tables import Route

        hub = self.ec2(self.world.hub_account)
        table = hub.route_tables[self.hub_rt_id]
        route_cls: Any = Route  # moto's CloudFormation mixin leaves abstract stubs mypy objects to
        route = route_cls(table, cidr, None, transit_gateway=hub.transit_gateways[self.tgw_id])
        table._routes[route.id] = route

    def associate(self, spoke: Spoke, svc: str, *, sg: bool = True) -> None:
        zone = self.r53().zones[self.world.zones[svc]]
        zone.add_vpc(spoke.vpc_id, REGION)
        spoke.services.append(svc)
        if sg:
            self.sg_cidrs[svc].append(self.sg_cidr.get(spoke.vpc_id, spoke.cidr))

    def authorize_sgs(self) -> None:
        ec2 = self.ec2(self.world.hub_account)
        for svc, sg_id in self.sg_by_service.items():
            cidrs = list(dict.fromkeys(self.sg_cidrs[svc]))
            if not cidrs:
                continue
            ec2.authorize_security_group_ingress(
                sg_id,
                "tcp",
                "443",
                "443",
                [{"CidrIp": c, "Description": "spoke"} for c in cidrs],
            )

    def targets(self, account: str, env: str) -> None:
        """Queues, a key, a secret, a parameter and a log group: what personas call in their account."""
        self.world.target_env[account] = env
        self.b["sqs"][account][REGION].create_queue(f"orders-{env}")
        self.b["sqs"][account][REGION].create_queue(f"audit-{env}")
        kms_models: Any = importlib.import_module("moto.kms.models")
        if self.shared_kms_key is None:
            self.shared_kms_key = kms_models.generate_private_key("SYMMETRIC_DEFAULT")
        real = kms_models.generate_private_key
        kms_models.generate_private_key = lambda _spec: self.shared_kms_key  # ~0.15 s of RSA per key otherwise
        try:
            key = self.b["kms"][account][REGION].create_key(
                None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", f"{env} data key", None
            )
        finally:
            kms_models.generate_private_key = real
        self.b["kms"][account][REGION].create_alias(key.id, f"alias/{env}-data")
        self.b["secretsmanager"][account][REGION].create_secret(
            f"app/{env}/db", '{"password": "lab"}', None, f"{env} database", None, None, None, [], False
        )
        self.b["ssm"][account][REGION].put_parameter(
            f"/app/{env}/feature-flags", "flags", "on", "String", "", "", False, [], "text", None, None
        )
        logs = self.b["logs"][account][REGION]
        if f"/app/{env}" not in logs.groups:
            logs.create_log_group(f"/app/{env}", {})

    def metrics(self, hours: int = 48) -> None:
        """Hourly BytesProcessed per hub endpoint (AWS/PrivateLinkEndpoints, the four documented dimensions), so
        the console's traffic columns and the cost pane have numbers; volume grows with the subscriber count."""
        import datetime as dt

        from moto.cloudwatch.models import cloudwatch_backends

        w = self.world
        cw = cloudwatch_backends[w.hub_account][REGION]
        ec2 = self.ec2(w.hub_account)
        now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)  # moto compares naive
        for svc, endpoint_id in w.endpoints.items():
            ep = ec2.vpc_end_points[endpoint_id]
            subscribers = sum(1 for sp in w.spokes if svc in sp.services)
            base = (1 + subscribers) * self.rng.r.uniform(20e6, 400e6)
            dims = [
                {"Name": "Endpoint Type", "Value": "Interface"},
                {"Name": "Service Name", "Value": ep.service_name},
                {"Name": "VPC Endpoint Id", "Value": endpoint_id},
                {"Name": "VPC Id", "Value": w.hub_vpc_id},
            ]
            data = [
                {
                    "MetricName": "BytesProcessed",
                    "Dimensions": dims,
                    "Timestamp": now - dt.timedelta(hours=h),
                    "Value": round(base * (0.6 + 0.8 * self.rng.r.random()), 0),
                    "Unit": "Bytes",
                }
                for h in range(hours)
            ]
            cw.put_metric_data("AWS/PrivateLinkEndpoints", data)

    def log_group(self, account: str) -> None:
        logs = self.b["logs"][account][REGION]
        logs.create_log_group(LOG_GROUP, {"purpose": "cloudtrail"})
        logs.create_log_stream(LOG_GROUP, f"{account}_CloudTrail_{REGION}")


def _associate(route_table: Any, subnet_id: str) -> None:
    """Associate a fresh subnet with a route table without moto's scan of every table in the account."""
    from moto.ec2.utils import random_subnet_association_id

    route_table._associations[random_subnet_association_id()] = subnet_id
