"""MaxResults/NextToken for the calls moto answers in one page, so clients' paging loops really run."""

from __future__ import annotations

import base64
import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")

EC2_PAGED = {
    "DescribeVpcEndpoints": (5, 1000),
    "DescribeVpcs": (5, 1000),
    "DescribeSubnets": (5, 1000),
    "DescribeRouteTables": (5, 100),
    "DescribeSecurityGroups": (5, 1000),
    "DescribeSecurityGroupRules": (5, 1000),
    "DescribeTransitGatewayAttachments": (5, 1000),
    "DescribeTransitGatewayVpcAttachments": (5, 1000),
    "DescribeTransitGateways": (5, 1000),
    "DescribeNetworkInterfaces": (5, 1000),
}
"""EC2 action -> (min, max) MaxResults as the API reference states them."""


class PageError(ValueError):
    """Bad MaxResults or NextToken; the caller answers with the service's validation error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def fingerprint(params: Mapping[str, object]) -> str:
    """A short hash of the request minus paging, so a token only continues the same query."""
    clean = {k: v for k, v in params.items() if k not in ("MaxResults", "NextToken", "nextToken", "limit")}
    return hashlib.sha1(json.dumps(clean, sort_keys=True, default=str).encode()).hexdigest()[:12]


def make_token(offset: int, fp: str) -> str:
    """An opaque NextToken."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "f": fp}).encode()).decode()


def read_token(token: str | None, fp: str) -> int:
    """The offset a NextToken stands for; PageError when it is forged or from another query."""
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PageError("InvalidNextToken", "The token provided is invalid.") from exc
    if data.get("f") != fp or offset < 0:
        raise PageError("InvalidNextToken", "The token provided is not valid for this request.")
    return offset


def page(items: Sequence[T], offset: int, size: int, fp: str) -> tuple[list[T], str | None]:
    """One page and the token for the next, if any."""
    chunk = list(items[offset : offset + size])
    nxt = offset + size
    return chunk, (make_token(nxt, fp) if nxt < len(items) else None)


def ec2_max_results(action: str, raw: str | None) -> int | None:
    """Validate MaxResults for an EC2 describe call."""
    if raw is None:
        return None
    low, high = EC2_PAGED[action]
    try:
        value = int(raw)
    except ValueError as exc:
        raise PageError("InvalidParameterValue", f"Value ( {raw} ) for parameter maxResults is invalid.") from exc
    if value < low or value > high:
        raise PageError(
            "InvalidParameterValue",
            f"Value ( {value} ) for parameter maxResults is invalid. Expecting a value between {low} and {high}.",
        )
    return value


def paginate_ec2_xml(body: bytes, offset: int, size: int, fp: str) -> bytes:
    """Slice the item set of an EC2 describe response and add `nextToken` when more remain."""
    root = ET.fromstring(body)
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    q = (lambda t: f"{{{ns}}}{t}") if ns else (lambda t: t)
    item_set = None
    for child in root:
        if len(child) and all(grand.tag == q("item") for grand in child):
            item_set = child
            break
        if child.tag not in (q("requestId"), q("nextToken")) and len(child) == 0 and item_set is None:
            item_set = child if child.tag.endswith("Set") or child.tag.endswith("s") else None
    for old in root.findall(q("nextToken")):
        root.remove(old)
    if item_set is None:
        return body
    items = list(item_set)
    for it in items:
        item_set.remove(it)
    chunk, token = page(items, offset, size, fp)
    for it in chunk:
        item_set.append(it)
    if token:
        el = ET.SubElement(root, q("nextToken"))
        el.text = token
    if ns:
        ET.register_namespace("", ns)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
