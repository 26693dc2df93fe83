"""Detect what a file is by its content and pull out every endpoint policy it holds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from vpce_console.lintinputs.intrinsics import Converter
from vpce_console.lintinputs.tree import T, compose_yaml, from_json_node
from vpce_console.policy.endpoint_context import EndpointContext

KIND_POLICY = "policy"
KIND_CLOUDFORMATION = "cloudformation"
KIND_TERRAFORM_PLAN = "terraform-plan"
KIND_DESCRIBE = "describe-vpc-endpoints"

_VPCE_TYPE = "AWS::EC2::VPCEndpoint"
_CONTAINER_MARKERS = (
    '"AWSTemplateFormatVersion"',
    '"Resources"',
    '"resource_changes"',
    '"planned_values"',
    '"format_version"',
    '"VpcEndpoints"',
)
"""Texts without any of these are not templates, plans or describe output, so they are read as one policy."""
_TF_TYPES = ("aws_vpc_endpoint", "aws_vpc_endpoint_policy")


@dataclass(frozen=True, slots=True)
class PolicySource:
    """One policy document to lint, and where it lives."""

    path: str
    """The file (as given or as found in a directory)."""
    kind: str
    """KIND_POLICY, KIND_CLOUDFORMATION, KIND_TERRAFORM_PLAN or KIND_DESCRIBE."""
    text: str
    """The policy text handed to the linter."""
    name: str | None = None
    """What the policy is called in its file: logical id, resource address or endpoint id."""
    service: str | None = None
    """The endpoint's service as the source states it (ServiceName, service_name), or None."""
    service_origin: str | None = None
    """Where `service` comes from, for the report (e.g. `ServiceName of S3Endpoint`)."""
    endpoint: EndpointContext | None = None
    """What the source says about the endpoint (describe output: its id and VPC)."""
    positions: Mapping[str, tuple[int, int]] | None = None
    """JSON path of the policy -> (line, column) in the file; None when the text is the file itself."""
    anchor: tuple[int, int] | None = None
    """Where the policy starts in the file (for paths without a position, e.g. inside a JSON string)."""

    def locate(self, path: str, line: int, column: int) -> tuple[int, int]:
        """The file position for a finding at `path` (line/column in the linted text)."""
        if self.positions is None and self.anchor is None:
            return line, column
        if self.positions:
            probe = path
            while True:
                hit = self.positions.get(probe)
                if hit is not None:
                    return hit
                if not probe:
                    break
                cut = max(probe.rfind("."), probe.rfind("["))
                probe = probe[:cut] if cut > 0 else ""
        return self.anchor or (line, column)


