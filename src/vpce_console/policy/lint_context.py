"""The state one lint run shares with every rule: the document's facts, the endpoint, the knowledge, `emit`.

Rule modules (`lint_element_rules`, `lint_condition_rules`, `lint_shapes`, `lint_resources`, `lint_document`) take
this context and never import the walker (`linter`), which only visits the document and calls them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from vpce_console.data.knowledge import Catalog, KeyInfo, Knowledge
from vpce_console.policy.endpoint_context import EndpointContext
from vpce_console.policy.findings import SEVERITY_RANK, Finding, Related, Severity
from vpce_console.policy.lint_conditions import (
    Operator,
    has_wildcard,
)
from vpce_console.policy.lint_placeholders import placeholders
from vpce_console.policy.parse import Member, Node, format_path

MAX_ENDPOINT_POLICY_CHARS = 20_480
"""PrivateLink: "The size of an endpoint policy cannot exceed 20,480 characters, including white space"."""


POLICY_TYPES = ("vpce", "identity", "resource")
"""`vpce` applies every endpoint-specific rule; the others lint only the generic IAM rules."""


_TOP_LEVEL = ("Version", "Id", "Statement")


_STATEMENT_ELEMENTS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)


_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


_VERSIONS = ("2012-10-17", "2008-10-17")


CALLER_WORDS: dict[str, str] = {
    "ec2-instance": "EC2 instance-role callers (EC2, ECS/EKS node roles)",
    "lambda": "Lambda functions",
    "ecs-task": "ECS task roles",
    "eks-irsa": "EKS pods using IRSA",
    "eks-pod-identity": "EKS pods using Pod Identity",
    "iam-user": "IAM users with access keys",
    "assumed-role": "other assumed roles (SSO, CI, cross-account)",
    "aws-service": "AWS service principals",
    "untagged": "callers or resources without that tag",
    "direct-call": "direct calls (not made by a service on the caller's behalf)",
    "outside-org": "principals outside an AWS Organization",
    "anonymous": "anonymous callers",
    "no-mfa": "callers that did not use MFA",
    "not-service": "every caller that is not an AWS service principal",
}
"""Plain words for the caller categories used in condition_keys.yaml `absent_for`/`carried_by`."""


_INTENDED_ABSENT = frozenset({"outside-org", "anonymous"})
"""Callers a Deny on the key is normally meant to catch (denying them is the point, not an accident)."""


HUB_WORDS: dict[str, str] = {
    "aws:sourcevpc": "the id of the VPC the endpoint is attached to",
    "aws:sourcevpcarn": "the ARN of the VPC the endpoint is attached to",
    "aws:sourcevpce": "the endpoint's own id",
    "aws:vpceaccount": "the account that owns the endpoint",
    "aws:vpceorgid": "the organization of the account that owns the endpoint",
    "aws:vpceorgpaths": "the OU path of the account that owns the endpoint",
}
"""What each hub-scoped key holds: always a property of the endpoint, never of the caller."""


SPOKE_HINT = (
    "To tell spokes apart use aws:VpcSourceIp with the spoke CIDRs (paired with aws:SourceVpce = this endpoint), "
    "principal tags such as aws:PrincipalTag/vpc-id (enforced by tag policies or SCPs), or "
    'aws:Ec2InstanceSourceVpc for EC2-only workloads (scoped with "Null": {"ec2:SourceInstanceARN": "false"}).'
)


@dataclass(slots=True)
class _Cond:
    """One key under one operator, with everything the rules need."""

    op: Operator
    op_member: Member
    key: str
    key_member: Member
    info: KeyInfo | None
    values: list[Node]
    path: tuple[str | int, ...]
    dead: bool = False
    """Every value has a shape the key never holds (value-shape-mismatch): the condition's outcome is fixed."""


@dataclass(slots=True)
class _Statement:
    """What the rules need to know about one statement."""

    node: Node
    path: tuple[str | int, ...]
    effect: str | None = None
    conds: list[_Cond] = field(default_factory=list)
    services: set[str] = field(default_factory=set)
    any_service: bool = False
    keys: set[str] = field(default_factory=set)
    variable_refs: set[str] = field(default_factory=set)
    null_false: set[str] = field(default_factory=set)
    null_false_groups: set[str] = field(default_factory=set)
    service_principals_excluded: bool = False
    action_items: list[tuple[Node, tuple[str | int, ...]]] | None = None
    """The Action strings (None for NotAction or a malformed Action)."""
    resource_items: list[tuple[Node, tuple[str | int, ...]]] | None = None
    """The Resource strings (None for NotResource or a malformed Resource)."""


