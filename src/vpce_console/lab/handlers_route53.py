"""Route 53: zones by VPC across owners, and the association authorizations moto lacks."""

from __future__ import annotations

import re
from typing import Any

from vpce_console.lab import errors
from vpce_console.lab.calls import (
    _R53_NS,
    Call,
    _xml_text,
)
from vpce_console.lab.errors import WireResponse
from vpce_console.lab.lab_state import LabState
from vpce_console.lab.pagination import PageError, fingerprint, page


class Route53Handlers(LabState):
    """Route 53 calls the lab answers itself."""

    def _zone_owner(self, zone_id: str) -> str | None:
        from moto.route53.models import route53_backends

        with self.lock:
            for acct in self.world.accounts:
                if zone_id in route53_backends[acct]["aws"].zones:
                    return acct
        return None

    def _zones_by_vpc(self, call: Call) -> WireResponse:
        """Every private zone the VPC is associated with, whichever account owns it (moto only looks in the
        caller's own account)."""
        from moto.route53.models import route53_backends

        vpc_id = call.params.get("vpcid") or call.params.get("VPCId") or ""
        summaries: list[tuple[str, str, str]] = []
        with self.lock:
            for acct in self.world.accounts:
                for zone in route53_backends[acct]["aws"].zones.values():
                    if zone.private_zone and any(v.get("vpc_id") == vpc_id for v in zone.vpcs):
                        summaries.append((zone.resource_id, zone.name, acct))
        size = int(call.params.get("maxitems") or 100)
        fp = fingerprint({"vpc": vpc_id})
        try:
            from vpce_console.lab.pagination import read_token

            offset = read_token(call.params.get("nexttoken"), fp)
        except PageError as exc:
            return errors.error_response("route53", "InvalidPaginationToken", str(exc))
        chunk, token = page(summaries, offset, size, fp)
        items = "".join(
            f"<HostedZoneSummary><HostedZoneId>{zid}</HostedZoneId><Name>{name}</Name>"
            f"<Owner><OwningAccount>{acct}</OwningAccount></Owner></HostedZoneSummary>"
            for zid, name, acct in chunk
        )
        nxt = f"<NextToken>{token}</NextToken>" if token else ""
        return errors.xml_ok(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ListHostedZonesByVPCResponse xmlns="{_R53_NS}">'
            f"<HostedZoneSummaries>{items}</HostedZoneSummaries><MaxItems>{size}</MaxItems>{nxt}"
            "</ListHostedZonesByVPCResponse>"
        )

    def _route53_authorizations(
        self, environ: dict[str, Any], call: Call, account: str | None
    ) -> WireResponse | tuple[str, list[tuple[str, str]], bytes]:
        acct = account or self.world.hub_account
        m = re.search(r"/hostedzone/([^/]+)/", call.path)
        zone_id = m.group(1) if m else ""
        vpc_id = _xml_text(call.body, "VPCId") or ""
        vpc_region = _xml_text(call.body, "VPCRegion") or call.region
        owner = self._zone_owner(zone_id)
        if call.action == "AssociateVPCWithHostedZone":
            if owner is None or owner == acct:
                return self._forward(environ, call.body, acct)
            if (vpc_id, vpc_region) not in self.authorizations.get((owner, zone_id), []):
                return errors.error_response(
                    "route53",
                    "NotAuthorizedException",
                    f"The VPC: {vpc_id} has not authorized to associate with your hosted zone.",
                    status=401,
                )
            return self._forward(environ, call.body, owner)
        if owner != acct:
            return errors.error_response(
                "route53", "NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}", status=404
            )
        auths = self.authorizations.setdefault((acct, zone_id), [])
        if call.action == "CreateVPCAssociationAuthorization":
            if not vpc_id:
                return errors.error_response("route53", "InvalidInput", "VPCId is required")
            if (vpc_id, vpc_region) not in auths:
                auths.append((vpc_id, vpc_region))
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<CreateVPCAssociationAuthorizationResponse xmlns="{_R53_NS}">'
                f"<HostedZoneId>{zone_id}</HostedZoneId><VPC><VPCRegion>{vpc_region}</VPCRegion>"
                f"<VPCId>{vpc_id}</VPCId></VPC></CreateVPCAssociationAuthorizationResponse>"
            )
            return errors.xml_ok(body)
        if call.action == "DeleteVPCAssociationAuthorization":
            if (vpc_id, vpc_region) not in auths:
                return errors.error_response(
                    "route53",
                    "VPCAssociationAuthorizationNotFound",
                    f"The VPC: {vpc_id} has not been authorized to associate with the hosted zone: {zone_id}.",
                    status=404,
                )
            auths.remove((vpc_id, vpc_region))
            return errors.xml_ok(
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<DeleteVPCAssociationAuthorizationResponse xmlns="{_R53_NS}"/>'
            )
        # List
        size = int(call.params.get("maxresults") or call.params.get("MaxResults") or 50)
        fp = fingerprint({"zone": zone_id})
        try:
            from vpce_console.lab.pagination import read_token

            offset = read_token(call.params.get("nexttoken") or call.params.get("NextToken"), fp)
        except PageError as exc:
            return errors.error_response("route53", "InvalidPaginationToken", str(exc))
        chunk, token = page(auths, offset, size, fp)
        vpcs = "".join(f"<VPC><VPCRegion>{r}</VPCRegion><VPCId>{v}</VPCId></VPC>" for v, r in chunk)
        nxt = f"<NextToken>{token}</NextToken>" if token else ""
        return errors.xml_ok(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ListVPCAssociationAuthorizationsResponse xmlns="{_R53_NS}">'
            f"<HostedZoneId>{zone_id}</HostedZoneId>{nxt}<VPCs>{vpcs}</VPCs></ListVPCAssociationAuthorizationsResponse>"
        )
