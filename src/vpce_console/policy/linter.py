"""Lint a VPC endpoint policy with knowledge of what a shared (hub-and-spoke) endpoint can and cannot see.

Every finding carries a code from data/findings.yaml, the exact line/column and JSON path, a message that
says what is wrong and why in on-call words, and a hint that says how to fix it. The AWS semantics encoded
here are the ones in facts.md §1-§3; the knowledge itself (key types, presence, hub scoping) is data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from vpce_console.data.knowledge import Catalog, KeyInfo, Knowledge, default_catalog, default_knowledge
from vpce_console.policy.endpoint_context import EndpointContext
from vpce_console.policy.findings import SEVERITY_RANK, Finding, Related, Severity
from vpce_console.policy.lint_conditions import (
    OPERATOR_FAMILY,
    WILDCARD_OPERATORS,
    Operator,
    has_wildcard,
    literal_runs_ok,
    parse_operator,
    variable_keys,
)
from vpce_console.policy.lint_gc import gc_paused
from vpce_console.policy.lint_placeholders import has_iam_variable, placeholders
from vpce_console.policy.lint_resources import _an, check_resource_fit, check_star_only_actions
from vpce_console.policy.lint_shapes import check_principal, check_value_shape
from vpce_console.policy.parse import Member, Node, format_path, parse_policy

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


class _Linter:
    """One lint run over one document."""

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

    # -- output ------------------------------------------------------------------------------------------------

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

    # -- document ----------------------------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        parsed = parse_policy(self.text)
        root = parsed.root
        if root is not None and root.kind == "string" and str(root.value).lstrip().startswith("{"):
            return self.run_encoded(root)
        if self.vpce and len(self.text) > MAX_ENDPOINT_POLICY_CHARS:
            line, column = parsed.position(MAX_ENDPOINT_POLICY_CHARS)
            self.findings.append(
                Finding(
                    code="policy-too-large",
                    severity=Severity(self.catalog.severity("policy-too-large")),
                    line=line,
                    column=column,
                    path="",
                    message=f"The policy is {len(self.text):,} characters; an endpoint policy may have at most "
                    f"{MAX_ENDPOINT_POLICY_CHARS:,} including white space, so ModifyVpcEndpoint rejects it. "
                    "The limit is crossed here.",
                    hint="Remove white space (minify the JSON), merge statements that share conditions, and use "
                    "wildcards or aws:PrincipalOrgPaths/aws:PrincipalTag instead of long lists of ARNs or accounts.",
                )
            )
        self.findings.extend(parsed.findings)
        root = parsed.root
        if root is not None:
            self.document(root)
            self.document_rules(root)
        self.findings.sort(key=lambda f: (f.line, f.column, SEVERITY_RANK[f.severity], f.code))
        return self.findings

    def run_encoded(self, root: Node) -> list[Finding]:
        """A policy given as a JSON string (double-encoded): lint the decoded text, findings at the string."""
        import dataclasses

        inner = _Linter(
            str(root.value),
            "vpce" if self.vpce else "identity",
            self.service,
            self.knowledge,
            self.catalog,
            self.endpoint,
        )
        found = inner.run()
        self.statements = inner.statements
        self.emit(
            "policy-json-string",
            root,
            (),
            "The document is a JSON string that contains the policy (double-encoded, as describe-vpc-endpoints and "
            "Terraform store it); it was decoded and linted. "
            + (
                f"The {len(found)} finding{'s' if len(found) != 1 else ''} below "
                f"{'point' if len(found) != 1 else 'points'} at the string; "
                f"{'their' if len(found) != 1 else 'its'} JSON path is inside the decoded policy."
                if found
                else "It has no findings."
            ),
            "Decode it (`jq -r . file.json`) to edit the policy itself.",
        )
        self.findings.extend(dataclasses.replace(f, line=root.line, column=root.column) for f in found)
        return self.findings

    def document(self, root: Node) -> None:
        if root.kind != "object":
            self.emit(
                "invalid-structure",
                root,
                (),
                f"The policy must be a JSON object with a Statement element, not a {root.kind}.",
                'Wrap the statements as {"Version": "2012-10-17", "Statement": [ … ]}.',
            )
            return
        version: str | None = None
        statement: Member | None = None
        for member in root.members:
            if member.key == "Version":
                if member.value.kind != "string" or member.value.value not in _VERSIONS:
                    self.emit(
                        "invalid-structure",
                        member.value,
                        ("Version",),
                        f'Version must be "2012-10-17" (or the legacy "2008-10-17"), not {_show(member.value)}.',
                        'Use "Version": "2012-10-17"; it is also what enables ${…} policy variables.',
                    )
                else:
                    version = member.value.value
            elif member.key == "Statement":
                statement = member
            elif member.key != "Id":
                self.unknown_element(member, (), _TOP_LEVEL, "top level")
        if statement is None:
            self.emit(
                "invalid-structure",
                root,
                (),
                "The policy has no Statement element, so it allows nothing.",
                'Add "Statement": [ {"Effect": "Allow", "Principal": "*", "Action": …, "Resource": …} ].',
            )
        else:
            value = statement.value
            if value.kind == "array":
                if not value.items:
                    self.emit(
                        "invalid-structure",
                        value,
                        ("Statement",),
                        "Statement is an empty list, so the policy allows nothing through the endpoint.",
                        "Add at least one Allow statement.",
                    )
                for index, item in enumerate(value.items):
                    self.statement(item, ("Statement", index))
            elif value.kind == "object":
                self.statement(value, ("Statement",))
            else:
                self.emit(
                    "invalid-structure",
                    value,
                    ("Statement",),
                    f"Statement must be a list of statement objects (or one object), not a {value.kind}.",
                    'Write "Statement": [ { … }, { … } ].',
                )
        if self.variables and version != "2012-10-17":
            first = self.variables[0]
            count = len(self.variables)
            self.emit(
                "variables-need-version",
                first,
                (),
                f"The policy uses ${{…}} policy variables ({count} value{'s' if count > 1 else ''}, first here) but "
                f"{'has no Version' if version is None else 'Version is ' + repr(version)}; without "
                '"Version": "2012-10-17" AWS treats them as literal text, which never matches a real value.',
                'Add "Version": "2012-10-17" at the top of the policy.',
            )

    def document_rules(self, root: Node) -> None:
        """Rules about the policy as a whole: no Allow at all, nothing for this service, star-only actions."""
        from vpce_console.policy.lint_document import check_document

        check_document(self, root)
        check_star_only_actions(self, self.statements)

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

    # -- statement ---------------------------------------------------------------------------------------------

    def statement(self, node: Node, path: tuple[str | int, ...]) -> None:
        if node.kind != "object":
            self.emit(
                "invalid-structure",
                node,
                path,
                f"Each statement must be a JSON object, not a {node.kind}.",
                'Write each statement as {"Effect": …, "Principal": …, "Action": …, "Resource": …}.',
            )
            return
        st = _Statement(node, path)
        self.statements.append(st)
        elements: dict[str, Member] = {}
        for member in node.members:
            if member.key in _STATEMENT_ELEMENTS:
                elements[member.key] = member
            else:
                self.unknown_element(member, path, _STATEMENT_ELEMENTS, "statement level")
        self.effect(st, elements.get("Effect"))
        self.principal(st, elements.get("Principal"), elements.get("NotPrincipal"))
        self.actions(st, elements.get("Action"), elements.get("NotAction"))
        self.resources(st, elements.get("Resource"), elements.get("NotResource"))
        condition = elements.get("Condition")
        if condition is not None:
            self.collect_conditions(st, condition)
            self.check_conditions(st)
        self.full_access(st, elements)
        check_resource_fit(self, st)

    def effect(self, st: _Statement, member: Member | None) -> None:
        if member is None:
            self.emit(
                "invalid-structure",
                st.node,
                st.path,
                "The statement has no Effect.",
                'Add "Effect": "Allow" or "Effect": "Deny".',
            )
            return
        value = member.value
        if value.kind == "string" and value.value in ("Allow", "Deny"):
            st.effect = value.value
            return
        self.bad_effect = True
        fix = "Allow"
        if value.kind == "string" and value.value.lower() in ("deny", "denied", "block", "reject"):
            fix = "Deny"
        self.emit(
            "invalid-structure",
            value,
            (*st.path, "Effect"),
            f'Effect must be exactly "Allow" or "Deny", not {_show(value)}; AWS rejects the policy.',
            f'Use "Effect": "{fix}".',
        )

    def principal(self, st: _Statement, principal: Member | None, not_principal: Member | None) -> None:
        if principal is not None and not_principal is not None:
            self.emit(
                "invalid-structure",
                not_principal,
                (*st.path, "NotPrincipal"),
                "A statement cannot have both Principal and NotPrincipal.",
                "Keep Principal and express exceptions with a condition on aws:PrincipalArn.",
            )
        if principal is None and not_principal is None:
            if self.vpce:
                self.emit(
                    "missing-principal",
                    st.node,
                    st.path,
                    "This endpoint-policy statement has no Principal. An endpoint policy must contain a Principal "
                    "element, so AWS rejects the whole policy.",
                    'Add "Principal": "*" and narrow callers with conditions such as aws:PrincipalOrgID, '
                    "aws:PrincipalAccount or aws:PrincipalArn.",
                )
            return
        member = principal or not_principal
        assert member is not None
        name = member.key
        self.principal_value(st, member.value, (*st.path, name))
        if not_principal is not None and self.vpce:
            self.emit(
                "unconfirmed-notprincipal",
                not_principal,
                (*st.path, "NotPrincipal"),
                "NotPrincipal in an endpoint policy: AWS's endpoint-policy documentation only describes Principal, "
                "and whether endpoints honour NotPrincipal is UNCONFIRMED. The statement may not do what it says.",
                'Prefer "Principal": "*" with an ArnNotLike/StringNotEquals condition on aws:PrincipalArn '
                "or aws:PrincipalAccount, which is documented to work.",
            )

    def principal_value(self, st: _Statement, value: Node, path: tuple[str | int, ...]) -> None:
        if value.kind == "string":
            if value.value != "*":
                self.emit(
                    "invalid-structure",
                    value,
                    path,
                    f'A Principal string can only be "*", not {_show(value)}.',
                    'Write "Principal": {"AWS": "arn:aws:iam::111122223333:role/name"} or "Principal": "*".',
                )
            return
        if value.kind != "object":
            self.emit(
                "invalid-structure",
                value,
                path,
                f'Principal must be "*" or an object such as {{"AWS": [...]}}, not a {value.kind}.',
                'Write "Principal": "*" or "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]}.',
            )
            return
        for member in value.members:
            if member.key not in _PRINCIPAL_TYPES:
                self.unknown_element(member, path, _PRINCIPAL_TYPES, "principal")
                continue
            for item, item_path in _strings_or_list(member.value, (*path, member.key)):
                if item is None:
                    self.emit(
                        "invalid-structure",
                        member.value,
                        (*path, member.key),
                        f"Principal {member.key} must be a string or a list of strings.",
                        f'Write "{member.key}": ["…", "…"].',
                    )
                    break
                if self.opaque(item, item_path):
                    continue
                check_principal(self, member.key, item, item_path)
                if self.vpce and isinstance(item.value, str) and has_wildcard(item.value) and item.value != "*":
                    self.emit(
                        "wildcard-on-sensitive-key",
                        item,
                        item_path,
                        f'Principal {_show(item)} contains a wildcard; a Principal can only be "*" as a whole, '
                        "partial wildcards are not supported.",
                        'Use "Principal": "*" with an ArnLike condition on aws:PrincipalArn instead.',
                    )
                elif self.vpce and member.key == "AWS" and _ACCOUNT_ROOT.match(str(item.value)):
                    self.emit(
                        "principal-account-root",
                        item,
                        item_path,
                        f"Principal {_show(item)} names an account. For gateway endpoints AWS documents that this "
                        "grants only the account's ROOT user, not its roles and users; for interface endpoints the "
                        "behaviour is not documented (UNCONFIRMED). Workloads of that account may be denied.",
                        'Use "Principal": "*" with "StringEquals": {"aws:PrincipalAccount": ["<account id>"]} '
                        "(or aws:PrincipalArn for specific roles).",
                    )

    def actions(self, st: _Statement, action: Member | None, not_action: Member | None) -> None:
        if action is not None and not_action is not None:
            self.emit(
                "invalid-structure",
                not_action,
                (*st.path, "NotAction"),
                "A statement cannot have both Action and NotAction; AWS rejects the policy.",
                "Keep one of them (split the statement in two if you need both).",
            )
        if action is None and not_action is None:
            self.emit(
                "invalid-structure",
                st.node,
                st.path,
                "The statement has neither Action nor NotAction, so AWS rejects it.",
                'Add "Action": ["sqs:SendMessage", …] (or "*").',
            )
            return
        member = action or not_action
        assert member is not None
        if not_action is not None and action is None:
            st.any_service = True
        items = _strings_or_list(member.value, (*st.path, member.key))
        if member.key == "Action" and all(item is not None for item, _ in items):
            st.action_items = [(item, p) for item, p in items if item is not None]
        for item, item_path in items:
            if item is None:
                self.emit(
                    "invalid-structure",
                    member.value,
                    (*st.path, member.key),
                    f"{member.key} must be a string or a list of strings.",
                    f'Write "{member.key}": ["service:Action", …].',
                )
                return
            self.action(st, item, item_path, member.key == "Action")

    def action(self, st: _Statement, item: Node, path: tuple[str | int, ...], positive: bool) -> None:
        text: str = item.value
        if self.opaque(item, path):
            st.any_service = st.any_service or positive
            return
        if text == "*":
            if positive:
                st.any_service = True
            return
        prefix, sep, name = text.partition(":")
        if not sep or not prefix or not name:
            self.emit(
                "unknown-action",
                item,
                path,
                f'{_show(item)} is not an action: actions are written "service:ActionName" (or "*").',
                'Write e.g. "sqs:SendMessage" or "sqs:*".',
            )
            return
        prefix_l = prefix.lower()
        data = self.knowledge.service(prefix_l)
        if data is None:
            near = _close_matches(prefix_l, sorted(self.knowledge.service_names), n=1, cutoff=0.75)
            guess = f' Did you mean "{near[0]}"?' if near else ""
            self.emit(
                "unknown-action",
                item,
                path,
                f'"{prefix}" is not an AWS service prefix, so {_show(item)} matches no request.{guess}',
                "Use the service prefix from the Service Authorization Reference (e.g. sqs, kms, logs, ecr).",
            )
            return
        if positive:
            st.services.add(prefix_l)
        if not self.knowledge.action_exists(prefix_l, name):
            near = _close_matches(name.lower(), list(data.actions), n=1, cutoff=0.7)
            guess = f' Did you mean "{prefix}:{data.actions[near[0]]}"?' if near else ""
            what = "Allow grants nothing" if st.effect != "Deny" else "Deny protects nothing"
            self.emit(
                "unknown-action",
                item,
                path,
                f"{_show(item)} matches no {prefix} action in the IAM data, so it never matches a request "
                f"(this {what} for it).{guess}",
                "Fix the spelling; check the action list in the Service Authorization Reference.",
            )
            return
        if self.vpce and self.prefixes and prefix_l not in self.prefixes:
            self.emit(
                "action-other-service",
                item,
                path,
                f"{_show(item)} belongs to {prefix}, but this is the endpoint policy of "
                f"{_an(self.service_label or '')} {self.service_label} endpoint; "
                f"{prefix} requests never go through it, so this element has no effect here.",
                f"Remove it, or put it in the policy of the {prefix} endpoint.",
            )

    def resources(self, st: _Statement, resource: Member | None, not_resource: Member | None) -> None:
        if resource is not None and not_resource is not None:
            self.emit(
                "invalid-structure",
                not_resource,
                (*st.path, "NotResource"),
                "A statement cannot have both Resource and NotResource; AWS rejects the policy.",
                "Keep one of them.",
            )
        if resource is None and not_resource is None:
            self.emit(
                "invalid-structure",
                st.node,
                st.path,
                "The statement has neither Resource nor NotResource; AWS rejects it.",
                'Add "Resource": "*" (or the ARNs the endpoint may reach).',
            )
            return
        member = resource or not_resource
        assert member is not None
        items = _strings_or_list(member.value, (*st.path, member.key))
        if member.key == "Resource" and all(item is not None for item, _ in items):
            st.resource_items = [(item, p) for item, p in items if item is not None]
        for item, item_path in items:
            if item is None:
                self.emit(
                    "invalid-structure",
                    member.value,
                    (*st.path, member.key),
                    f"{member.key} must be a string or a list of strings.",
                    f'Write "{member.key}": ["arn:aws:…", …] or "*".',
                )
                return
            text: str = item.value
            opaque = self.opaque(item, item_path)
            if "${" in text:
                if has_iam_variable(text):
                    self.variables.append(item)
                for ref in variable_keys(text):
                    st.variable_refs.add(ref.lower())
            if opaque and not text.startswith("arn:"):
                continue
            if text != "*" and not text.startswith("arn:") and not text.startswith("${"):
                self.emit(
                    "invalid-structure",
                    item,
                    item_path,
                    f'{member.key} {_show(item)} is neither "*" nor an ARN.',
                    'Write a full ARN such as "arn:aws:sqs:us-east-1:111122223333:queue-name", or "*".',
                )
            elif self.vpce:
                self.arn_account_field(item, item_path)

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

    # -- conditions --------------------------------------------------------------------------------------------

    def collect_conditions(self, st: _Statement, condition: Member) -> None:
        block = condition.value
        cpath = (*st.path, "Condition")
        if block.kind != "object":
            self.emit(
                "invalid-structure",
                block,
                cpath,
                f'Condition must be an object like {{"StringEquals": {{"key": "value"}}}}, not a {block.kind}.',
                'Write "Condition": {"<Operator>": {"<key>": "<value or list>"}}.',
            )
            return
        for op_member in block.members:
            op = parse_operator(op_member.key)
            opath = (*cpath, op_member.key)
            if op is None:
                near = _close_matches(op_member.key, _ALL_OPERATOR_NAMES, n=1, cutoff=0.7)
                guess = f' Did you mean "{near[0]}"?' if near else ""
                self.emit(
                    "invalid-structure",
                    op_member,
                    opath,
                    f'"{op_member.key}" is not an IAM condition operator; AWS rejects the policy.{guess}',
                    "Use an operator such as StringEquals, StringLike, ArnLike, IpAddress, Bool or Null "
                    "(optionally ForAnyValue:/ForAllValues: and …IfExists).",
                )
                continue
            if op_member.value.kind != "object":
                self.emit(
                    "invalid-structure",
                    op_member.value,
                    opath,
                    f'The operator {op_member.key} must map condition keys to values, e.g. {{"aws:PrincipalOrgID": '
                    '"o-…"}.',
                    f'Write "{op_member.key}": {{"<key>": "<value or list>"}}.',
                )
                continue
            for key_member in op_member.value.members:
                kpath = (*opath, key_member.key)
                values = self.condition_values(key_member, kpath, st)
                if values is None:
                    continue
                info = self.resolve_key(key_member.key)
                cond = _Cond(op, op_member, key_member.key, key_member, info, values, kpath)
                st.conds.append(cond)
                lower = key_member.key.lower()
                st.keys.add(lower)
                if op.base == "Null" and _is_false(values):
                    st.null_false.add(lower)
                    if info is not None and info.scope_group:
                        st.null_false_groups.add(info.scope_group)
                if (
                    op.base == "Bool"
                    and lower == "aws:principalisawsservice"
                    and op.set_op is None
                    and [v.value for v in values] in (["false"], [False])
                ):
                    st.service_principals_excluded = True
        for cond in st.conds:
            if cond.op.base == "Null":
                continue
            for value in cond.values:
                if isinstance(value.value, str) and "${" in value.value:
                    for ref in variable_keys(value.value):
                        st.variable_refs.add(ref.lower())

    def condition_values(self, key_member: Member, path: tuple[str | int, ...], st: _Statement) -> list[Node] | None:
        value = key_member.value
        items = list(value.items) if value.kind == "array" else [value]
        for item in items:
            if item.kind in ("object", "array", "null"):
                self.emit(
                    "invalid-structure",
                    item,
                    path,
                    f"A condition value must be a string, number or boolean (or a list of them), not {item.kind}.",
                    f'Write "{key_member.key}": "value" or "{key_member.key}": ["v1", "v2"].',
                )
                return None
            if item.kind == "string" and "${" in item.value and has_iam_variable(item.value):
                self.variables.append(item)
            if item.kind == "string":
                self.opaque(item, path)
        if not items:
            self.emit(
                "invalid-structure",
                value,
                path,
                f"The condition on {key_member.key} has an empty list of values, so it can never match.",
                "List at least one value.",
            )
            return None
        return items

    def resolve_key(self, key: str) -> KeyInfo | None:
        return self.knowledge.key(key)

    def check_conditions(self, st: _Statement) -> None:
        for cond in st.conds:
            if cond.info is None:
                self.unknown_key(st, cond)
                continue
            if cond.info.service is not None and not self.key_fits_statement(st, cond.info.service):
                self.key_of_other_service(st, cond)
                continue
            self.type_rules(cond)
            check_value_shape(self, st, cond)
            self.set_rules(st, cond)
            if self.vpce:
                self.endpoint_rules(st, cond)
            self.presence_rules(st, cond)
        if self.vpce:
            self.variable_hub_refs(st)

    def key_fits_statement(self, st: _Statement, service: str) -> bool:
        if service in st.services:
            return True
        if st.any_service:
            return self.prefixes is None or service in self.prefixes
        return False

    def unknown_key(self, st: _Statement, cond: _Cond) -> None:
        key = cond.key
        prefix = key.partition(":")[0].lower()
        candidates = [k.name for k in self.knowledge.global_keys if not k.prefix]
        data = self.knowledge.service(prefix) if prefix != "aws" else None
        if data is not None:
            candidates += [k.name for k in data.keys.values()]
        near = _close_matches(key, candidates, n=1, cutoff=0.8)
        if not near:
            lowered = {c.lower(): c for c in candidates}
            near = _close_matches(key.lower(), list(lowered), n=1, cutoff=0.8)
            near = [lowered[n] for n in near]
        guess = f' Did you mean "{near[0]}"?' if near else ""
        what = "Allow never matches" if not cond.op.true_when_missing else "condition is always true"
        self.emit(
            "unknown-condition-key",
            cond.key_member,
            cond.path,
            f'"{key}" is not a global condition key nor a key of the services this statement names, so it is never '
            f"in the request context and the {what} (AWS accepts the policy without a word).{guess}",
            "Fix the key name (see the global condition keys page and the service's condition-key table).",
        )

    def key_of_other_service(self, st: _Statement, cond: _Cond) -> None:
        service = cond.info.service if cond.info else "?"
        named = ", ".join(sorted(st.services)) or (self.service or "?")
        self.emit(
            "unknown-condition-key",
            cond.key_member,
            cond.path,
            f'"{cond.key}" is a {service} key, but this statement is about {named} actions; requests for those '
            "never carry it, so the condition behaves as if the key were missing.",
            f"Use a key of {named} or a global aws: key, or move the condition to a statement with {service} actions.",
        )

    def type_rules(self, cond: _Cond) -> None:
        info = cond.info
        assert info is not None
        family = cond.op.family
        if family == "Null":
            if not all(_is_bool_text(v) for v in cond.values):
                self.emit(
                    "invalid-structure",
                    cond.values[0],
                    cond.path,
                    f'Null takes "true" (key absent) or "false" (key present) for {cond.key}.',
                    f'Write "Null": {{"{cond.key}": "false"}}.',
                )
            return
        ktype = info.type
        fits = family == ktype or (family == "Numeric" and info.name == "aws:EpochTime")
        if family == "String" and ktype == "ARN":
            fits = True  # AWS allows string operators on ARN keys (ArnLike is recommended, not required)
        if family == "String" and ktype == "IP" and all(_is_variable_of_type(v, "IP", self) for v in cond.values):
            fits = True  # AWS's own example compares aws:Ec2InstanceSourcePrivateIPv4 to ${aws:VpcSourceIp}
        if not fits:
            self.emit(
                "operator-type-mismatch",
                cond.op_member,
                cond.path,
                f"{cond.op.raw} compares {family} values, but {cond.key} holds {_a(ktype)} value; the comparison "
                f"does not work the way it reads ({_mismatch_effect(family, ktype)}).",
                f"Use {_operator_for(ktype)} for {cond.key}.",
            )
            return
        bad = [v for v in cond.values if not _value_fits(family, v)]
        if bad:
            self.emit(
                "operator-type-mismatch",
                bad[0],
                cond.path,
                f"{_show(bad[0])} is not a valid {family} value for {cond.op.raw}; the condition can never match "
                "as intended.",
                _value_hint(family),
            )

    def set_rules(self, st: _Statement, cond: _Cond) -> None:
        info = cond.info
        assert info is not None
        if cond.op.base == "Null":
            return
        vacuous = cond.op.set_op == "ForAllValues" and st.effect == "Allow" and cond.key.lower() not in st.null_false
        vacuous_words = (
            f"ForAllValues is true when the request has no {cond.key} at all, so this Allow also lets in every "
            "caller that lacks the key."
        )
        if cond.op.set_op and not info.multivalued:
            related = (
                (
                    Related(
                        "forallvalues-vacuous",
                        cond.op_member.line,
                        cond.op_member.column,
                        format_path(cond.path),
                        vacuous_words,
                    ),
                )
                if vacuous
                else ()
            )
            self.emit(
                "set-operator-mismatch",
                cond.op_member,
                cond.path,
                f"{cond.op.set_op} is for multivalued keys, but {cond.key} is single-valued; AWS warns this "
                "can lead to overly permissive policies"
                + (
                    f". {vacuous_words}"
                    if vacuous
                    else " (ForAllValues is true when the key is missing)."
                    if cond.op.set_op == "ForAllValues"
                    else "."
                ),
                f"Drop the set operator: use {cond.op.base}{'IfExists' if cond.op.if_exists else ''}.",
                related=related,
            )
            return
        elif not cond.op.set_op and info.multivalued:
            self.emit(
                "set-operator-mismatch",
                cond.op_member,
                cond.path,
                f"{cond.key} is multivalued (a list of values per request), but {cond.op.raw} has no "
                "ForAnyValue:/ForAllValues: qualifier, so it does not say how the list is compared.",
                f"Use ForAnyValue:{cond.op.base} (any value matches) or ForAllValues:{cond.op.base} with a Null guard.",
            )
        if vacuous:
            self.emit(
                "forallvalues-vacuous",
                cond.op_member,
                cond.path,
                vacuous_words,
                f'Add "Null": {{"{cond.key}": "false"}} to the same statement, or use ForAnyValue.',
            )

    def endpoint_rules(self, st: _Statement, cond: _Cond) -> None:
        info = cond.info
        assert info is not None
        lower = cond.key.lower()
        if info.hub_scoped and not cond.dead and not self.pairs_vpcsourceip(st, cond):
            self.emit(
                "hub-scoped-key",
                cond.key_member,
                cond.path,
                hub_message(cond.key, info.name, st.effect, cond.op, cond.values, self.endpoint),
                SPOKE_HINT,
            )
        if info.never_present:
            self.emit(
                "key-never-present",
                cond.key_member,
                cond.path,
                f"{cond.key} is never in a request that goes through a VPC endpoint. "
                f"{_missing_effect(st.effect, cond)}",
                "Use aws:VpcSourceIp with the spoke CIDRs (paired with aws:SourceVpce) to match private source "
                "addresses; aws:SourceIp only ever sees public IPs.",
            )
        if info.pair_with and info.pair_with.lower() not in st.keys and info.pair_with.lower() not in st.variable_refs:
            self.emit(
                "ec2-ip-unpaired",
                cond.key_member,
                cond.path,
                f"{cond.key} is used without {info.pair_with} in the same statement. Private IPs repeat across "
                "VPCs, so any caller in any VPC with that address matches; AWS says to always pair it with "
                f"{info.pair_with}.",
                f'Add "{info.pair_with}" (the spoke VPC id) to the same statement, or use aws:VpcSourceIp with the '
                "spoke CIDRs plus aws:SourceVpce.",
            )
        if lower == "aws:ec2instancesourceprivateipv4" and any(
            isinstance(v.value, str) and "aws:vpcsourceip" in v.value.lower() for v in cond.values
        ):
            self.emit(
                "ec2-ip-primary-eni-only",
                cond.key_member,
                cond.path,
                "aws:Ec2InstanceSourcePrivateIPv4 is the private IPv4 of the instance's PRIMARY network interface, "
                "while aws:VpcSourceIp is the address the request came from. They differ for EKS pods with VPC CNI "
                "addresses and ECS awsvpc tasks that use the node's instance role, and for calls from secondary "
                "interfaces or addresses, so those callers fail this comparison (inferred from AWS's definitions "
                "of the two keys).",
                "Give pods and tasks their own roles (IRSA, Pod Identity, ECS task roles) and match them with "
                "principal tags, or compare aws:VpcSourceIp with the spoke CIDRs instead of exact addresses.",
            )
        if lower == "aws:vpcsourceip" and not self.vpcsourceip_noted:
            self.vpcsourceip_noted = True
            self.emit(
                "unconfirmed-vpcsourceip-path",
                cond.key_member,
                cond.path,
                "aws:VpcSourceIp is the caller's private IP only when nothing NATs the traffic on the way to the "
                "hub. Across a Transit Gateway or peering that is very likely (L3 routing, no SNAT), but AWS does "
                "not state it explicitly (UNCONFIRMED); an inspection VPC, private NAT gateway or on-prem NAT makes "
                "it the NAT's address.",
                "Check with flow logs on the endpoint ENIs that spoke source addresses arrive unchanged.",
            )
        self.wildcard_rules(cond)

    def pairs_vpcsourceip(self, st: _Statement, cond: _Cond) -> bool:
        """A positive hub key next to aws:VpcSourceIp is AWS's recommended pairing, not a mistake."""
        if cond.op.negated or cond.op.if_exists or st.effect != "Allow":
            return False
        return any(c.key.lower() == "aws:vpcsourceip" and not c.op.negated and not c.op.if_exists for c in st.conds)

    def wildcard_rules(self, cond: _Cond) -> None:
        info = cond.info
        assert info is not None
        family = cond.op.family
        if info.sensitive:
            if family == "Numeric":
                self.emit(
                    "wildcard-on-sensitive-key",
                    cond.op_member,
                    cond.path,
                    f"{cond.key} holds a system-generated id; endpoint policies do not allow numeric operators "
                    "on such keys.",
                    f'Use StringEquals with the exact ids: "StringEquals": {{"{cond.key}": [...]}}.',
                )
                return
            wild = [v for v in cond.values if isinstance(v.value, str) and has_wildcard(v.value)]
            if wild or cond.op.base in ("StringLike", "StringNotLike"):
                at = wild[0] if wild else cond.op_member
                self.emit(
                    "wildcard-on-sensitive-key",
                    at,
                    cond.path,
                    f"{cond.key} holds a system-generated id (account, organization, VPC or endpoint id). AWS "
                    "lists it as sensitive: wildcards have no valid use on it, even inside a value, and endpoint "
                    "policies do not allow them.",
                    "List the exact ids with StringEquals; for groups of accounts use aws:PrincipalOrgPaths "
                    "(ForAnyValue:StringLike) or principal tags.",
                )
                return
        if cond.op.base in WILDCARD_OPERATORS and family == "String":
            for value in cond.values:
                if isinstance(value.value, str) and has_wildcard(value.value) and not literal_runs_ok(value.value):
                    self.emit(
                        "wildcard-on-sensitive-key",
                        value,
                        cond.path,
                        f"{_show(value)} has a wildcard with fewer than 6 consecutive literal characters before or "
                        "after it; endpoint policies require at least six around each wildcard in string operators.",
                        "Spell out more of the value around the wildcard (or list the exact values).",
                    )
        if family == "ARN":
            for value in cond.values:
                if isinstance(value.value, str) and value.value.startswith("arn:"):
                    self.arn_account_field(value, cond.path)

    def presence_rules(self, st: _Statement, cond: _Cond) -> None:
        info = cond.info
        assert info is not None
        if cond.op.base == "Null" or (self.vpce and info.never_present):
            return
        scoped = cond.key.lower() in st.null_false or (
            info.scope_group is not None and info.scope_group in st.null_false_groups
        )
        if scoped:
            return
        if st.effect == "Allow" and info.carried_by and not cond.op.true_when_missing:
            losers = [CALLER_WORDS.get(k, k) for k in info.absent_for if k != "aws-service"]
            carriers = ", ".join(CALLER_WORDS.get(k, k) for k in info.carried_by)
            inferred = (
                " (for ECS tasks and EKS pods this is inferred from AWS's 'EC2 role credential' wording)"
                if info.scope_group == "ec2-role-credential"
                else ""
            )
            self.emit(
                "credential-scoped-key",
                cond.key_member,
                cond.path,
                f"{cond.key} is only in requests signed by {carriers}. {_upper_first(_join(losers))} never carry "
                f"it{inferred}, so this Allow silently stops matching for them and they are denied through the "
                "endpoint.",
                "Allow those workloads in their own statement (principal tags such as aws:PrincipalTag/vpc-id, "
                "aws:PrincipalOrgID, or aws:VpcSourceIp with spoke CIDRs paired with aws:SourceVpce); if the "
                f"statement is meant only for {carriers}, say so with "
                f'"Null": {{"{_scoping_key(info)}": "false"}}.',
            )
        if st.effect == "Deny" and cond.op.true_when_missing and info.absent_for:
            absent = [k for k in info.absent_for if k not in _INTENDED_ABSENT]
            if st.service_principals_excluded:
                absent = [k for k in absent if k != "aws-service"]
            if not absent:
                return
            words = [CALLER_WORDS.get(k, k) for k in absent]
            if "untagged" in absent and "/" in cond.key:
                words[absent.index("untagged")] = f"callers without the tag {cond.key.split('/', 1)[1]!r}"
            why = "IfExists" if cond.op.if_exists else cond.op.set_op or cond.op.base
            self.emit(
                "negated-missing-key",
                cond.op_member if cond.op.if_exists else cond.key_member,
                cond.path,
                f"{_upper_first(_join(words))} have no {cond.key} in their requests. With {why} a missing key "
                "makes the condition TRUE, so this Deny blocks all of them through the endpoint.",
                f'Scope the Deny to callers that have the key: add "Null": {{"{_scoping_key(info)}": "false"}}'
                + (
                    ', exclude AWS service principals with "Bool": {"aws:PrincipalIsAWSService": "false"}'
                    if "aws-service" in absent
                    else ""
                )
                + ", or express the rule as a positive condition in an Allow.",
            )

    def variable_hub_refs(self, st: _Statement) -> None:
        for cond in st.conds:
            for value in cond.values:
                if not isinstance(value.value, str) or "${" not in value.value:
                    continue
                for ref in variable_keys(value.value):
                    info = self.knowledge.global_key(ref)
                    if info is not None and info.hub_scoped:
                        self.emit(
                            "hub-scoped-key",
                            value,
                            cond.path,
                            f"${{{ref}}} has one value per endpoint: {HUB_WORDS.get(info.name.lower(), 'the same')}"
                            f". Comparing {cond.key} with it compares each caller with the endpoint: only callers "
                            "whose own value equals the endpoint's match. "
                            + _same_as_endpoint_words(info.name, self.endpoint),
                            SPOKE_HINT,
                        )

    def full_access(self, st: _Statement, elements: dict[str, Member]) -> None:
        if st.effect != "Allow" or ("Condition" in elements and elements["Condition"].value.members):
            return
        principal, action, resource = elements.get("Principal"), elements.get("Action"), elements.get("Resource")
        if principal is None or action is None or resource is None:
            return
        if not (_is_star(principal.value) or _is_star_map(principal.value)):
            return
        if _is_star(action.value) and _is_star(resource.value):
            self.emit(
                "default-full-access",
                st.node,
                st.path,
                "This statement allows every action on every resource to every principal with no condition: it is "
                "the default full-access endpoint policy, so the endpoint restricts nothing and any credential "
                "from any account can use it.",
                "Restrict callers with conditions such as aws:PrincipalOrgID and aws:ResourceOrgID (data-perimeter "
                "style), and list only the actions your workloads use.",
            )


