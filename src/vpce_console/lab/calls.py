"""What the lab reads off a request (service, action, caller's key, region) and the small wire helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from vpce_console.lab.errors import WireResponse

StartResponse = Callable[..., Any]


WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")


_R53_NS = "https://route53.amazonaws.com/doc/2013-04-01/"


_EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"


_READ_PREFIXES = ("Describe", "List", "Get", "Lookup", "Filter", "Search", "Head", "Batch", "Receive", "Test")


_SQS_DATA = {
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
}


NO_NETWORK_EVENTS = {"sts"}
"""Services CloudTrail does not log network activity events for (facts §4b: STS is not an event source)."""


PAGE_CACHE_SECONDS = 5.0
"""How long a full describe result serves later pages (cleared by any EC2 write)."""


_UNLOGGED = {"sts:GetCallerIdentity", "logs:PutLogEvents", "logs:FilterLogEvents", "cloudtrail:LookupEvents"}


@dataclass
class Call:
    """One parsed AWS request."""

    method: str
    path: str
    service: str
    region: str
    access_key: str | None
    action: str
    protocol: str
    params: dict[str, Any]
    body: bytes
    user_agent: str
    form: dict[str, list[str]] = field(default_factory=dict)


def _route53_action(method: str, path: str) -> str:
    p = re.sub(r"^/\d{4}-\d{2}-\d{2}", "", path).rstrip("/")
    rules = [
        (r"^/hostedzone$", {"GET": "ListHostedZones", "POST": "CreateHostedZone"}),
        (
            r"^/hostedzone/[^/]+$",
            {"GET": "GetHostedZone", "DELETE": "DeleteHostedZone", "POST": "UpdateHostedZoneComment"},
        ),
        (r"^/hostedzone/[^/]+/rrset$", {"GET": "ListResourceRecordSets", "POST": "ChangeResourceRecordSets"}),
        (r"^/hostedzone/[^/]+/associatevpc$", {"POST": "AssociateVPCWithHostedZone"}),
        (r"^/hostedzone/[^/]+/disassociatevpc$", {"POST": "DisassociateVPCFromHostedZone"}),
        (
            r"^/hostedzone/[^/]+/authorizevpcassociation$",
            {"POST": "CreateVPCAssociationAuthorization", "GET": "ListVPCAssociationAuthorizations"},
        ),
        (r"^/hostedzone/[^/]+/deauthorizevpcassociation$", {"POST": "DeleteVPCAssociationAuthorization"}),
        (r"^/hostedzonesbyvpc$", {"GET": "ListHostedZonesByVPC"}),
        (r"^/hostedzonesbyname$", {"GET": "ListHostedZonesByName"}),
        (r"^/hostedzonecount$", {"GET": "GetHostedZoneCount"}),
        (r"^/change/[^/]+$", {"GET": "GetChange"}),
        (r"^/tags/hostedzone/[^/]+$", {"GET": "ListTagsForResource", "POST": "ChangeTagsForResource"}),
    ]
    for pattern, by_method in rules:
        if re.match(pattern, p):
            return by_method.get(method, "Unknown")
    return "Unknown"


def parse_call(environ: Mapping[str, Any], body: bytes) -> Call:
    """Service and region from the SigV4 scope, action from X-Amz-Target, form Action or the REST path."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    m = _CREDENTIAL.search(auth)
    query = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    access_key = m.group(1) if m else (query.get("X-Amz-Credential", [""])[0].split("/")[0] or None)
    service = m.group(4) if m else ""
    region = m.group(3) if m else "us-east-1"
    method = str(environ.get("REQUEST_METHOD", "GET"))
    path = str(environ.get("PATH_INFO", "/"))
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    ctype = str(environ.get("CONTENT_TYPE", ""))
    params: dict[str, Any] = {}
    form: dict[str, list[str]] = {}
    action = ""
    if target:
        action = target.rsplit(".", 1)[-1]
        protocol = "json"
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
    elif "x-www-form-urlencoded" in ctype or (method == "POST" and body[:7] == b"Action="):
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params = {k: v[0] for k, v in form.items()}
        action = params.get("Action", "")
        protocol = "ec2" if service == "ec2" else "query"
    elif "Action" in query:
        form = query
        params = {k: v[0] for k, v in query.items()}
        action = params.get("Action", "")
        protocol = "ec2" if service == "ec2" else "query"
    elif service == "route53":
        protocol = "rest-xml"
        action = _route53_action(method, path)
        params = {k: v[0] for k, v in query.items()}
    elif "/operation/" in path:
        protocol = "cbor"
        action = path.rsplit("/", 1)[-1]
    else:
        protocol = "rest"
        action = path.strip("/").split("/")[0] if path.strip("/") else method
    return Call(
        method,
        path,
        service,
        region,
        access_key,
        action,
        protocol,
        params,
        body,
        str(environ.get("HTTP_USER_AGENT", "")),
        form,
    )


def _is_read(action: str) -> bool:
    return action.startswith(_READ_PREFIXES)


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


class _Drop(Exception):
    """Signals a dropped connection fault."""


def _json(status: int, payload: object) -> WireResponse:
    return WireResponse(status, (("Content-Type", "application/json"),), json.dumps(payload).encode())


def _xml_text(body: bytes, tag: str) -> str | None:
    m = re.search(rf"<{tag}>([^<]*)</{tag}>".encode(), body)
    return m.group(1).decode() if m else None


def _request_parameters(call: Call) -> dict[str, Any] | None:
    """CloudTrail-style requestParameters; EC2's newer APIs nest them under `<Action>Request`."""
    if call.protocol == "json":
        return dict(call.params)
    if call.protocol in ("ec2", "query"):
        clean = {k: v for k, v in call.params.items() if k not in ("Action", "Version")}
        if call.service == "ec2" and call.action == "ModifyVpcEndpoint":
            return {f"{call.action}Request": clean}
        return {_lower_camel(k): v for k, v in clean.items()}
    if call.protocol == "rest-xml":
        out: dict[str, Any] = {}
        m = re.search(r"/hostedzone/([^/]+)", call.path)
        if m:
            out["hostedZoneId"] = m.group(1)
        vpc = _xml_text(call.body, "VPCId")
        if vpc:
            out["vPC"] = {"vPCRegion": _xml_text(call.body, "VPCRegion"), "vPCId": vpc}
        return out
    return None


def _resources(call: Call) -> list[dict[str, str]]:
    if call.service == "ec2" and call.params.get("VpcEndpointId"):
        return [{"ResourceType": "AWS::EC2::VPCEndpoint", "ResourceName": str(call.params["VpcEndpointId"])}]
    if call.service == "route53":
        m = re.search(r"/hostedzone/([^/]+)", call.path)
        if m:
            return [{"ResourceType": "AWS::Route53::HostedZone", "ResourceName": m.group(1)}]
    return []
