"""Rules on the shape of identifiers: principals (`invalid-principal`) and condition values (`value-shape-mismatch`).

Both catch values that can never be what they are compared with: a principal ARN with a missing colon, an
11-digit account, `aws:SourceVpce` against `vpc-…`. The shapes are data (data/lint_shapes.yaml).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vpce_console.data.shapes import ValueShape, default_shapes
from vpce_console.policy.findings import Related
from vpce_console.policy.lint_conditions import has_wildcard
from vpce_console.policy.lint_placeholders import has_iam_variable, placeholders

if TYPE_CHECKING:
    from vpce_console.policy.lint_context import LintContext, _Cond, _Statement
    from vpce_console.policy.parse import Node

from vpce_console.policy.parse import format_path

_SOURCE_NOTE = "Compare with the values shown by `aws ec2 describe-vpc-endpoints` / your account and organization."


def _opaque(value: str) -> bool:
    """A value whose real text is not known here: a policy variable or an unresolved template placeholder."""
    return has_iam_variable(value) or bool(placeholders(value))


def principal_problem(kind: str, value: str) -> str | None:
    """Why `value` under Principal `kind` (AWS, Service, Federated, CanonicalUser) is not a principal, or None."""
    shapes = default_shapes().principal
    if value == "*" or has_wildcard(value) or _opaque(value):
        return None  # "*" is valid; partial wildcards have their own finding
    if kind == "CanonicalUser":
        return None if shapes.canonical_user.match(value) else "a canonical user id is 64 hexadecimal characters"
    if kind == "Service":
        if shapes.service.match(value):
            return None
        return "a service principal is a service's DNS-style name such as ec2.amazonaws.com"
    if kind == "Federated" and not value.startswith("arn:"):
        return None  # identity providers such as accounts.google.com or cognito-identity.amazonaws.com
    if kind == "AWS" and not value.startswith("arn:"):
        if value.isdigit():
            return None if len(value) == 12 else f"an account id has 12 digits, this one has {len(value)}"
        if shapes.unique_id.match(value):
            return None
        return 'an AWS principal is "*", a 12-digit account id or an IAM principal ARN'
    parts = value.split(":", 5)
    if len(parts) < 6:
        return (
            f"an ARN has six colon-separated parts (arn:partition:service:region:account:resource), this one has "
            f"{len(parts)}; a ':' is missing (IAM ARNs have an empty region: arn:aws:iam::123456789012:…)"
        )
    _, partition, service, region, account, resource = parts
    if partition not in shapes.partitions:
        return f"{partition!r} is not an AWS partition ({', '.join(sorted(shapes.partitions))})"
    if service not in shapes.arn_resources:
        return f"principal ARNs are iam or sts ARNs, not {service!r} ARNs"
    if region:
        return f"IAM and STS ARNs have no region, but this one has {region!r}"
    rtype = resource.split("/", 1)[0]
    if account == "cloudfront" and service == "iam" and rtype == "user":
        return None  # CloudFront origin access identities: arn:aws:iam::cloudfront:user/CloudFront Origin Access …
    if not (account.isdigit() and len(account) == 12):
        return f"the account part {account!r} is not a 12-digit account id"
    allowed = shapes.arn_resources[service] & (shapes.federated_types if kind == "Federated" else shapes.aws_types)
    if rtype not in allowed:
        if rtype == "group":
            return "an IAM user group cannot be a principal (only users, roles, sessions and accounts)"
        names = ", ".join(sorted(allowed)) or "none"
        return f"{rtype!r} is not a principal type for {service} under {kind} (allowed: {names})"
    if rtype == "assumed-role" and resource.count("/") < 2:
        return "an assumed-role ARN names the role and the session: assumed-role/<role>/<session>"
    if rtype != "root" and not resource.partition("/")[2]:
        return f"the ARN names no {rtype}"
    return None


def check_principal(linter: LintContext, kind: str, item: Node, path: tuple[str | int, ...]) -> None:
    """`invalid-principal` for one Principal value."""
    value = item.value
    if not isinstance(value, str):
        return
    problem = principal_problem(kind, value)
    if problem is None:
        return
    linter.emit(
        "invalid-principal",
        item,
        path,
        f"Principal {kind} {value!r} is not a valid principal: {problem}. It can match no caller, and AWS may "
        "reject the policy as having an invalid principal.",
        'Write an account as "123456789012" or "arn:aws:iam::123456789012:root", a role as '
        '"arn:aws:iam::123456789012:role/name"; to admit everyone use "*" and narrow with conditions.',
    )


def _arn_ok(value: str, shape: ValueShape, principal: bool) -> bool:
    if not has_wildcard(value):
        return bool(shape.pattern.match(value))
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] not in ("arn", "*"):
        return False
    account = parts[4]
    if has_wildcard(account):
        return True
    if principal:
        return account.isdigit() and len(account) == 12 and parts[2] in ("iam", "sts", "*")
    return account in ("", "aws") or (account.isdigit() and len(account) == 12)


def _fits(value: str, shape: ValueShape, ignore_case: bool) -> bool:
    if shape.name in ("arn", "principal-arn"):
        return _arn_ok(value, shape, shape.name == "principal-arn")
    if has_wildcard(value):
        return True  # wildcards on id keys have their own finding (wildcard-on-sensitive-key)
    return bool(shape.pattern.match(value.lower() if ignore_case else value))


def check_value_shape(linter: LintContext, st: _Statement, cond: _Cond) -> None:
    """`value-shape-mismatch`: a value the key can never hold, with what that makes of the statement."""
    info = cond.info
    if info is None or info.value_shape is None or cond.op.family not in ("String", "ARN"):
        return
    shape = default_shapes().values.get(info.value_shape)
    if shape is None:
        return
    ignore_case = cond.op.base.endswith("IgnoreCase")
    bad: list[Node] = []
    for node in cond.values:
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # an account id written as a JSON number
        if not isinstance(value, str) or (not _opaque(value) and not _fits(value, shape, ignore_case)):
            bad.append(node)
    if not bad:
        return
    shown = ", ".join(repr(str(n.value)) for n in bad[:3]) + (" …" if len(bad) > 3 else "")
    every = len(bad) == len(cond.values)
    if cond.op.negated:
        if every:
            outcome = (
                f"so {cond.op.raw} is TRUE for every request: this Deny denies every request it covers"
                if st.effect == "Deny"
                else f"so {cond.op.raw} is TRUE for every request: this Allow admits every caller the rest of "
                "the statement lets in"
            )
        else:
            outcome = "so that value excludes nothing; only the other values do"
    elif every:
        outcome = (
            "so the condition never matches: this Deny never applies"
            if st.effect == "Deny"
            else "so the condition never matches: this Allow grants nothing"
        )
    else:
        outcome = "so that value never matches; the condition works only through the other values"
    related: tuple[Related, ...] = ()
    if every and info.hub_scoped and linter.vpce:
        # the shape already fixes the outcome; that the key is per-endpoint is the second thing to know about it
        cond.dead = True
        related = (
            Related(
                "hub-scoped-key",
                cond.key_member.line,
                cond.key_member.column,
                format_path(cond.path),
                f"{cond.key} has one value per endpoint, the same for every caller through it; on a centralized "
                "endpoint that is the hub's, so it cannot tell spokes apart either.",
            ),
        )
    linter.emit(
        "value-shape-mismatch",
        bad[0],
        cond.path,
        f"{cond.key} is always {shape.words}, never {shown}, {outcome}.",
        f"Use {shape.words}. {_SOURCE_NOTE}",
        related=related,
    )
