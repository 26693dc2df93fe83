"""Exact AWS error responses per wire protocol, so the real SDK parses the lab's errors as it would AWS's (facts §9)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

QUERY_NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "route53": "https://route53.amazonaws.com/doc/2013-04-01/",
}
JSON_TARGETS = {
    "sqs": "1.0",
    "kms": "1.1",
    "logs": "1.1",
    "ssm": "1.1",
    "secretsmanager": "1.1",
    "ecr": "1.1",
    "cloudtrail": "1.1",
    "events": "1.1",
    "states": "1.0",
    "kinesis": "1.1",
    "firehose": "1.1",
    "glue": "1.1",
    "athena": "1.1",
    "codebuild": "1.1",
    "ecs": "1.1",
}


@dataclass(frozen=True, slots=True)
class WireResponse:
    """A complete HTTP answer the middleware sends instead of asking moto."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def status_line(self) -> str:
        """`400 Bad Request`-style line WSGI wants."""
        return f"{self.status} {_REASONS.get(self.status, 'Error')}"


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    412: "Precondition Failed",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def request_id() -> str:
    """A request id in AWS's uuid form."""
    return str(uuid.uuid4())


def protocol_of(service: str) -> str:
    """The wire protocol botocore uses for a signing name: ec2, query, rest-xml, json or other."""
    if service == "ec2":
        return "ec2"
    if service in ("sts", "iam", "sns", "elasticloadbalancing", "autoscaling", "cloudformation", "rds"):
        return "query"
    if service == "route53":
        return "rest-xml"
    if service in JSON_TARGETS:
        return "json"
    return "other"


def error_response(
    service: str,
    code: str,
    message: str,
    *,
    status: int = 400,
    json_type: str | None = None,
    sender: bool = True,
) -> WireResponse:
    """An error in the shape `service`'s protocol uses; `json_type` overrides `__type` for JSON services."""
    rid = request_id()
    proto = protocol_of(service)
    if proto == "ec2":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>"
        )
        return WireResponse(
            status, (("Content-Type", "text/xml;charset=UTF-8"), ("x-amzn-RequestId", rid)), body.encode()
        )
    if proto in ("query", "rest-xml"):
        ns = QUERY_NAMESPACES.get(service, f"https://{service}.amazonaws.com/doc/")
        kind = "Sender" if sender else "Receiver"
        body = (
            f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{ns}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
        )
        return WireResponse(status, (("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)), body.encode())
    version = JSON_TARGETS.get(service, "1.1")
    headers: list[tuple[str, str]] = [("Content-Type", f"application/x-amz-json-{version}"), ("x-amzn-RequestId", rid)]
    if service == "sqs":
        # awsQueryCompatible: the header carries the legacy query code the SDK reports.
        headers.append(("x-amzn-query-error", f"{code};{'Sender' if sender else 'Receiver'}"))
        type_name = json_type or f"com.amazon.coral.service#{_json_code(code)}"
    else:
        type_name = json_type or code
    payload = {"__type": type_name, "message": message}
    return WireResponse(status, tuple(headers), json.dumps(payload).encode())


def _json_code(code: str) -> str:
    return {"AccessDenied": "AccessDeniedException", "Throttling": "ThrottlingException"}.get(code, code)


def access_denied(service: str, message: str) -> WireResponse:
    """The AccessDenied answer a service gives for an endpoint-policy denial (facts §4a error codes)."""
    proto = protocol_of(service)
    if proto == "ec2":
        return error_response(service, "UnauthorizedOperation", message, status=403)
    if proto in ("query", "rest-xml"):
        return error_response(service, "AccessDenied", message, status=403)
    if service == "sqs":
        return error_response(service, "AccessDenied", message, status=403)
    return error_response(service, "AccessDeniedException", message, status=400)


def throttled(service: str, action: str) -> WireResponse:
    """The throttling error each protocol uses when a rate limit is hit."""
    proto = protocol_of(service)
    if proto == "ec2":
        return error_response(service, "RequestLimitExceeded", "Request limit exceeded.", status=503)
    if proto == "rest-xml":
        return error_response(service, "Throttling", "Rate exceeded", status=400)
    if proto == "query":
        return error_response(service, "Throttling", "Rate exceeded", status=400)
    if service == "sqs":
        return error_response(service, "RequestThrottled", "Rate exceeded", status=400)
    return error_response(service, "ThrottlingException", "Rate exceeded", status=400)


def server_error(service: str) -> WireResponse:
    """A 5xx the SDK treats as retryable."""
    proto = protocol_of(service)
    if proto == "ec2":
        return error_response(service, "InternalError", "An internal error has occurred", status=500)
    if proto in ("query", "rest-xml"):
        return error_response(service, "ServiceUnavailable", "Service Unavailable", status=503, sender=False)
    return error_response(service, "ServiceUnavailableException", "Service Unavailable", status=503, sender=False)


def endpoint_denial_message(principal_arn: str, action: str, resource: str, *, explicit: bool) -> str:
    """The caller-visible text for an endpoint-policy denial (facts §4a)."""
    on = f" on resource: {resource}" if resource and resource != "*" else ""
    if explicit:
        return (
            f"User: {principal_arn} is not authorized to perform: {action}{on} "
            "with an explicit deny in a VPC endpoint policy"
        )
    return (
        f"User: {principal_arn} is not authorized to perform: {action}{on} "
        f"because no VPC endpoint policy allows the {action} action"
    )


def json_ok(payload: object, version: str = "1.1") -> WireResponse:
    """A 200 JSON answer for the JSON services the lab serves itself."""
    rid = request_id()
    return WireResponse(
        200,
        (("Content-Type", f"application/x-amz-json-{version}"), ("x-amzn-RequestId", rid)),
        json.dumps(payload, default=str).encode(),
    )


def xml_ok(body: str) -> WireResponse:
    """A 200 XML answer for the query/rest-xml calls the lab serves itself."""
    return WireResponse(200, (("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id())), body.encode())
