"""EC2: the endpoint-policy write (propagation starts here), realistic endpoint answers, paging."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlencode

from vpce_console.lab import errors
from vpce_console.lab.calls import (
    PAGE_CACHE_SECONDS,
    Call,
)
from vpce_console.lab.errors import WireResponse
from vpce_console.lab.lab_state import LabState
from vpce_console.lab.pagination import PageError, ec2_max_results, fingerprint, paginate_ec2_xml
from vpce_console.lab.personas import Identity
from vpce_console.policy.vocab import DEFAULT_POLICY_TEXT


class Ec2Handlers(LabState):
    """EC2 calls the lab answers itself."""

    def _modify_endpoint(
        self, environ: dict[str, Any], call: Call, identity: Identity | None, account: str | None
    ) -> WireResponse | tuple[str, list[tuple[str, str]], bytes]:
        from moto.ec2.models import ec2_backends

        endpoint_id = str(call.params.get("VpcEndpointId", ""))
        acct = account or self.world.hub_account
        with self.lock:
            ep = ec2_backends[acct][call.region].vpc_end_points.get(endpoint_id)
            old = str(ep.policy_document) if ep is not None else None
        if ep is None:
            return errors.error_response(
                "ec2", "InvalidVpcEndpointId.NotFound", f"The Vpc Endpoint Id '{endpoint_id}' does not exist"
            )
        new_doc = call.params.get("PolicyDocument")
        reset = str(call.params.get("ResetPolicy", "")).lower() == "true"
        if new_doc is not None:
            try:
                json.loads(new_doc)
            except ValueError:
                return errors.error_response(
                    "ec2", "InvalidParameter", "The policy document is not a valid JSON document."
                )
            if len(new_doc) > 20480:
                return errors.error_response(
                    "ec2", "InvalidParameter", "The policy document exceeds the maximum length of 20480 characters."
                )
        if str(call.params.get("DryRun", "")).lower() == "true":
            return errors.error_response(
                "ec2", "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", status=412
            )
        form = {k: v for k, v in call.form.items() if k not in ("ResetPolicy", "PrivateDnsEnabled")}
        body = urlencode({k: v[0] for k, v in form.items()}).encode()
        status, headers, data = self._forward(environ, body, acct)
        if not status.startswith("200"):
            return status, headers, data
        with self.lock:
            if reset:
                ep.policy_document = DEFAULT_POLICY_TEXT
            if "PrivateDnsEnabled" in call.params:
                ep.private_dns_enabled = str(call.params["PrivateDnsEnabled"]).lower() == "true"
            new = str(ep.policy_document)
        self._pages.clear()  # a describe served between moto's write and ours must not linger
        if old is not None and new != old and acct == self.world.hub_account:
            self.propagation.changed(endpoint_id, old, new)
        return status, headers, data

    def _realistic_endpoint(self, account: str, region: str, body: bytes) -> None:
        """Give an endpoint created through the API what AWS gives it: ENIs inside their subnets with the endpoint's
        security groups, and regional + per-AZ DNS entries (the create answer itself stays moto's)."""
        import ipaddress
        import random

        from moto.ec2.models import ec2_backends

        from vpce_console.lab.world import VPCE_ZONE_ID, service_dns_label

        match = re.search(rb"<vpcEndpointId>([^<]+)</vpcEndpointId>", body)
        if match is None:
            return
        with self.lock:
            backend = ec2_backends[account][region]
            ep = backend.vpc_end_points.get(match.group(1).decode())
            if ep is None or str(ep.vpc_endpoint_type).lower() != "interface":
                return
            rng = random.Random(ep.id)
            service = str(ep.service_name).split(".", 3)[-1]
            label = service_dns_label(service)
            suffix = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
            entries = [
                {"dns_name": f"{ep.id}-{suffix}.{label}.{region}.vpce.amazonaws.com", "hosted_zone_id": VPCE_ZONE_ID}
            ]
            groups = [backend.get_security_group_from_id(g) for g in ep.security_group_ids]
            for eni_id in ep.network_interface_ids:
                eni = backend.get_network_interface(eni_id)
                net = ipaddress.ip_network(eni.subnet.cidr_block)
                ip = str(net[rng.randint(4, net.num_addresses - 2)])
                eni.private_ip_address = ip
                eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ip}]
                eni.interface_type = "vpc_endpoint"
                eni.requester_managed = True
                eni.description = f"VPC Endpoint Interface {ep.id}"
                eni._group_set = [g for g in groups if g is not None]
                az = eni.subnet.availability_zone
                entries.append(
                    {
                        "dns_name": f"{ep.id}-{suffix}-{az}.{label}.{region}.vpce.amazonaws.com",
                        "hosted_zone_id": VPCE_ZONE_ID,
                    }
                )
            ep.dns_entries = entries
            ep.ip_address_type = "ipv4"  # type: ignore[attr-defined]

    def _ec2_paged(
        self, environ: dict[str, Any], call: Call, account: str | None
    ) -> WireResponse | tuple[str, list[tuple[str, str]], bytes]:
        raw_max = call.params.get("MaxResults")
        token = call.params.get("NextToken")
        if raw_max is None and token is None:
            return self._forward(environ, call.body, account)
        form = {k: v for k, v in call.form.items() if k not in ("MaxResults", "NextToken")}
        fp = fingerprint({k: v for k, v in sorted(form.items())})
        try:
            size = ec2_max_results(call.action, raw_max) or 1000
            from vpce_console.lab.pagination import read_token

            offset = read_token(token, fp)
        except PageError as exc:
            return errors.error_response("ec2", exc.code, str(exc))
        cache_key = (account or "", call.action, fp)
        cached = self._pages.get(cache_key)
        if cached is not None and cached[0] > time.monotonic():
            status, headers, data = cached[1]
        else:
            body = urlencode([(k, v) for k, vs in form.items() for v in vs]).encode()
            status, headers, data = self._forward(environ, body, account)
            if not status.startswith("200"):
                return status, headers, data
            # moto serializes the whole set per call (~5 ms per endpoint): keep it for the rest of the paging loop
            self._pages[cache_key] = (time.monotonic() + PAGE_CACHE_SECONDS, (status, headers, data))
        paged = paginate_ec2_xml(data, offset, size, fp)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(paged))))
        return status, headers, paged