def read_sources(path: str, text: str, *, from_directory: bool) -> list[PolicySource]:
    """Every policy in one file. A file found in a directory that holds no policy gives []; a file named on the
    command line is linted as a policy whatever it holds (so a broken policy still gets `json-syntax`)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("{", "[", '"') and not any(marker in text for marker in _CONTAINER_MARKERS):
        # a plain policy (the common case in CI): the linter parses it once, no need to parse it here
        if from_directory and stripped[:1] == "{" and '"Statement"' not in text:
            return []
        return [PolicySource(path, KIND_POLICY, text)]
    if stripped[:1] in ("{", "[", '"'):
        from vpce_console.policy.parse import parse_policy

        parsed = parse_policy(text)
        if parsed.root is not None:
            root = from_json_node(parsed.root)
            found = _from_tree(path, root)
            if found is not None:
                return found
            if root.kind == "scalar" and isinstance(root.value, str):
                return [PolicySource(path, KIND_POLICY, text)]  # double-encoded: the linter decodes it
            if from_directory and not _looks_like_policy(root):
                return []
            return [PolicySource(path, KIND_POLICY, text)]
        if stripped[:1] == "{" or not path.lower().endswith((".yaml", ".yml", ".template")):
            return [] if from_directory else [PolicySource(path, KIND_POLICY, text)]
    tree = compose_yaml(text)
    if tree is not None:
        found = _from_tree(path, tree)
        if found is not None:
            return found
        if _looks_like_policy(tree):
            return [_embedded(path, KIND_POLICY, None, tree, None, None, None)]
    return [] if from_directory else [PolicySource(path, KIND_POLICY, text)]


def _looks_like_policy(root: T) -> bool:
    return root.kind == "map" and root.get("Statement") is not None


def _from_tree(path: str, root: T) -> list[PolicySource] | None:
    """Sources when `root` is a template, plan or describe output; None when it is none of them."""
    if root.kind != "map":
        return None
    keys = set(root.keys())
    resources = root.get("Resources")
    if "AWSTemplateFormatVersion" in keys or (
        resources is not None
        and resources.kind == "map"
        and any(_type_of(r).startswith("AWS::") for _, _, _, r in resources.members)
    ):
        return _cloudformation(path, resources)
    if "resource_changes" in keys or ("format_version" in keys and "planned_values" in keys):
        return _terraform_plan(path, root)
    if "format_version" in keys and "values" in keys:
        return _terraform_state(path, root)
    endpoints = root.get("VpcEndpoints")
    if endpoints is not None and endpoints.kind == "seq":
        return _describe(path, endpoints)
    return None


def _type_of(resource: T) -> str:
    node = resource.get("Type") if resource.kind == "map" else None
    return str(node.value) if node is not None and node.kind == "scalar" else ""


def _embedded(
    path: str,
    kind: str,
    name: str | None,
    node: T,
    service: str | None,
    origin: str | None,
    endpoint: EndpointContext | None,
) -> PolicySource:
    """A policy that is a subtree of the file: converted to JSON text with a position per JSON path."""
    converter = Converter()
    data = converter.value(node)
    if isinstance(data, str):  # a policy written as a JSON string inside the template
        return PolicySource(path, kind, data, name, service, origin, endpoint, None, (node.line, node.column))
    text = json.dumps(data, separators=(",", ":"))
    return PolicySource(
        path, kind, text, name, service, origin, endpoint, converter.positions, (node.line, node.column)
    )


def _cloudformation(path: str, resources: T | None) -> list[PolicySource]:
    out: list[PolicySource] = []
    if resources is None or resources.kind != "map":
        return out
    for logical_id, _, _, resource in resources.members:
        if _type_of(resource) != _VPCE_TYPE:
            continue
        props = resource.get("Properties")
        document = props.get("PolicyDocument") if props is not None and props.kind == "map" else None
        if document is None:
            continue
        service, origin = None, None
        service_node = props.get("ServiceName") if props is not None else None
        if service_node is not None:
            value = Converter().value(service_node)
            if isinstance(value, str) and _service_is_literal(value):
                service, origin = value, f"ServiceName of {logical_id}"
        out.append(_embedded(path, KIND_CLOUDFORMATION, logical_id, document, service, origin, None))
    return out


def _service_is_literal(value: str) -> bool:
    """`com.amazonaws.us-east-1.s3` or `com.amazonaws.${AWS::Region}.s3`: the service part is literal."""
    parts = value.split(".")
    if value.startswith("com.amazonaws.") and len(parts) >= 4:
        return "${" not in ".".join(parts[3:])
    return "${" not in value and bool(value)


def _terraform_plan(path: str, root: T) -> list[PolicySource]:
    changes = root.get("resource_changes")
    if changes is None or changes.kind != "seq":
        return []
    services: dict[str, str] = {}
    vpcs: dict[str, str] = {}
    rows: list[tuple[str, str, T]] = []
    for change in changes.items:
        rtype = _scalar(change, "type")
        address = _scalar(change, "address")
        after = change.get("change")
        after = after.get("after") if after is not None and after.kind == "map" else None
        if rtype not in _TF_TYPES or address is None or after is None or after.kind != "map":
            continue
        stated = _scalar(after, "service_name")
        if stated:
            services[address] = stated
            services[address.split("[", 1)[0]] = stated
        vpc = _scalar(after, "vpc_id")
        if vpc:
            vpcs[address] = vpc
        rows.append((rtype or "", address, after))
    references = _endpoint_references(root)
    out: list[PolicySource] = []
    for rtype, address, after in rows:
        policy = after.get("policy")
        if policy is None or policy.kind != "scalar" or not isinstance(policy.value, str) or not policy.value.strip():
            continue  # no policy (the default full access) or known only after apply
        service = services.get(address)
        origin: str | None = f"service_name of {address}"
        if rtype == "aws_vpc_endpoint_policy":
            target = references.get(address.split("[", 1)[0])
            service = services.get(target or "")
            origin = f"service_name of {target}" if target else None
        vpc = vpcs.get(address)
        endpoint = EndpointContext(vpc_id=vpc) if vpc else None
        out.append(
            PolicySource(
                path,
                KIND_TERRAFORM_PLAN,
                policy.value,
                address,
                service,
                origin if service else None,
                endpoint,
                None,
                (policy.line, policy.column),
            )
        )
    return out


def _terraform_state(path: str, root: T) -> list[PolicySource]:
    """`terraform show -json` of a state: every aws_vpc_endpoint(_policy) policy, with the endpoint's id and VPC."""
    rows: list[tuple[str, str, T]] = []

    def visit(module: T | None) -> None:
        if module is None or module.kind != "map":
            return
        resources = module.get("resources")
        for res in resources.items if resources is not None and resources.kind == "seq" else ():
            rtype, address, values = _scalar(res, "type"), _scalar(res, "address"), res.get("values")
            if rtype in _TF_TYPES and address and values is not None and values.kind == "map":
                rows.append((rtype, address, values))
        children = module.get("child_modules")
        for child in children.items if children is not None and children.kind == "seq" else ():
            visit(child)

    values = root.get("values")
    visit(values.get("root_module") if values is not None and values.kind == "map" else None)
    by_id = {_scalar(v, "id"): v for t, _, v in rows if t == "aws_vpc_endpoint" and _scalar(v, "id")}
    out: list[PolicySource] = []
    for rtype, address, vals in rows:
        policy = vals.get("policy")
        if policy is None or policy.kind != "scalar" or not isinstance(policy.value, str) or not policy.value.strip():
            continue
        endpoint = vals if rtype == "aws_vpc_endpoint" else by_id.get(_scalar(vals, "vpc_endpoint_id"))
        service = _scalar(endpoint, "service_name") if endpoint is not None else None
        context = (
            EndpointContext(_scalar(endpoint, "id"), _scalar(endpoint, "vpc_id"), _scalar(endpoint, "owner_id"))
            if endpoint is not None
            else None
        )
        origin = f"service_name of {_scalar(endpoint, 'id') or address}" if service and endpoint is not None else None
        out.append(
            PolicySource(
                path,
                KIND_TERRAFORM_PLAN,
                policy.value,
                address,
                service,
                origin,
                context,
                None,
                (policy.line, policy.column),
            )
        )
    return out