_ALL_OPERATOR_NAMES = list(OPERATOR_FAMILY)

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


def _strings_or_list(value: Node, path: tuple[str | int, ...]) -> list[tuple[Node | None, tuple[str | int, ...]]]:
    if value.kind == "string":
        return [(value, path)]
    if value.kind == "array" and value.items and all(item.kind == "string" for item in value.items):
        return [(item, (*path, index)) for index, item in enumerate(value.items)]
    return [(None, path)]


def _is_false(values: list[Node]) -> bool:
    return len(values) == 1 and values[0].value in ("false", False)


def _is_bool_text(node: Node) -> bool:
    return node.value in ("true", "false", True, False)


def _is_star(node: Node) -> bool:
    if node.kind == "string":
        return bool(node.value == "*")
    return node.kind == "array" and any(item.value == "*" for item in node.items)


def _is_star_map(node: Node) -> bool:
    aws = node.get("AWS") if node.kind == "object" else None
    return aws is not None and _is_star(aws.value)


_ACCOUNT_ROOT = re.compile(r"\A(?:[0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:root)\Z")
_IP = re.compile(r"\A[0-9a-fA-F:.]+(/[0-9]{1,3})?\Z")
_NUMERIC = re.compile(r"\A-?[0-9]+(\.[0-9]+)?\Z")
_DATE = re.compile(r"\A([0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9:]+)?)?|[0-9]+)\Z")


