"""Rules on what a condition scopes: hub-scoped keys, wildcards in values, key presence and variables naming the hub."""

from __future__ import annotations

from vpce_console.policy.lint_conditions import (
    WILDCARD_OPERATORS,
    has_wildcard,
    literal_runs_ok,
    variable_keys,
)
from vpce_console.policy.lint_context import (
    _INTENDED_ABSENT,
    CALLER_WORDS,
    HUB_WORDS,
    SPOKE_HINT,
    LintContext,
    _Cond,
    _show,
    _Statement,
)
from vpce_console.policy.lint_wording import (
    _join,
    _missing_effect,
    _same_as_endpoint_words,
    _scoping_key,
    _upper_first,
    hub_message,
)


class ScopeRules(LintContext):
    """What a statement's conditions say about who the caller is: keys that name the hub, wildcards, absent keys."""

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
