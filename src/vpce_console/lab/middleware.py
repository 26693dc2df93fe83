"""The WSGI layer in front of moto: identity, faults, limits, enforcement, CloudTrail and the gaps moto leaves."""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from vpce_console.lab import errors
from vpce_console.lab.athena import AthenaLab
from vpce_console.lab.cloudtrail import Trail
from vpce_console.lab.enforce import UNENFORCED, Enforcer, Verdict
from vpce_console.lab.errors import WireResponse
from vpce_console.lab.faults import FaultTable, parse_faults
from vpce_console.lab.filterpattern import PatternError, message_matcher
from vpce_console.lab.limits import RateLimiter, family_of
from vpce_console.lab.pagination import EC2_PAGED, PageError, ec2_max_results, fingerprint, page, paginate_ec2_xml
from vpce_console.lab.personas import OPERATOR, WORKLOAD, Identity, Registry
from vpce_console.lab.profiles import ProfileStore
from vpce_console.lab.propagation import Propagation
from vpce_console.lab.trail import TrailDelivery, s3_access_denied
from vpce_console.lab.world import DEFAULT_POLICY, OPERATOR_BASTION_IP, World

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


class LabMiddleware:
    """Wraps moto's DomainDispatcherApplication; everything AWS-like the lab adds happens here."""

    def __init__(
        self,
        moto_app: WsgiApp,
        world: World,
        *,
        propagation: Propagation,
        faults: FaultTable,
        limiter: RateLimiter | None,
        moto_lock: threading.RLock,
    ) -> None:
        self.moto = moto_app
        self.world = world
        self.propagation = propagation
        self.faults = faults
        self.limiter = limiter
        self.lock = moto_lock
        self.registry = Registry(world)
        self.trail = Trail(world.region, moto_lock=moto_lock)
        self.enforcer = Enforcer(world, propagation, moto_lock=moto_lock)
        self.delivery = TrailDelivery(
            world, moto_lock=moto_lock, log_writer=lambda acct, rec: self.trail._write(acct, rec, lookup=False)
        )
        """The org trail in the log-archive bucket (lab/trail.py)."""
        self.athena = AthenaLab(None, self.delivery.put_result, self.delivery.ready()["athena"]["output_location"])
        """Athena over the trail's objects (lab/athena.py)."""
        self.authorizations: dict[tuple[str, str], list[tuple[str, str]]] = {}
        """(zone owner, zone id) -> authorized (vpc id, region) pairs: moto has no association authorizations."""
        self.traffic: Any = None
        self.closing = threading.Event()
        """Set when the lab stops, so live-tail streams end."""
        """The background TrafficGenerator (set by the server once it knows its URL)."""
        self._pages: dict[tuple[str, str, str], tuple[float, tuple[str, list[tuple[str, str]], bytes]]] = {}
        self.stats = {"requests": 0, "denied": 0, "throttled": 0, "faults": 0}

    # -- WSGI ------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", "/"))
        if path.startswith("/lab-api/"):
            return self._send(start_response, self._control(environ, path))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if path.startswith("/moto-api"):
            status, headers, data = self._forward(environ, body, None)
            start_response(status, headers)
            return [data]
        call = parse_call(environ, body)
        self.stats["requests"] += 1
        if (call.service, call.action) == ("logs", "StartLiveTail"):
            identity = self.registry.lookup(call.access_key)
            account = identity.account_id if identity else self.world.hub_account
            return self._live_tail(call, account, start_response)
        try:
            answer = self._handle(environ, call)
        except _Drop:
            return self._drop(environ, start_response)
        except Exception:  # a lab bug must look like a 500 from AWS and show in the lab's log
            traceback.print_exc(file=sys.stderr)
            return self._send(start_response, errors.server_error(call.service))
        if isinstance(answer, WireResponse):
            return self._send(start_response, answer)
        status, headers, data = answer
        start_response(status, headers)
        return [data]

    @staticmethod
    def _drop(environ: Mapping[str, Any], start_response: StartResponse) -> list[bytes]:
        """Shut the client's socket down mid-request, as a dropped connection looks to the SDK."""
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        start_response("500 Internal Server Error", [("Content-Length", "0"), ("Connection", "close")])
        return [b""]

    @staticmethod
    def _send(start_response: StartResponse, r: WireResponse) -> list[bytes]:
        headers = [*r.headers, ("Content-Length", str(len(r.body)))]
        start_response(r.status_line, headers)
        return [r.body]

    def _forward(
        self, environ: Mapping[str, Any], body: bytes, account: str | None
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        if account:
            env["HTTP_X_MOTO_ACCOUNT_ID"] = account
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"] = status
            captured["headers"] = headers
            return lambda _b: None

        with self.lock:
            result = self.moto(env, start)
            try:
                data = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(data))))
        return captured.get("status", "500 Internal Server Error"), headers, data

    # -- control routes --------------------------------------------------------------------------------------

    def _control(self, environ: Mapping[str, Any], path: str) -> WireResponse:
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/lab-api/propagation" and method == "GET":
            return _json(200, self.propagation.snapshot())
        if path == "/lab-api/faults":
            if method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                raw = environ["wsgi.input"].read(length) if length else b"{}"
                try:
                    data = json.loads(raw or b"{}")
                    rules = parse_faults(str(data.get("spec", "")))
                except (ValueError, AttributeError) as exc:
                    return _json(400, {"error": str(exc)})
                self.faults.set(rules, replace=bool(data.get("replace", True)))
            return _json(200, {"faults": [f.to_json() for f in self.faults.faults]})
        if path == "/lab-api/limits" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            data = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            if self.limiter is not None:
                self.limiter.rates = {
                    k: (float(v), float(v)) for k, v in data.get("rates", {}).items()
                } or self.limiter.rates
            return _json(200, {"enabled": self.limiter is not None})
        if path == "/lab-api/traffic" and method == "POST" and self.traffic is not None:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            data = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            self.traffic.set_rate(float(data.get("rate", 0)))
            return _json(200, {"rate": self.traffic.rate, "calls": self.traffic.calls})
        if path == "/lab-api/traffic":
            rate = self.traffic.rate if self.traffic is not None else 0.0
            return _json(200, {"rate": rate, "calls": self.traffic.calls if self.traffic else 0})
        if path.startswith("/lab-api/trail"):
            return _json(*self.delivery.control(str(method), path))
        if path == "/lab-api/stats":
            return _json(200, self.stats)
        return _json(404, {"error": f"no route {path}"})

    # -- request handling ------------------------------------------------------------------------------------

    def _handle(self, environ: dict[str, Any], call: Call) -> WireResponse | tuple[str, list[tuple[str, str]], bytes]:
        identity = self.registry.lookup(call.access_key)
        for fault in self.faults.pick(call.service, call.action):
            self.stats["faults"] += 1
            if fault.kind == "latency":
                time.sleep(fault.arg)
            elif fault.kind == "throttle":
                return errors.throttled(call.service, call.action)
            elif fault.kind == "5xx":
                return errors.server_error(call.service)
            elif fault.kind == "drop":
                raise _Drop()
        account = identity.account_id if identity else None
        if self.limiter is not None and not self.limiter.allow(
            account or "anonymous", family_of(call.service, call.action)
        ):
            self.stats["throttled"] += 1
            return errors.throttled(call.service, call.action)

        verdict: Verdict | None = None
        if identity is not None and identity.kind == WORKLOAD and call.service not in UNENFORCED:
            verdict = self.enforcer.check(identity, call.service, call.action, call.params)
            if not verdict.allowed:
                return self._deny(identity, call, verdict)

        answer = self._dispatch(environ, call, identity, account)
        if (
            verdict is not None
            and identity is not None
            and verdict.endpoint_id
            and call.service not in NO_NETWORK_EVENTS
        ):
            self._network_event(identity, call, verdict, denied=False)
        self._record(call, identity, account, verdict, answer)
        return answer

    def _deny(self, identity: Identity, call: Call, verdict: Verdict) -> WireResponse:
        self.stats["denied"] += 1
        assert verdict.endpoint_id is not None
        if call.service not in NO_NETWORK_EVENTS:
            self._network_denial(identity, call, verdict)
        message = errors.endpoint_denial_message(
            verdict.principal_arn, verdict.action, verdict.resource, explicit=verdict.explicit
        )
        if call.service == "ec2":
            message = f"You are not authorized to perform this operation. {message}"
        return errors.access_denied(call.service, message)

    def _network_denial(self, identity: Identity, call: Call, verdict: Verdict) -> None:
        self._network_event(identity, call, verdict, denied=True)

    def _network_event(self, identity: Identity, call: Call, verdict: Verdict, *, denied: bool) -> None:
        """A network activity record for the hub's log group and the org trail's bucket."""
        assert verdict.endpoint_id is not None
        self.delivery.record_call(
            identity=identity.user_identity(),
            caller_account=identity.account_id,
            vpc_id=identity.persona.vpc_id if identity.persona is not None else None,
            endpoint_id=verdict.endpoint_id,
            service=call.service,
            action=call.action,
            source_ip=verdict.source_ip,
            user_agent=call.user_agent,
            denied=denied,
        )

    def _dispatch(
        self, environ: dict[str, Any], call: Call, identity: Identity | None, account: str | None
    ) -> WireResponse | tuple[str, list[tuple[str, str]], bytes]:
        key = (call.service, call.action)
        if call.service == "ec2" and not call.action.startswith("Describe"):
            self._pages.clear()
        if key == ("sts", "GetCallerIdentity") and identity is not None and identity.kind == WORKLOAD:
            return self._caller_identity(identity)
        if key == ("sts", "AssumeRole"):
            return self._assume_role(environ, call, identity, account)
        if key == ("ec2", "ModifyVpcEndpoint"):
            return self._modify_endpoint(environ, call, identity, account)
        if key == ("ec2", "CreateVpcEndpoint"):
            answer = self._forward(environ, call.body, account)
            if answer[0].startswith("200"):
                self._realistic_endpoint(account or self.world.hub_account, call.region, answer[2])
            return answer
        if call.service == "athena":
            return self.athena.handle(call.action, call.params, account or self.world.hub_account)
        if call.service == "s3" and self.delivery.denies_read(call.action, account):
            return s3_access_denied()
        if call.service == "s3" and self.delivery.lists(call.method, call.path, environ.get("QUERY_STRING", "")):
            return self.delivery.list_objects_v2(str(environ.get("QUERY_STRING", "")))
        if call.service == "s3" and call.method == "PUT":
            answer = self._forward(environ, call.body, account)
            if answer[0].startswith("200"):
                self.delivery.index_put(call.path)
            return answer
        if call.service == "ec2" and call.action in EC2_PAGED:
            return self._ec2_paged(environ, call, account)
        if key == ("cloudtrail", "LookupEvents"):
            try:
                return errors.json_ok(self.trail.lookup(account or self.world.hub_account, call.params))
            except PageError as exc:
                return errors.error_response("cloudtrail", exc.code, str(exc))
        if key == ("logs", "FilterLogEvents"):
            return self._filter_log_events(call, account)
        if key == ("route53", "ListHostedZonesByVPC"):
            return self._zones_by_vpc(call)
        if call.service == "route53profiles":
            store: ProfileStore = self.world.profiles
            return store.handle(
                call.method,
                call.path,
                str(environ.get("QUERY_STRING", "")),
                call.body,
                account or self.world.hub_account,
            )
        if call.service == "route53" and call.action in (
            "CreateVPCAssociationAuthorization",
            "ListVPCAssociationAuthorizations",
            "DeleteVPCAssociationAuthorization",
            "AssociateVPCWithHostedZone",
        ):
            return self._route53_authorizations(environ, call, account)
        return self._forward(environ, call.body, account)

    # -- CloudTrail management events ------------------------------------------------------------------------

    def _record(
        self,
        call: Call,
        identity: Identity | None,
        account: str | None,
        verdict: Verdict | None,
        answer: WireResponse | tuple[str, list[tuple[str, str]], bytes],
    ) -> None:
        status = answer.status if isinstance(answer, WireResponse) else int(answer[0].split()[0])
        if status >= 300 or not call.action or call.protocol in ("rest", "cbor"):
            return
        full = f"{call.service}:{call.action}"
        if full in _UNLOGGED or (call.service == "sqs" and call.action in _SQS_DATA):
            return
        workload = identity is not None and identity.kind == WORKLOAD
        read = _is_read(call.action)
        if read and not workload:
            return  # the console's own inventory reads would drown the management events that matter
        if (
            call.service == "ec2"
            and call.action == "ModifyVpcEndpoint"
            and str(call.params.get("DryRun")).lower() == "true"
        ):
            return
        params = _request_parameters(call)
        if workload and identity is not None and identity.persona is not None:
            source_ip = verdict.source_ip if verdict else (identity.persona.public_ip or "3.80.0.1")
        else:
            source_ip = OPERATOR_BASTION_IP if identity is not None and identity.kind == OPERATOR else "10.0.200.11"
        self.trail.management(
            account=account or self.world.hub_account,
            caller=identity,
            access_key_id=call.access_key or "",
            service=call.service,
            action=call.action,
            request_parameters=params,
            response_elements=None if read else {"requestId": errors.request_id()},
            source_ip=source_ip,
            user_agent=call.user_agent,
            read_only=read,
            endpoint_id=verdict.endpoint_id if verdict else None,
            endpoint_account=self.world.hub_account if verdict and verdict.endpoint_id else None,
            resources=_resources(call),
        )

    # -- STS -------------------------------------------------------------------------------------------------

    def _caller_identity(self, identity: Identity) -> WireResponse:
        user_id = identity.user_identity().get("principalId", identity.access_key_id)
        body = (
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
            f"<Arn>{identity.arn}</Arn><UserId>{user_id}</UserId><Account>{identity.account_id}</Account>"
            f"</GetCallerIdentityResult><ResponseMetadata><RequestId>{errors.request_id()}</RequestId>"
            "</ResponseMetadata></GetCallerIdentityResponse>"
        )
        return errors.xml_ok(body)

    def _assume_role(
        self, environ: dict[str, Any], call: Call, identity: Identity | None, account: str | None
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        status, headers, data = self._forward(environ, call.body, account)
        if not status.startswith("200"):
            return status, headers, data
        match = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", data)
        if match is None:
            return status, headers, data
        role_arn = str(call.params.get("RoleArn", ""))
        tags: dict[str, str] = {}
        i = 1
        while f"Tags.member.{i}.Key" in call.params:
            tags[call.params[f"Tags.member.{i}.Key"]] = call.params.get(f"Tags.member.{i}.Value", "")
            i += 1
        self.registry.assumed(
            identity,
            access_key_id=match.group(1).decode(),
            role_arn=role_arn,
            session_name=str(call.params.get("RoleSessionName", "session")),
            session_tags=tags,
            role_tags=self._role_tags(role_arn),
        )
        return status, headers, data

    def _role_tags(self, role_arn: str) -> dict[str, str]:
        from moto.iam.models import iam_backends

        parts = role_arn.split(":")
        if len(parts) < 6:
            return {}
        with self.lock:
            if parts[4] not in iam_backends:
                # No IAM backend means no role and no tags; creating one loads every managed policy (~1 s
                # under the lock), which stalled every request once per spoke account at org scale.
                return {}
            try:
                role = iam_backends[parts[4]]["aws"].get_role(parts[5].rsplit("/", 1)[-1])
            except Exception:
                return {}
            tags = role.tags
            if isinstance(tags, dict):
                return {str(k): str(v["Value"]) if isinstance(v, dict) else str(v) for k, v in tags.items()}
            return {str(t["Key"]): str(t["Value"]) for t in tags}

    # -- EC2 -------------------------------------------------------------------------------------------------

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
                ep.policy_document = DEFAULT_POLICY
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

    # -- CloudWatch Logs -------------------------------------------------------------------------------------

    def _filter_log_events(self, call: Call, account: str | None) -> WireResponse:
        from moto.logs.models import logs_backends

        p = call.params
        group_name = p.get("logGroupName") or str(p.get("logGroupIdentifier", "")).rsplit(":log-group:", 1)[-1]
        try:
            match = message_matcher(p.get("filterPattern"))
        except PatternError as exc:
            return errors.error_response("logs", "InvalidParameterException", f"Invalid filter pattern: {exc}")
        limit = int(p.get("limit") or 10000)
        if not 1 <= limit <= 10000:
            return errors.error_response("logs", "InvalidParameterException", "limit must be between 1 and 10000")
        start, end = p.get("startTime"), p.get("endTime")
        streams = set(p.get("logStreamNames") or [])
        prefix = p.get("logStreamNamePrefix")
        with self.lock:
            logs = logs_backends[account or self.world.hub_account][call.region]
            group = logs.groups.get(group_name)
            if group is None:
                return errors.error_response(
                    "logs", "ResourceNotFoundException", "The specified log group does not exist."
                )
            events = []
            for name, stream in group.streams.items():
                if streams and name not in streams:
                    continue
                if prefix and not name.startswith(prefix):
                    continue
                for ev in stream.events:
                    events.append((ev.timestamp, ev.ingestion_time, name, ev.event_id, ev.message))
        events.sort(key=lambda e: (e[0], e[3]))
        selected = [
            e for e in events if (start is None or e[0] >= start) and (end is None or e[0] <= end) and match(e[4])
        ]
        fp = fingerprint({k: v for k, v in p.items() if k != "limit"})
        try:
            from vpce_console.lab.pagination import read_token

            offset = read_token(p.get("nextToken"), fp)
        except PageError:
            return errors.error_response("logs", "InvalidParameterException", "The specified nextToken is invalid.")
        chunk, token = page(selected, offset, limit, fp)
        out: dict[str, Any] = {
            "events": [
                {"logStreamName": e[2], "timestamp": e[0], "message": e[4], "ingestionTime": e[1], "eventId": e[3]}
                for e in chunk
            ],
            "searchedLogStreams": [],
        }
        if token:
            out["nextToken"] = token
        return errors.json_ok(out)

    def _live_tail(self, call: Call, account: str, start_response: StartResponse) -> Iterable[bytes]:
        """Stream new events of the named groups once a second (sessionStart, then sessionUpdate frames) until
        the client goes away, the lab stops or the 3-hour session limit passes."""
        from moto.logs.models import logs_backends

        from vpce_console.lab.eventstream import frame

        p = call.params
        groups = [str(g).split(":log-group:", 1)[-1].removesuffix(":*") for g in p.get("logGroupIdentifiers") or []]
        if not 1 <= len(groups) <= 10:
            r = errors.error_response("logs", "InvalidParameterException", "logGroupIdentifiers must hold 1-10 groups")
            return self._send(start_response, r)
        try:
            match = message_matcher(p.get("logEventFilterPattern"))
        except PatternError as exc:
            r = errors.error_response("logs", "InvalidParameterException", f"Invalid filter pattern: {exc}")
            return self._send(start_response, r)
        names = set(p.get("logStreamNames") or [])
        prefixes = list(p.get("logStreamNamePrefixes") or [])
        identifiers = [f"arn:aws:logs:{call.region}:{account}:log-group:{g}" for g in groups]

        def cursor() -> dict[tuple[str, str], int]:
            with self.lock:
                logs = logs_backends[account][call.region]
                out = {}
                for g in groups:
                    group = logs.groups.get(g)
                    for name, stream in group.streams.items() if group else ():
                        out[(g, name)] = len(stream.events)
                return out

        def generate() -> Iterable[bytes]:
            seen = cursor()
            yield frame("initial-response", {})  # JSON-protocol streams open with the non-stream output members
            yield frame(
                "sessionStart",
                {
                    "requestId": errors.request_id(),
                    "sessionId": errors.request_id(),
                    "logGroupIdentifiers": identifiers,
                    "logStreamNames": sorted(names),
                    "logStreamNamePrefixes": prefixes,
                    "logEventFilterPattern": p.get("logEventFilterPattern") or "",
                },
            )
            deadline = time.monotonic() + 3 * 3600
            while not self.closing.wait(1.0):
                if time.monotonic() > deadline:
                    yield frame("SessionTimeoutException", {"message": "Session timed out"}, message_type="exception")
                    return
                fresh = []
                with self.lock:
                    logs = logs_backends[account][call.region]
                    for g, ident in zip(groups, identifiers, strict=True):
                        group = logs.groups.get(g)
                        for name, stream in group.streams.items() if group else ():
                            if (names and name not in names) or (prefixes and not name.startswith(tuple(prefixes))):
                                continue
                            start = seen.get((g, name), 0)
                            for ev in stream.events[start:]:
                                if match(ev.message):
                                    fresh.append(
                                        {
                                            "logStreamName": name,
                                            "logGroupIdentifier": ident,
                                            "message": ev.message,
                                            "timestamp": ev.timestamp,
                                            "ingestionTime": ev.ingestion_time,
                                        }
                                    )
                            seen[(g, name)] = len(stream.events)
                fresh.sort(key=lambda e: e["timestamp"])
                sampled = len(fresh) > 500
                yield frame(
                    "sessionUpdate",
                    {"sessionMetadata": {"sampled": sampled}, "sessionResults": fresh[-500:] if sampled else fresh},
                )

        start_response(
            "200 OK",
            [("Content-Type", "application/vnd.amazon.eventstream"), ("x-amzn-RequestId", errors.request_id())],
        )
        return generate()

    # -- Route 53 --------------------------------------------------------------------------------------------

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