class LintContext:
    """One lint run over one document: what the rules read, and where their findings go."""

    def __init__(
        self,
        text: str,
        policy_type: str,
        service: str | None,
        knowledge: Knowledge,
        catalog: Catalog,
        endpoint: EndpointContext | None = None,
    ):
        self.text = text
        self.vpce = policy_type == "vpce"
        self.service = service
        """The endpoint's service as given (e.g. `sqs`, `ecr.api`, `com.amazonaws.us-east-1.monitoring`)."""
        self.service_label = service_label(service) if service else None
        """The service as people say it: `sqs` for `com.amazonaws.us-east-1.sqs`."""
        self.prefixes = endpoint_prefixes(service, knowledge) if service else None
        """IAM prefixes of the endpoint's service, or None when unknown (then no service-specific rules run)."""
        self.knowledge = knowledge
        self.catalog = catalog
        self.findings: list[Finding] = []
        self.variables: list[Node] = []
        self.vpcsourceip_noted = False
        self.endpoint = endpoint
        """What is known about the endpoint (its id, VPC, whether it is shared), or None."""
        self.statements: list[_Statement] = []
        self.placeholders: dict[str, tuple[Node, tuple[str | int, ...]]] = {}
        """Unresolved template placeholders, first occurrence of each."""
        self.statement_count = 0
        self.bad_effect = False

    def opaque(self, node: Node, path: tuple[str | int, ...]) -> bool:
        """True (and remembered for `unresolved-placeholder`) when a string holds a template placeholder."""
        value = node.value
        if not isinstance(value, str) or ("{" not in value and "<" not in value and "$" not in value):
            return False
        found = placeholders(value)
        for name in found:
            self.placeholders.setdefault(name, (node, path))
        return bool(found)

    def emit(
        self,
        code: str,
        at: Node | Member,
        path: Iterable[str | int],
        message: str,
        hint: str,
        *,
        related: tuple[Related, ...] = (),
    ) -> None:
        severity = Severity(self.catalog.severity(code))
        for other in related:  # one finding for one mistake: it is as bad as the worst consequence it stands for
            other_severity = Severity(self.catalog.severity(other.code))
            if SEVERITY_RANK[other_severity] < SEVERITY_RANK[severity]:
                severity = other_severity
        self.findings.append(
            Finding(
                code=code,
                severity=severity,
                line=at.line,
                column=at.column,
                path=format_path(tuple(path)),
                message=message,
                hint=hint,
                related=related,
            )
        )

    def resolve_key(self, key: str) -> KeyInfo | None:
        return self.knowledge.key(key)

    def unknown_element(
        self, member: Member, path: tuple[str | int, ...], allowed: tuple[str, ...], where: str
    ) -> None:
        near = [name for name in allowed if name.lower() == member.key.lower()]
        near = near or _close_matches(member.key, allowed, n=1, cutoff=0.75)
        suggestion = f' Did you mean "{near[0]}"? Element names are case-sensitive.' if near else ""
        self.emit(
            "invalid-structure",
            member,
            (*path, member.key),
            f'"{member.key}" is not a valid element at the {where}; AWS rejects the policy.{suggestion}',
            f"Allowed here: {', '.join(allowed)}.",
        )

    def arn_account_field(self, item: Node, path: tuple[str | int, ...]) -> None:
        parts = str(item.value).split(":")
        if len(parts) < 5:
            return
        account = parts[4]
        if has_wildcard(account) and account not in ("*", "?"):
            stripped = account.replace("*", "").replace("?", "")
            if stripped:
                self.emit(
                    "wildcard-on-sensitive-key",
                    item,
                    path,
                    f"The account part of {_show(item)} mixes an account id and a wildcard ({account!r}); in an "
                    "endpoint policy the account field may be an id or a wildcard, not both.",
                    "Write the full 12-digit account id, or * for any account (then restrict with "
                    "aws:ResourceAccount / aws:ResourceOrgID).",
                )


ENDPOINT_SERVICE_PREFIXES: dict[str, tuple[str, ...]] = {
    "monitoring": ("cloudwatch",),
    "ecs-agent": ("ecs",),
    "ecs-telemetry": ("ecs",),
    "email-smtp": ("ses",),
    "git-codecommit": ("codecommit",),
    "kinesis-streams": ("kinesis",),
    "kinesis-firehose": ("firehose",),
    "bedrock-runtime": ("bedrock",),
    "bedrock-agent-runtime": ("bedrock",),
    "runtime.sagemaker": ("sagemaker",),
    "s3": ("s3", "s3express"),
}
"""Endpoint service names whose IAM action prefix differs from the name (the rest: the part before the first dot)."""


def service_label(service: str) -> str:
    """`com.amazonaws.<region>.sqs` -> `sqs` (other names unchanged, lower case)."""
    name = service.strip().lower()
    if name.startswith("com.amazonaws."):
        name = ".".join(name.split(".")[3:])
    return name


def endpoint_prefixes(service: str, knowledge: Knowledge) -> frozenset[str] | None:
    """IAM prefixes reached through an endpoint for `service` (`sqs`, `ecr.api`, `com.amazonaws.<region>.sqs`)."""
    name = service.strip().lower()
    if name.startswith("com.amazonaws."):
        name = ".".join(name.split(".")[3:])  # drop `com.amazonaws.<region>.`
    if name in ENDPOINT_SERVICE_PREFIXES:
        return frozenset(ENDPOINT_SERVICE_PREFIXES[name])
    first = name.split(".", 1)[0]
    if first in ENDPOINT_SERVICE_PREFIXES:
        return frozenset(ENDPOINT_SERVICE_PREFIXES[first])
    if first in knowledge.service_names:
        return frozenset({first})
    return None


def _close_matches(word: str, candidates: Iterable[str], n: int = 1, cutoff: float = 0.75) -> list[str]:
    """Spelling suggestions; difflib is imported only when a finding needs one (keeps `vpce lint` start-up lean)."""
    import difflib

    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=cutoff)


def _show(node: Node) -> str:
    if node.kind == "string":
        text = node.value if len(node.value) <= 60 else node.value[:57] + "..."
        return f'"{text}"'
    if node.kind in ("object", "array"):
        return f"a JSON {node.kind}"
    return "null" if node.value is None else str(node.value).lower() if node.kind == "bool" else str(node.value)
