"""Rules on Condition blocks: key types, set operators, hub-scoped keys, wildcards, presence and variables."""

from __future__ import annotations

from vpce_console.policy.findings import Related
from vpce_console.policy.lint_conditions import (
    WILDCARD_OPERATORS,
    has_wildcard,
    literal_runs_ok,
    parse_operator,
    variable_keys,
)
from vpce_console.policy.lint_context import (
    _INTENDED_ABSENT,
    CALLER_WORDS,
    HUB_WORDS,
    SPOKE_HINT,
    LintContext,
    _close_matches,
    _Cond,
    _show,
    _Statement,
)
from vpce_console.policy.lint_placeholders import has_iam_variable
from vpce_console.policy.lint_shapes import check_value_shape
from vpce_console.policy.lint_wording import (
    _ALL_OPERATOR_NAMES,
    _a,
    _is_bool_text,
    _is_false,
    _is_variable_of_type,
    _join,
    _mismatch_effect,
    _missing_effect,
    _operator_for,
    _same_as_endpoint_words,
    _scoping_key,
    _upper_first,
    _value_fits,
    _value_hint,
    hub_message,
)
from vpce_console.policy.parse import Member, Node, format_path


class ConditionRules(LintContext):
    """Everything a statement's conditions can get wrong for the endpoint's callers."""

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
