"""Rules on Condition blocks: known keys, value types and set operators; the scope rules come from `ScopeRules`."""

from __future__ import annotations

from vpce_console.policy.findings import Related
from vpce_console.policy.lint_conditions import (
    parse_operator,
    variable_keys,
)
from vpce_console.policy.lint_context import (
    _close_matches,
    _Cond,
    _show,
    _Statement,
)
from vpce_console.policy.lint_placeholders import has_iam_variable
from vpce_console.policy.lint_scope_rules import ScopeRules
from vpce_console.policy.lint_shapes import check_value_shape
from vpce_console.policy.lint_wording import (
    _ALL_OPERATOR_NAMES,
    _a,
    _is_bool_text,
    _is_false,
    _is_variable_of_type,
    _mismatch_effect,
    _operator_for,
    _value_fits,
    _value_hint,
)
from vpce_console.policy.parse import Member, Node, format_path


class ConditionRules(ScopeRules):
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
