"""Lint a VPC endpoint policy with knowledge of what a shared (hub-and-spoke) endpoint can and cannot see.

Every finding carries a code from data/findings.yaml, the exact line/column and JSON path, a message that
says what is wrong and why in on-call words, and a hint that says how to fix it. The AWS semantics encoded
here are the ones in facts §1-§3 (docs/aws-facts.md); the knowledge itself (key types, presence, hub scoping) is
data. This module is the walker; the rules live in the `lint_*` modules and work on `lint_context.LintContext`.
"""

from __future__ import annotations

from dataclasses import dataclass

from vpce_console.data.knowledge import Catalog, Knowledge, default_catalog, default_knowledge
from vpce_console.policy.endpoint_context import EndpointContext
from vpce_console.policy.findings import SEVERITY_RANK, Finding, Severity
from vpce_console.policy.lint_condition_rules import ConditionRules
from vpce_console.policy.lint_context import (
    _STATEMENT_ELEMENTS,
    _TOP_LEVEL,
    _VERSIONS,
    CALLER_WORDS,
    ENDPOINT_SERVICE_PREFIXES,
    HUB_WORDS,
    MAX_ENDPOINT_POLICY_CHARS,
    POLICY_TYPES,
    SPOKE_HINT,
    _show,
    _Statement,
    endpoint_prefixes,
    service_label,
)
from vpce_console.policy.lint_element_rules import ElementRules
from vpce_console.policy.lint_gc import gc_paused
from vpce_console.policy.lint_resources import check_resource_fit, check_star_only_actions
from vpce_console.policy.lint_wording import (
    hub_message,
)
from vpce_console.policy.parse import Member, Node, parse_policy

__all__ = [
    "CALLER_WORDS",
    "ENDPOINT_SERVICE_PREFIXES",
    "HUB_WORDS",
    "MAX_ENDPOINT_POLICY_CHARS",
    "POLICY_TYPES",
    "SPOKE_HINT",
    "LintReport",
    "endpoint_prefixes",
    "hub_message",
    "lint",
    "lint_report",
    "service_label",
]


class _Linter(ElementRules, ConditionRules):
    """The walker: visits the document and each statement, and hands each element to its rules."""

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