def _value_fits(family: str, node: Node) -> bool:
    value = node.value
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return True
    if isinstance(value, str) and placeholders(value):
        return True
    if family == "Bool":
        return value in ("true", "false", True, False) or (
            isinstance(value, str) and value.lower() in ("true", "false")
        )
    if family == "IP":
        return isinstance(value, str) and bool(_IP.match(value)) and ("." in value or ":" in value)
    if family == "Numeric":
        return (isinstance(value, int | float) and not isinstance(value, bool)) or (
            isinstance(value, str) and bool(_NUMERIC.match(value))
        )
    if family == "Date":
        return isinstance(value, int) or (isinstance(value, str) and bool(_DATE.match(value)))
    return True


def _value_hint(family: str) -> str:
    return {
        "Bool": 'Use "true" or "false".',
        "IP": 'Use CIDR notation such as "10.20.0.0/16" (IPv4) or "2001:db8::/32" (IPv6).',
        "Numeric": 'Use a number such as "3600".',
        "Date": 'Use an ISO 8601 date such as "2026-01-31T00:00:00Z" or epoch seconds.',
    }.get(family, "Fix the value.")


def _is_variable_of_type(node: Node, ktype: str, linter: _Linter) -> bool:
    value = node.value
    if not isinstance(value, str) or not (value.startswith("${") and value.endswith("}")):
        return False
    refs = variable_keys(value)
    if len(refs) != 1:
        return False
    info = linter.resolve_key(refs[0])
    return info is not None and info.type == ktype


