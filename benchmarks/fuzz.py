"""Fuzz `lint` and `evaluate` with random and mutated policy documents; nothing may raise.

`lint(text)` must never raise (invalid input is a finding). `compile_policy(text)` may raise only the
documented `PolicyError`; a compiled policy must evaluate any request without raising.

    python benchmarks/fuzz.py --iterations 200000 [--seed N]
    python benchmarks/fuzz.py --inputs --iterations 5000    # config, personas, request and CloudTrail files

prints one JSON line (documents, compiled, policy_errors, evaluations, failures, seconds) and exits 1 when
anything raised. tests/unit/test_fuzz.py runs 10,000 documents with a fixed seed through the same generator.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from vpce_console.policy.evaluator import PolicyError, Request, compile_policy

OPERATORS = [
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
    "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
    "StringEqual", "Nul", "",  # typos and junk
]  # fmt: skip
KEYS = [
    "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp", "aws:SourceIp", "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths", "aws:PrincipalTag/team", "aws:PrincipalArn", "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4", "ec2:SourceInstanceARN", "lambda:SourceFunctionArn", "aws:CurrentTime",
    "aws:EpochTime", "aws:SecureTransport", "aws:VpceOrgPaths", "aws:CalledVia", "s3:max-keys", "AWS:SOURCEVPC",
    "aws:PrincipalTag/", "", "x", "aws:ResourceAccount", "aws:username",
]  # fmt: skip
STRINGS = [
    "vpc-1", "vpce-0abc", "o-abc123", "o-abc123/r-1/ou-1/*", "10.0.0.0/8", "10.1.2.3", "2001:db8::/32",
    "::1", "arn:aws:iam::111122223333:role/app", "arn:aws:iam::*:role/*", "arn:*", "*", "?", "**", "*?*",
    "true", "false", "TRUE", "2026-01-01T00:00:00Z", "2026-13-45", "1767225600", "-1", "1e309", "nan", "",
    "${aws:username}", "${aws:PrincipalTag/team, 'x'}", "${*}", "${?}", "${$}", "${", "${}", "}", "$${a}}",
    "QUJD", "not base64!", "ü∂ß", "\u0000", "a" * 300, "*a" * 40 + "*b", "${aws:SourceVpc}*${*}?",
    "arn:aws:sqs:us-east-1:111122223333:q", "arn:aws:sqs:*:${aws:PrincipalAccount}:*", "sqs:*", "sqs:Send*",
    "s3:GetObject", "*:*", "lambda.amazonaws.com", "111122223333", "arn:aws:iam::111122223333:root",
]  # fmt: skip
SEEDS = [
    '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
    '{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"*"},'
    '"Action":["sqs:SendMessage","sqs:Receive*"],"Resource":"arn:aws:sqs:*:111122223333:*",'
    '"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"},'
    '"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-abc123/*"]}}},'
    '{"Effect":"Deny","Principal":"*","NotAction":"sqs:Get*","NotResource":"arn:aws:sqs:*:*:pub-*",'
    '"Condition":{"StringNotEqualsIfExists":{"aws:Ec2InstanceSourceVpc":"${aws:PrincipalTag/vpc}"},'
    '"NotIpAddress":{"aws:VpcSourceIp":["10.0.0.0/8","2001:db8::/32"]},"Null":{"ec2:SourceInstanceARN":"false"},'
    '"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"NumericLessThanEquals":{"s3:max-keys":"10"},'
    '"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin-*"},"Bool":{"aws:SecureTransport":true},'
    '"BinaryEquals":{"x:b":"QUJD"}}}]}',
]
JSON_ALPHABET = '{}[]":,\\ \n\t*?$aAzZ09.-/trufalsenul' + "\u00e9\u2603"


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.55:
        return rng.choice(STRINGS)
    if roll < 0.65:
        return rng.choice([True, False, None, 0, -3, 1.5, 10**30, float("inf")])
    if roll < 0.9:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _operator(rng: random.Random) -> str:
    name = rng.choice(OPERATORS)
    if rng.random() < 0.25:
        name += "IfExists"
    if rng.random() < 0.2:
        name = rng.choice(["ForAnyValue:", "ForAllValues:", "forallvalues:", "ForSome:"]) + name
    return name


def _principal(rng: random.Random) -> Any:
    return rng.choice(
        [
            "*",
            {"AWS": "*"},
            {"AWS": rng.choice(STRINGS)},
            {"AWS": [rng.choice(STRINGS) for _ in range(rng.randint(0, 3))]},
            {"Service": rng.choice(STRINGS)},
            {"Federated": "x", "CanonicalUser": "y"},
            {},
            None,
            _value(rng, 2),
        ]
    )


def _statement(rng: random.Random) -> Any:
    if rng.random() < 0.03:
        return _value(rng, 2)
    stmt: dict[str, Any] = {}
    if rng.random() < 0.5:
        stmt["Sid"] = rng.choice(["", "S1", 5, None])
    stmt["Effect"] = rng.choice(["Allow", "Deny", "Allow", "Deny", "allow", "Permit", 1])
    stmt["NotPrincipal" if rng.random() < 0.1 else "Principal"] = _principal(rng)
    for name, negated in (("Action", "NotAction"), ("Resource", "NotResource")):
        roll = rng.random()
        value = rng.choice(STRINGS) if rng.random() < 0.5 else [rng.choice(STRINGS) for _ in range(rng.randint(0, 4))]
        if roll < 0.8:
            stmt[name] = value
        elif roll < 0.93:
            stmt[negated] = value
        elif roll < 0.97:
            stmt[name] = value
            stmt[negated] = value
    if rng.random() < 0.7:
        condition: dict[str, Any] = {}
        for _ in range(rng.randint(0, 4)):
            entries = {rng.choice(KEYS): _value(rng, 1) for _ in range(rng.randint(0, 3))}
            condition[_operator(rng)] = entries if rng.random() < 0.95 else _value(rng, 2)
        stmt["Condition"] = condition if rng.random() < 0.97 else _value(rng, 2)
    return stmt


def _sane_statement(rng: random.Random) -> dict[str, Any]:
    """A structurally valid statement with hostile content, so most documents reach the evaluator."""

    def strings() -> Any:
        return rng.choice(STRINGS) if rng.random() < 0.5 else [rng.choice(STRINGS) for _ in range(rng.randint(1, 3))]

    stmt: dict[str, Any] = {"Effect": rng.choice(["Allow", "Deny"])}
    stmt["NotPrincipal" if rng.random() < 0.1 else "Principal"] = rng.choice(
        ["*", {"AWS": strings()}, {"Service": strings()}, {"AWS": "*"}]
    )
    stmt["NotAction" if rng.random() < 0.15 else "Action"] = strings()
    stmt["NotResource" if rng.random() < 0.15 else "Resource"] = strings()
    condition: dict[str, Any] = {}
    valid_operators = [o for o in OPERATORS if o and o not in ("StringEqual", "Nul")]
    for _ in range(rng.randint(0, 4)):
        name = rng.choice(valid_operators)
        if name != "Null":
            if rng.random() < 0.25:
                name += "IfExists"
            if rng.random() < 0.2:
                name = rng.choice(["ForAnyValue:", "ForAllValues:"]) + name
        condition[name] = {rng.choice(KEYS): strings() for _ in range(rng.randint(1, 3))}
    if condition:
        stmt["Condition"] = condition
    return stmt


def random_document(rng: random.Random) -> str:
    """A structurally random policy built from plausible and hostile parts."""
    doc: dict[str, Any] = {}
    sane = rng.random() < 0.6
    if sane:
        doc["Version"] = rng.choice(["2012-10-17", "2012-10-17", "2008-10-17"])
    elif rng.random() < 0.8:
        doc["Version"] = rng.choice(["2012-10-17", "2012-10-17", "2008-10-17", "2020-01-01", 1])
    statements = [
        _sane_statement(rng) if sane and rng.random() < 0.95 else _statement(rng) for _ in range(rng.randint(0, 5))
    ]
    doc["Statement"] = statements[0] if statements and rng.random() < 0.1 else statements
    if rng.random() < 0.05:
        doc = rng.choice([[], "x", 3, None, {"Statement": None}])  # type: ignore[assignment]
    try:
        return json.dumps(doc, allow_nan=True)
    except (ValueError, OverflowError):  # pragma: no cover - json handles every value built above
        return "{}"


def mutate(rng: random.Random, text: str) -> str:
    """Byte-level damage to a valid document: deletions, insertions, swaps, truncation, duplication."""
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        if not chars:
            chars = list(rng.choice(SEEDS))
        roll = rng.random()
        at = rng.randrange(len(chars))
        if roll < 0.3:
            del chars[at : at + rng.randint(1, 8)]
        elif roll < 0.6:
            chars[at:at] = [rng.choice(JSON_ALPHABET) for _ in range(rng.randint(1, 5))]
        elif roll < 0.75:
            chars[at] = rng.choice(JSON_ALPHABET)
        elif roll < 0.85:
            chars = chars[:at]
        else:
            end = min(len(chars), at + rng.randint(1, 40))
            chars[at:at] = chars[at:end]
    return "".join(chars)


def generate(rng: random.Random) -> str:
    """One fuzz document: random structure, a mutated seed or mutated random structure, or plain noise."""
    roll = rng.random()
    if roll < 0.45:
        return random_document(rng)
    if roll < 0.75:
        return mutate(rng, rng.choice(SEEDS))
    if roll < 0.95:
        return mutate(rng, random_document(rng))
    return "".join(rng.choice(JSON_ALPHABET) for _ in range(rng.randint(0, 80)))


def random_request(rng: random.Random) -> Request:
    """A request with a random principal, action, resource and a context of hostile values."""
    context: dict[str, Any] = {}
    for _ in range(rng.randint(0, 8)):
        value = _value(rng, 2)
        if isinstance(value, dict):
            value = list(value)
        context[rng.choice(KEYS)] = value
    return Request(
        principal=rng.choice(
            [
                "arn:aws:sts::111122223333:assumed-role/app/s",
                "arn:aws:iam::111122223333:root",
                "111122223333",
                "lambda.amazonaws.com",
                "anonymous",
                "",
                rng.choice(STRINGS),
            ]
        ),
        action=rng.choice(["sqs:SendMessage", "SQS:DELETEQUEUE", "kms:Decrypt", "", "*", rng.choice(STRINGS)]),
        resource=rng.choice(["*", "arn:aws:sqs:us-east-1:111122223333:q", "", rng.choice(STRINGS)]),
        context=context,
    )


def run(iterations: int, seed: int, lint: Callable[[str], Any] | None) -> dict[str, Any]:
    """Fuzz `iterations` documents; return counts and the first few failures (with tracebacks)."""
    rng = random.Random(seed)
    stats: dict[str, Any] = {"documents": 0, "compiled": 0, "policy_errors": 0, "evaluations": 0, "linted": 0}
    failures: list[dict[str, str]] = []
    start = time.perf_counter()
    for _ in range(iterations):
        text = generate(rng)
        stats["documents"] += 1
        if lint is not None:
            try:
                lint(text)
                stats["linted"] += 1
            except Exception:
                failures.append({"stage": "lint", "document": text[:2000], "error": traceback.format_exc(limit=4)})
        try:
            compiled = compile_policy(text)
        except PolicyError:
            stats["policy_errors"] += 1
            continue
        except Exception:
            failures.append({"stage": "compile", "document": text[:2000], "error": traceback.format_exc(limit=4)})
            continue
        stats["compiled"] += 1
        for _ in range(3):
            request = random_request(rng)
            try:
                decision = compiled.evaluate(request)
                stats["evaluations"] += 1
                applied = [t.index for t in compiled.explain(request) if t.applies]
                if applied != [m.index for m in decision.matched]:
                    raise AssertionError(f"explain() disagrees with evaluate(): {applied} vs {decision.matched}")
            except Exception:
                failures.append(
                    {
                        "stage": "evaluate",
                        "document": text[:2000],
                        "request": repr(request)[:500],
                        "error": traceback.format_exc(limit=4),
                    }
                )
    stats["seconds"] = round(time.perf_counter() - start, 2)
    stats["failures"] = len(failures)
    stats["failure_samples"] = failures[:3]
    return stats


# --- input files: configs, personas, request files, CloudTrail files -------------------------------------------

CONFIG_KEYS = [
    "hubs", "spokes", "roles", "probes", "tail", "watch", "aws", "allow_write", "prices", "keys", "theme",
    "forbidden", "expected_services", "region", "account_id", "log_groups", "poll_seconds", "ring_size", "x",
]  # fmt: skip
PERSONA_KEYS = [
    "name", "kind", "account_id", "role_arn", "vpc_id", "private_ip", "tags", "org_id", "org_paths",
    "source_ip", "hub", "personas", "endpoint_id", "region", "ec2-instance", "lambda", "x",
]  # fmt: skip
YAML_NOISE = ["&a", "*a", "<<: *a", "!!python/object:os.system", "!Ref x", "? ", "- ", ": ", "{", "[", "'", '"', "|"]


def _yaml_value(rng: random.Random, depth: int) -> str:
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return json.dumps(rng.choice([*STRINGS, "111122223333", "1" * rng.choice([5, 4400]), "vpc-0abc12345"]))
    if roll < 0.6:
        return rng.choice(["true", "null", "~", "0x1F", "1e400", ".nan", "2026-01-01", "-", "1" * 4401])
    if roll < 0.8:
        return "[" + ", ".join(_yaml_value(rng, depth + 1) for _ in range(rng.randint(0, 3))) + "]"
    keys = CONFIG_KEYS + PERSONA_KEYS
    return "{" + ", ".join(f"{rng.choice(keys)}: {_yaml_value(rng, depth + 1)}" for _ in range(rng.randint(0, 3))) + "}"


def _hostile_yaml(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.1:
        levels = rng.randint(2, 10)
        lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
        for i in range(1, levels):
            lines.append(f"l{i}: &l{i} [" + ",".join(["*" + ("a" if i == 1 else f"l{i - 1}")] * 9) + "]")
        return "\n".join(lines) + "\n"
    if roll < 0.15:
        n = rng.choice([10, 70, 500, 5000])
        return rng.choice(["[" * n + "]" * n, "a:\n" + "".join(" " * i + "- \n" for i in range(n))])
    return ""


def random_yaml(rng: random.Random, keys: list[str]) -> str:
    """A config- or personas-shaped YAML document with hostile values, aliases, tags, deep nesting or noise."""
    special = _hostile_yaml(rng)
    if special:
        return special
    lines = [f"{rng.choice(keys)}: {_yaml_value(rng, 0)}" for _ in range(rng.randint(0, 6))]
    if rng.random() < 0.3:
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(YAML_NOISE) + " " + rng.choice(keys))
    text = "\n".join(lines) + "\n"
    return mutate(rng, text) if rng.random() < 0.3 and text.strip() else text


def random_personas(rng: random.Random) -> str:
    """A personas file that is mostly valid, with hostile strings in its fields (so the deep paths are reached)."""
    kinds = ["ec2-instance", "lambda", "ecs-task", "eks-irsa", "eks-pod-identity", "iam-user", "aws-service"]

    def hostile() -> str:
        return json.dumps(rng.choice(STRINGS))

    entries = []
    for i in range(rng.randint(1, 4)):
        fields = {
            "name": f"p{i}",
            "kind": rng.choice(kinds) if rng.random() < 0.95 else "robot",
            "account_id": '"111122223333"' if rng.random() < 0.9 else rng.choice(["111122223333", "[]", '"1"']),
            "role_arn": "arn:aws:iam::111122223333:role/app" if rng.random() < 0.7 else hostile(),
        }
        if rng.random() < 0.5:
            fields["vpc_id"] = hostile() if rng.random() < 0.5 else "vpc-0abc12345"
        if rng.random() < 0.5:
            fields["private_ip"] = hostile() if rng.random() < 0.5 else "10.1.2.3"
        if rng.random() < 0.5:
            fields["tags"] = "{" + ", ".join(f"{hostile()}: {hostile()}" for _ in range(rng.randint(0, 3))) + "}"
        if rng.random() < 0.3:
            fields["org_paths"] = "[" + ", ".join(hostile() for _ in range(rng.randint(0, 2))) + "]"
        entries.append("  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items()))
    hub = ""
    if rng.random() < 0.5:
        paths = "[" + ", ".join(hostile() for _ in range(rng.randint(0, 2))) + "]"
        hub = f"hub: {{account_id: '999900001111', vpc_id: vpc-0hub, endpoint_id: vpce-0sqs, org_paths: {paths}}}\n"
    text = hub + "personas:\n" + "\n".join(entries) + "\n"
    return mutate(rng, text) if rng.random() < 0.15 else text


def random_request_file(rng: random.Random) -> str:
    """`simulate --request(s)` input: JSON objects with hostile fields, deep nesting, long numbers, noise."""
    roll = rng.random()
    if roll < 0.1:
        n = rng.choice([100, 1000, 100_000])
        return "[" * n + "]" * n
    if roll < 0.15:
        return '{"principal": "x", "action": "sqs:SendMessage", "resource": "*", "context": {"n": ' + "9" * 4400 + "}}"
    request = {
        "principal": rng.choice([*STRINGS[:8], 3, None, [], {}]),
        "action": rng.choice(["sqs:SendMessage", "", 1, None, "*", rng.choice(STRINGS)]),
        "resource": rng.choice(["*", None, 2, rng.choice(STRINGS)]),
        "context": rng.choice([{rng.choice(KEYS): _value(rng, 1) for _ in range(rng.randint(0, 5))}, [], "x", None]),
    }
    if rng.random() < 0.2:
        request[rng.choice(KEYS)] = _value(rng, 1)
    text = json.dumps(request, allow_nan=True)
    return mutate(rng, text) if rng.random() < 0.3 else text


def random_trail_file(rng: random.Random) -> bytes:
    """A CloudTrail file: JSONL, a JSON array or `{"Records": [...]}`, damaged, gzipped or noise."""
    import gzip

    records = []
    for _ in range(rng.randint(0, 4)):
        record: dict[str, Any] = {
            "eventVersion": rng.choice(["1.09", 1, None]),
            "eventID": rng.choice(["e-1", "e-2", "", None, 7]),
            "eventTime": rng.choice(["2026-11-28T10:00:00Z", "yesterday", 0, None]),
            "eventSource": rng.choice(["sqs.amazonaws.com", "kms.amazonaws.com", 3]),
            "eventName": rng.choice(["SendMessage", "", None]),
            "errorCode": rng.choice(["VpceAccessDenied", "AccessDenied", "AccessDeniedException", None, 1]),
            "errorMessage": rng.choice(
                [
                    "User: x is not authorized to perform: sqs:SendMessage because no VPC endpoint policy allows",
                    "with an explicit deny in a VPC endpoint policy",
                    None,
                    ["x"],
                    "\ud800",
                ]
            ),
            "vpcEndpointId": rng.choice(["vpce-1", None, 5, {"x": 1}]),
            "userIdentity": rng.choice([{"arn": "arn:aws:iam::1:role/r", "accountId": "1"}, "x", None, []]),
            "recipientAccountId": rng.choice(["111122223333", None, 1]),
        }
        for key in rng.sample(list(record), rng.randint(0, 3)):
            del record[key]
        records.append(record)
    shape = rng.random()
    if shape < 0.4:
        text = "\n".join(json.dumps(r) for r in records)
    elif shape < 0.7:
        text = json.dumps({"Records": records})
    elif shape < 0.85:
        text = json.dumps(records)
    elif shape < 0.9:
        n = rng.choice([1000, 100_000])
        text = '{"Records": ' + "[" * n + "]" * n + "}"
    else:
        text = '{"Records": [{"eventVersion": ' + "1" * 4400 + "}]}"
    if rng.random() < 0.3 and text:
        text = mutate(rng, text)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    return gzip.compress(data) if rng.random() < 0.15 else data


def run_inputs(iterations: int, seed: int) -> dict[str, Any]:
    """Fuzz the four file readers in-process; each may raise only its documented one-line error type."""
    import tempfile

    from vpce_console.commands.simulate import parse_request
    from vpce_console.config import load_config
    from vpce_console.errors import UsageError
    from vpce_console.policy.persona_file import hub_from_mapping, load_persona_file
    from vpce_console.policy.personas import PersonaError, persona_request

    try:
        from vpce_console.safeload import load_json
    except ImportError:  # an older tree (to count its failures): what `simulate` did there

        def load_json(text: str, where: str) -> Any:
            try:
                return json.loads(text)
            except ValueError as exc:
                raise UsageError(f"{where}: invalid JSON: {exc}") from None

    from vpce_console.services.tail import DenialTail, read_records

    rng = random.Random(seed)
    counts = {"configs": 0, "personas": 0, "requests": 0, "trails": 0}
    refused = {name: 0 for name in counts}
    accepted = {"personas": 0}
    hub = hub_from_mapping({"account_id": "999900001111", "vpc_id": "vpc-0hub", "endpoint_id": "vpce-0sqs"})
    failures: list[dict[str, str]] = []
    start = time.perf_counter()
    compiled = compile_policy(SEEDS[1])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input"
        for _ in range(iterations):
            for kind in counts:
                counts[kind] += 1
                if kind == "trails":
                    data = random_trail_file(rng)
                elif kind == "requests":
                    data = random_request_file(rng).encode("utf-8", "surrogatepass")
                elif kind == "personas" and rng.random() < 0.6:
                    data = random_personas(rng).encode("utf-8", "surrogatepass")
                else:
                    text = random_yaml(rng, CONFIG_KEYS if kind == "configs" else PERSONA_KEYS)
                    data = text.encode("utf-8", "surrogatepass")
                    if rng.random() < 0.03:
                        data = "region: café".encode("latin-1")
                path.write_bytes(data)
                try:
                    if kind == "configs":
                        load_config(str(path))
                    elif kind == "personas":
                        loaded = load_persona_file(data.decode("utf-8"))
                        accepted[kind] += 1
                        for persona in loaded.personas:  # a loaded persona must also yield a request
                            persona_request(persona, loaded.hub or hub, "sqs:SendMessage", "*")
                    elif kind == "requests":
                        request = parse_request(load_json(data.decode("utf-8"), "request"), "request")
                        compiled.evaluate(request)
                    else:
                        tail = DenialTail(ring_size=50)
                        list(tail.ingest_many(read_records(path)))
                except (UsageError, PersonaError, UnicodeDecodeError):
                    refused[kind] += 1
                except Exception:
                    failures.append(
                        {
                            "stage": kind,
                            "input": data[:600].decode("utf-8", "replace"),
                            "error": traceback.format_exc(limit=4),
                        }
                    )
    return {
        **counts,
        "refused": refused,
        "accepted": accepted,
        "failures": len(failures),
        "failure_samples": failures[:3],
        "seconds": round(time.perf_counter() - start, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--no-lint", action="store_true", help="fuzz only the evaluator")
    parser.add_argument("--inputs", action="store_true", help="fuzz config, personas, request and CloudTrail readers")
    args = parser.parse_args()
    if args.inputs:
        result = {"benchmark": "fuzz-inputs", "seed": args.seed, "iterations": args.iterations}
        result.update(run_inputs(args.iterations, args.seed))
        if not result["failure_samples"]:
            del result["failure_samples"]
        print(json.dumps(result))
        return 1 if result["failures"] else 0
    lint = None
    if not args.no_lint:
        try:
            from vpce_console.policy.linter import lint as lint_function
        except ImportError:
            lint_function = None  # type: ignore[assignment]
        lint = lint_function
    stats = run(args.iterations, args.seed, lint)
    stats = {"benchmark": "fuzz", "seed": args.seed, "lint": lint is not None, **stats}
    if not stats["failure_samples"]:
        del stats["failure_samples"]
    print(json.dumps(stats))
    return 1 if stats["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
