"""The WSGI layer in front of moto: identity, faults, limits, enforcement, CloudTrail and the gaps moto leaves."""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Iterable, Mapping
from typing import Any

from vpce_console.lab import errors
from vpce_console.lab.calls import (
    _SQS_DATA,
    _UNLOGGED,
    NO_NETWORK_EVENTS,
    Call,
    StartResponse,
    _Drop,
    _is_read,
    _json,
    _request_parameters,
    _resources,
    parse_call,
)
from vpce_console.lab.enforce import UNENFORCED, Verdict
from vpce_console.lab.errors import WireResponse
from vpce_console.lab.faults import parse_faults
from vpce_console.lab.handlers_ec2 import Ec2Handlers
from vpce_console.lab.handlers_logs import LogsHandlers
from vpce_console.lab.handlers_route53 import Route53Handlers
from vpce_console.lab.handlers_sts import StsHandlers
from vpce_console.lab.limits import family_of
from vpce_console.lab.pagination import EC2_PAGED, PageError
from vpce_console.lab.personas import OPERATOR, WORKLOAD, Identity
from vpce_console.lab.profiles import ProfileStore
from vpce_console.lab.trail import s3_access_denied
from vpce_console.lab.world import OPERATOR_BASTION_IP


class LabMiddleware(StsHandlers, Ec2Handlers, LogsHandlers, Route53Handlers):
    """Wraps moto's DomainDispatcherApplication; everything AWS-like the lab adds happens here."""

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