def _a(ktype: str) -> str:
    return {"IP": "an IP-address", "ARN": "an ARN"}.get(ktype, f"a {ktype}")


def _operator_for(ktype: str) -> str:
    return {
        "String": "a String operator (StringEquals, StringLike, …)",
        "ARN": "ArnEquals/ArnLike (or a String operator)",
        "IP": "IpAddress/NotIpAddress with CIDRs",
        "Bool": 'Bool with "true"/"false"',
        "Numeric": "a Numeric operator (NumericLessThan, …)",
        "Date": "a Date operator (DateGreaterThan, …)",
        "Binary": "BinaryEquals",
    }.get(ktype, "an operator of the key's type")


def _mismatch_effect(family: str, ktype: str) -> str:
    if family == "String" and ktype == "IP":
        return "a CIDR written as a string only matches that exact text, never the addresses in the range"
    if family == "IP":
        return "the key's value is not an IP address, so it never falls in the range"
    if family == "ARN":
        return "the key's value is not an ARN, so ARN matching never succeeds"
    return "values of the wrong type never compare as intended"


def _constant_truth(op: Operator, values: list[Node], known: str | None) -> bool | None:
    """What the condition evaluates to for every request when the endpoint's value is known, else None."""
    if known is None or op.set_op or op.family not in ("String", "ARN"):
        return None
    texts = [v.value for v in values]
    if not all(isinstance(t, str) and "${" not in t and "{{" not in t for t in texts):
        return None
    import fnmatch

    ignore = op.base.endswith("IgnoreCase")
    subject = known.lower() if ignore else known
    wild = op.base in WILDCARD_OPERATORS
    hit = any(
        fnmatch.fnmatchcase(subject, t.lower() if ignore else t) if wild else subject == (t.lower() if ignore else t)
        for t in texts
    )
    return hit != op.negated