def _endpoint_references(root: T) -> dict[str, str]:
    """aws_vpc_endpoint_policy address -> the aws_vpc_endpoint address its vpc_endpoint_id refers to."""
    out: dict[str, str] = {}
    config = root.get("configuration")
    module = config.get("root_module") if config is not None and config.kind == "map" else None

    def visit(mod: T | None, prefix: str) -> None:
        if mod is None or mod.kind != "map":
            return
        resources = mod.get("resources")
        for res in resources.items if resources is not None and resources.kind == "seq" else ():
            address = _scalar(res, "address")
            expressions = res.get("expressions")
            ref = expressions.get("vpc_endpoint_id") if expressions is not None and expressions.kind == "map" else None
            refs = ref.get("references") if ref is not None and ref.kind == "map" else None
            for item in refs.items if refs is not None and refs.kind == "seq" else ():
                target = str(item.value)
                if address and target.startswith("aws_vpc_endpoint.") and not target.endswith(".id"):
                    out[prefix + address] = prefix + target
        calls = mod.get("module_calls")
        for name, _, _, call in calls.members if calls is not None and calls.kind == "map" else ():
            visit(call.get("module") if call.kind == "map" else None, f"{prefix}module.{name}.")

    visit(module, "")
    return out


def _describe(path: str, endpoints: T) -> list[PolicySource]:
    out: list[PolicySource] = []
    for index, endpoint in enumerate(endpoints.items):
        if endpoint.kind != "map":
            continue
        document = endpoint.get("PolicyDocument")
        if document is None:
            continue
        endpoint_id = _scalar(endpoint, "VpcEndpointId") or f"VpcEndpoints[{index}]"
        service = _scalar(endpoint, "ServiceName")
        context = EndpointContext(endpoint_id, _scalar(endpoint, "VpcId"), _scalar(endpoint, "OwnerId"))
        if document.kind == "scalar" and isinstance(document.value, str):
            out.append(
                PolicySource(
                    path,
                    KIND_DESCRIBE,
                    document.value,
                    endpoint_id,
                    service,
                    f"ServiceName of {endpoint_id}" if service else None,
                    context,
                    None,
                    (document.line, document.column),
                )
            )
        else:
            origin = f"ServiceName of {endpoint_id}" if service else None
            out.append(_embedded(path, KIND_DESCRIBE, endpoint_id, document, service, origin, context))
    return out


def _scalar(node: T, key: str) -> str | None:
    if node.kind != "map":
        return None
    value = node.get(key)
    if value is None or value.kind != "scalar" or value.value is None:
        return None
    return str(value.value)
