"""Rules on Principal, Action and Resource (and the full-access default) of one statement."""

from __future__ import annotations

from vpce_console.policy.lint_conditions import (
    has_wildcard,
    variable_keys,
)
from vpce_console.policy.lint_context import (
    _PRINCIPAL_TYPES,
    LintContext,
    _close_matches,
    _show,
    _Statement,
)
from vpce_console.policy.lint_placeholders import has_iam_variable
from vpce_console.policy.lint_resources import _an
from vpce_console.policy.lint_shapes import check_principal
from vpce_console.policy.lint_wording import (
    _ACCOUNT_ROOT,
    _is_star,
    _is_star_map,
    _strings_or_list,
)
from vpce_console.policy.parse import Member, Node


class ElementRules(LintContext):
    """The statement elements other than Condition."""

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