def _statement_outcome(effect: str | None, truth: bool | None) -> str:
    if truth is None:
        if effect == "Deny":
            return "this Deny either applies to every request through the endpoint or never applies"
        return "this Allow either admits every caller through the endpoint or none of them"
    if effect == "Deny":
        return "this Deny applies to every request through the endpoint" if truth else "this Deny never applies"
    return (
        "the condition restricts nothing: this Allow admits every caller the rest of the statement admits"
        if truth
        else "this Allow grants nothing"
    )


def _shared_words(name: str, endpoint: EndpointContext | None, subject: str = "the condition") -> str:
    """The consequence on a centralized endpoint: named when the endpoint is known to be shared."""
    if endpoint is not None and endpoint.shared:
        where = ", ".join(
            part
            for part in (
                f"hub VPC {endpoint.vpc_id}" if endpoint.vpc_id else "",
                f"endpoint {endpoint.endpoint_id}" if endpoint.endpoint_id else "",
            )
            if part
        )
        value = endpoint.value_of(name)
        carried = f" carries {value}" if value else " carries the same value"
        return (
            f"This endpoint is shared by spokes ({where or 'centralized'}): every spoke's request{carried}, so "
            f"{subject} cannot tell spokes apart."
        )
    return (
        f"On a centralized endpoint shared by spokes that one value is the hub's for every spoke, so {subject} "
        "cannot tell spokes apart."
    )


def _same_as_endpoint_words(name: str, endpoint: EndpointContext | None) -> str:
    """AWS's RequireSameVPC-style comparison: fine per VPC, fails for every spoke of a shared endpoint."""
    value = endpoint.value_of(name) if endpoint is not None else None
    if endpoint is not None and endpoint.shared:
        return (
            f"This endpoint is shared by spokes, so the endpoint's value is the hub's ({value or 'the hub VPC'}) "
            "and no spoke caller matches: the comparison fails for every spoke."
        )
    return (
        "That works for an endpoint in the caller's own VPC; on a centralized endpoint shared by spokes the "
        "endpoint's value is the hub's, so it fails for every spoke caller (AWS's RequireSameVPC pattern)."
    )


def hub_message(
    key: str, name: str, effect: str | None, op: Operator, values: list[Node], endpoint: EndpointContext | None
) -> str:
    """`hub-scoped-key` in words that hold on a per-VPC endpoint and on a shared one."""
    known = endpoint.value_of(name) if endpoint is not None else None
    truth = _constant_truth(op, values, known)
    what = HUB_WORDS.get(name.lower(), "a property of the endpoint")
    mine = f" ({known} here)" if known else ""
    verdict = (
        f"so {op.raw} is {'TRUE' if truth else 'FALSE'} for every request"
        if truth is not None
        else "so the condition has the same result for every caller"
    )
    return (
        f"{key} has one value per endpoint: {what}{mine}. Every request through this endpoint carries that same "
        f"value, {verdict}: {_statement_outcome(effect, truth)}. {_shared_words(name, endpoint)}"
    )


def _missing_effect(effect: str | None, cond: _Cond) -> str:
    if cond.op.true_when_missing:
        verdict = "always TRUE"
        result = "this Deny denies every request" if effect == "Deny" else "this Allow matches every caller"
    else:
        verdict = "always FALSE"
        result = "this Deny never fires" if effect == "Deny" else "this Allow never grants anything"
    return f"With {cond.op.raw} a missing key makes the condition {verdict}, so {result}."


def _scoping_key(info: KeyInfo) -> str:
    if info.scope_group == "ec2-role-credential":
        return "ec2:SourceInstanceARN"
    if info.prefix:
        return info.name + "<tag-key>"
    return info.name


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


@dataclass(frozen=True, slots=True)
class LintReport:
    """Findings for one document plus the service the actions imply (when no service was given)."""

    findings: list[Finding]
    """Findings sorted by position."""
    inferred_service: str | None
    """Without `service`: the IAM prefix every action of the policy belongs to, else None."""


def lint_report(
    text: str,
    *,
    policy_type: str = "vpce",
    service: str | None = None,
    knowledge: Knowledge | None = None,
    catalog: Catalog | None = None,
    endpoint: EndpointContext | None = None,
) -> LintReport:
    """Like `lint`, and says which service the actions imply when `service` is not given."""
    if policy_type not in POLICY_TYPES:
        raise ValueError(f"policy_type must be one of {POLICY_TYPES}, not {policy_type!r}")
    linter = _Linter(
        text,
        policy_type,
        service,
        knowledge if knowledge is not None else default_knowledge(),
        catalog if catalog is not None else default_catalog(),
        endpoint,
    )
    with gc_paused():
        findings = linter.run()
    inferred = None
    if service is None:
        from vpce_console.policy.lint_document import inferred_service

        inferred = inferred_service(linter)
    return LintReport(findings, inferred)


def lint(
    text: str,
    *,
    policy_type: str = "vpce",
    service: str | None = None,
    knowledge: Knowledge | None = None,
    catalog: Catalog | None = None,
    endpoint: EndpointContext | None = None,
) -> list[Finding]:
    """Findings for one policy document, sorted by position; never raises on bad text.

    `policy_type` is one of POLICY_TYPES (a ValueError otherwise: that is a caller bug, not bad input).
    `endpoint` says what is known about the endpoint (its id, VPC, whether it is shared), for exact messages.
    """
    if policy_type not in POLICY_TYPES:
        raise ValueError(f"policy_type must be one of {POLICY_TYPES}, not {policy_type!r}")
    linter = _Linter(
        text,
        policy_type,
        service,
        knowledge if knowledge is not None else default_knowledge(),
        catalog if catalog is not None else default_catalog(),
        endpoint,
    )
    with gc_paused():
        return linter.run()
