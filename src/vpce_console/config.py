"""Configuration: YAML -> frozen dataclasses, strictly (STYLE.md rule 7).

Unknown keys and bad values are errors with their dotted key path; every problem in the file is collected
and reported together in one `ConfigError`. `config.example.yaml` documents every key. When the console runs
on a lab, the lab's ready-file supplies defaults (hub account, role name, forbidden environments …) that the
user's file can override.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpce_console.errors import ConfigError, UsageError
from vpce_console.policy.vocab import CREDENTIAL_KINDS
from vpce_console.safeload import MAX_CONFIG_BYTES, YamlLimitError, load_yaml, read_text_capped, short

ACCOUNT_RE = re.compile(r"^\d{12}$")
VPC_RE = re.compile(r"^vpc-[0-9a-f]{8,17}$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
SELECTOR_RE = re.compile(r"^(?:(?P<vpc>vpc-[0-9a-f]{8,17})|(?P<key>[^=\s]+)=(?P<value>.*))$")


@dataclass(frozen=True, slots=True)
class HubConfig:
    """One hub: the account and region whose VPC hosts the shared interface endpoints."""

    account_id: str | None = None
    """12-digit account id of the hub (network) account; default: the caller's own account."""
    region: str | None = None
    """Region of the hub endpoints; default: --region, then the profile's region."""
    vpc_id: str | None = None
    """The hub VPC; default: every interface endpoint in the hub account and region is treated as shared."""


@dataclass(frozen=True, slots=True)
class SpokesConfig:
    """Which accounts hold the spoke VPCs that subscribe to the hub's endpoints."""

    accounts: tuple[str, ...] = ()
    """Spoke account ids; read by assuming the read role in each."""
    discover_organization: bool = False
    """Also list every ACTIVE account of the AWS Organization (organizations:ListAccounts)."""
    exclude_accounts: tuple[str, ...] = ()
    """Accounts never read, even when discovered."""
    include_default_vpcs: bool = False
    """Count each account's default VPC (172.31.0.0/16) as a spoke; normally they are not."""


@dataclass(frozen=True, slots=True)
class RolesConfig:
    """The read-only role the console assumes in every account other than the caller's."""

    read_role_name: str = "VpceConsoleReadOnly"
    """Role name assumed in each spoke/hub account (arn:aws:iam::<account>:role/<name>)."""
    per_account: Mapping[str, str] = field(default_factory=dict)
    """Account id -> role name, for accounts where the role is named differently."""
    session_name: str = "vpce-console"
    """RoleSessionName for assumed roles (shows up in CloudTrail)."""


@dataclass(frozen=True, slots=True)
class ProbeConfig:
    """A role the rollout may assume (with session tags) to test a policy change as a real workload would."""

    name: str
    """Short label shown in the propagation watch."""
    role_arn: str
    """The role to assume for the probe call."""
    persona_kind: str = "assumed-role"
    """Credential type the probe stands for (policy.vocab.CREDENTIAL_KINDS)."""
    session_tags: Mapping[str, str] = field(default_factory=dict)
    """Session tags passed to sts:AssumeRole (become aws:PrincipalTag/... in the request context)."""
    vpc_id: str | None = None
    """VPC the probe's calls come from, when known."""
    private_ip: str | None = None
    """Private IP the probe's calls come from, when known."""


@dataclass(frozen=True, slots=True)
class WatchConfig:
    """Defaults for the propagation watch after a policy change."""

    poll_seconds: float = 10.0
    """Seconds between probe rounds."""
    timeout_seconds: float = 900.0
    """Give up (TIMED OUT) after this long; AWS only says "a few minutes"."""
    required_streak: int = 3
    """Consecutive rounds every probe must show the new behaviour before CONVERGED."""
    propagation_window_seconds: float = 600.0
    """How long a change no probe can observe is waited for before it ends UNOBSERVED (a lab: its window)."""


@dataclass(frozen=True, slots=True)
class TailConfig:
    """Where denials are read from and how many are kept."""

    log_groups: tuple[str, ...] = ()
    """CloudWatch Logs groups that receive the hub account's CloudTrail (network activity events)."""
    ring_size: int = 5000
    """Denials kept in memory by the live tail."""


@dataclass(frozen=True, slots=True)
class AthenaConfig:
    """Where the Athena engine queries the organization trail (only used with `trail.engine: athena`)."""

    workgroup: str = "primary"
    """Athena workgroup the queries run in (its settings may force the output location)."""
    database: str = "default"
    """Glue database holding the trail table."""
    table: str = "vpce_org_trail"
    """The CloudTrail table with partition projection; `vpce usage --create-table --allow-write` creates it."""
    output_location: str | None = None
    """s3://bucket/prefix/ for query results; None uses the workgroup's."""


@dataclass(frozen=True, slots=True)
class TrailConfig:
    """The organization trail's S3 objects: who really called through each endpoint (network activity events)."""

    bucket: str | None = None
    """Bucket the organization trail delivers to; None means no trail is configured."""
    prefix: str = ""
    """Key prefix before `AWSLogs/` (the trail's S3 key prefix plus a slash), empty when none."""
    organization_id: str | None = None
    """o-… of an organization trail (its keys hold `AWSLogs/<org id>/<account>/`); None for an account trail."""
    account_id: str | None = None
    """Account that owns the bucket (the log-archive account, read role assumed there); None: the caller's."""
    accounts: tuple[str, ...] = ()
    """Endpoint-owner accounts whose records are read; default: the hub accounts."""
    regions: tuple[str, ...] = ()
    """Regions whose records are read; default: the hubs' regions."""
    engine: str = "local"
    """`local` (sync the window's objects and query them with DuckDB here) or `athena` (query in place)."""
    cache_max_mb: int = 2048
    """Upper bound of the local cache under $XDG_CACHE_HOME/vpce-console/trail; the oldest objects go first."""
    console_window: str = "7d"
    """How far back the console's Endpoints pane and subscribers matrix count calls (7d, 24h, 90m)."""
    console_denials_window: str = "24h"
    """How far back the console's Denials pane backfills denials from the trail when it opens."""
    athena: AthenaConfig = field(default_factory=AthenaConfig)
    """Athena settings."""


@dataclass(frozen=True, slots=True)
class ReplayAccount:
    """What replay may take as known for every principal of one account (trail records do not carry it)."""

    org_id: str | None = None
    """aws:PrincipalOrgID; omitted: unknown, and conditions on it leave calls undetermined."""
    org_paths: tuple[str, ...] = ()
    """aws:PrincipalOrgPaths; empty: unknown."""


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """Facts `vpce replay` adds to what a trail record shows; every key not given here stays unknown."""

    accounts: Mapping[str, ReplayAccount] = field(default_factory=dict)
    """Principal account id -> its organization facts."""
    role_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Role ARN -> its complete tag set (aws:PrincipalTag/<key>; a tag key not listed is absent for that role).
    Applies only to records that name the role (same-account calls; cross-account identities are redacted)."""

    def context_map(self) -> Any:
        """The mappings as the pure record-to-context function takes them."""
        from vpce_console.policy.record import AccountFacts, ContextMap

        return ContextMap(
            {a: AccountFacts(f.org_id, f.org_paths) for a, f in self.accounts.items()},
            {arn: dict(tags) for arn, tags in self.role_tags.items()},
        )


@dataclass(frozen=True, slots=True)
class TuiConfig:
    """Look and keys of the console."""

    theme: str = "vpce-dark"
    """Theme name from themes/ (vpce-dark, vpce-light, vpce-high-contrast)."""
    keymap: Mapping[str, str] = field(default_factory=dict)
    """Action id -> key(s), e.g. {refresh: "ctrl+r"}; unknown action ids are reported by the TUI."""


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """One client-side rate limit."""

    rate: float
    """Requests per second."""
    burst: int = 1
    """Requests allowed back to back after an idle period."""


@dataclass(frozen=True, slots=True)
class AwsConfig:
    """How the console talks to AWS."""

    retry_mode: str = "standard"
    """botocore retry mode: standard or adaptive (legacy is not accepted)."""
    total_max_attempts: int | None = None
    """Calls per request including the first; None keeps botocore's default for the mode (3)."""
    connect_timeout: float = 10.0
    """Seconds to open a connection."""
    read_timeout: float = 30.0
    """Seconds to wait for a response."""
    max_concurrency: int = 8
    """Requests in flight at once per service (Route 53 never queues behind EC2)."""
    rate_limits: Mapping[str, RateLimitConfig] = field(default_factory=dict)
    """Family -> limit overriding the built-in ones (route53, ec2:describe, cloudtrail:LookupEvents, …)."""
    metrics_hours: int = 24
    """Window for the BytesProcessed totals shown per endpoint."""
    page_size: int | None = None
    """MaxResults/MaxItems for EC2 and Route 53 list calls; None lets AWS choose (tests use small pages)."""


@dataclass(frozen=True, slots=True)
class Selector:
    """A rule naming VPCs: `key=value` on the VPC's tags, or a VPC id."""

    vpc_id: str | None
    tag_key: str | None
    tag_value: str | None

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Parse `environment=prod` or `vpc-0abc…`; ValueError otherwise."""
        match = SELECTOR_RE.match(text.strip())
        if not match:
            raise ValueError(f"expected key=value or a vpc id, got {short(text)}")
        if match.group("vpc"):
            return cls(match.group("vpc"), None, None)
        return cls(None, match.group("key"), match.group("value"))

    def matches(self, vpc_id: str, tags: Mapping[str, str]) -> bool:
        """True when the VPC is named by this selector."""
        if self.vpc_id is not None:
            return vpc_id == self.vpc_id
        return self.tag_key is not None and tags.get(self.tag_key) == self.tag_value

    def __str__(self) -> str:
        return self.vpc_id or f"{self.tag_key}={self.tag_value}"


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the console reads from config.yaml."""

    hubs: tuple[HubConfig, ...] = ()
    """Hub accounts/regions; empty means one hub: the caller's account in the target region."""
    spokes: SpokesConfig = field(default_factory=SpokesConfig)
    """Where spoke VPCs live."""
    roles: RolesConfig = field(default_factory=RolesConfig)
    """The read role assumed per account."""
    forbidden: tuple[str, ...] = ()
    """VPCs that must never use the shared endpoints: `tagkey=value` (e.g. environment=prod) or a vpc id."""
    environment_tag: str = "environment"
    """Tag key on spoke VPCs that names their environment (used by expected_services)."""
    expected_services: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Environment (or a VPC id) -> short service names (sqs, kms, …) those VPCs should be associated with."""
    prices: Mapping[str, float] = field(default_factory=dict)
    """Overrides of data/prices.yaml entries by key (e.g. endpoint_az_hour: 0.011)."""
    allow_write: bool = False
    """Allow policy writes (rollout/rollback) without --allow-write; read-only by default."""
    probes: tuple[ProbeConfig, ...] = ()
    """Roles the rollout may assume to test a change from real workloads' point of view."""
    personas: str | None = None
    """Personas YAML (see examples/personas.yaml) for impact previews in the CLI and the console (default: a
    lab's workloads, else the built-in demo set)."""
    watch: WatchConfig = field(default_factory=WatchConfig)
    """Propagation-watch defaults."""
    tail: TailConfig = field(default_factory=TailConfig)
    """Denial-tail sources."""
    trail: TrailConfig = field(default_factory=TrailConfig)
    """The organization trail (network activity events in S3) for `vpce usage` and `vpce denials`."""
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    """Facts `vpce replay` may assume beyond the trail record (org ids, role tags)."""
    tui: TuiConfig = field(default_factory=TuiConfig)
    """Theme and key bindings."""
    aws: AwsConfig = field(default_factory=AwsConfig)
    """Retries, timeouts, concurrency and rate limits."""

    @property
    def forbidden_selectors(self) -> tuple[Selector, ...]:
        """The forbidden rules, parsed (validated at load time)."""
        return tuple(Selector.parse(s) for s in self.forbidden)

    def role_name_for(self, account_id: str) -> str:
        """The read role name to assume in one account."""
        return self.roles.per_account.get(account_id, self.roles.read_role_name)


# --- loading -----------------------------------------------------------------------------------------------


def default_config_path() -> Path:
    """`$XDG_CONFIG_HOME/vpce-console/config.yaml` (or ~/.config/…), read when --config is not given."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vpce-console" / "config.yaml"


def load_config(path: str | os.PathLike[str] | None, *, defaults: Mapping[str, Any] | None = None) -> Config:
    """Read and validate a config file; `defaults` (e.g. from a lab's ready-file) sit under the file's values."""
    raw: Any = {}
    if path is None:
        candidate = default_config_path()
        if candidate.is_file():
            path = candidate
    if path is not None:
        try:
            text = read_text_capped(str(path), limit=MAX_CONFIG_BYTES, what="config")
        except UsageError as exc:
            reason = str(exc).removeprefix(f"{path}: ").removeprefix("cannot read: ")
            raise ConfigError(f"cannot read config {path}: {reason}") from None
        try:
            raw = load_yaml(text)
        except YamlLimitError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        if raw is None:
            raw = {}
    return config_from_dict(raw, defaults=defaults, source=str(path) if path is not None else "config")


def config_from_dict(raw: Any, *, defaults: Mapping[str, Any] | None = None, source: str = "config") -> Config:
    """Validate an already-parsed mapping into a Config, collecting every problem before failing."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of keys, got {_type_name(raw)}")
    merged = deep_merge(defaults or {}, raw)
    config = _build(Config, merged, "", problems)
    if isinstance(config, Config):
        _check_semantics(config, problems)
    if problems:
        detail = "; ".join(problems)
        raise ConfigError(f"{source}: {len(problems)} problem(s): {detail}")
    assert isinstance(config, Config)
    return config


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """`top` over `base`, recursing into mappings; lists and scalars are replaced."""
    out: dict[str, Any] = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer"}.get(
        type(value), type(value).__name__
    )


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _build(tp: Any, value: Any, path: str, problems: list[str]) -> Any:
    """Convert `value` to type `tp`, appending problems (with `path`) instead of raising."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _build(inner[0], value, path, problems)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _build_dataclass(tp, value, path, problems)
    if origin is tuple:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {_type_name(value)}")
            return ()
        return tuple(_build(args[0], item, f"{path}[{i}]", problems) for i, item in enumerate(value))
    if origin in (Mapping, dict) or tp is Mapping:
        if not isinstance(value, Mapping):
            problems.append(f"{path}: expected a mapping, got {_type_name(value)}")
            return {}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(f"{_join(path, key)}: keys must be strings (quote account ids)")
                continue
            out[key] = _build(args[1], item, _join(path, key), problems)
        return out
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true or false, got {short(value)}")
            return False
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {short(value)}")
            return 0
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: expected a number, got {short(value)}")
            return 0.0
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            hint = " (quote account ids: '111122223333')" if isinstance(value, int) else ""
            problems.append(f"{path}: expected a string, got {short(value)}{hint}")
            return ""
        return value
    raise TypeError(f"unsupported config type {tp!r} at {path}")  # a bug in this module, not user input


def _build_dataclass(cls: type, value: Any, path: str, problems: list[str]) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        problems.append(f"{path or 'top level'}: expected a mapping, got {_type_name(value)}")
        value = {}
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in value:
        if key not in fields:
            known = ", ".join(sorted(fields))
            problems.append(f"{_join(path, key)}: unknown key (known: {known})")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name in value:
            kwargs[name] = _build(hints[name], value[name], _join(path, name), problems)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            problems.append(f"{_join(path, name)}: required key is missing")
            kwargs[name] = _placeholder(hints[name])
    return cls(**kwargs)


def _placeholder(tp: Any) -> Any:
    return {str: "", int: 0, float: 0.0, bool: False}.get(tp)


def _check_semantics(config: Config, problems: list[str]) -> None:
    """Checks beyond types: id formats, enums, ranges, price keys."""
    for i, hub in enumerate(config.hubs):
        if hub.account_id and not ACCOUNT_RE.match(hub.account_id):
            problems.append(f"hubs[{i}].account_id: expected a 12-digit account id, got {short(hub.account_id)}")
        if hub.region and not REGION_RE.match(hub.region):
            problems.append(f"hubs[{i}].region: not a region name: {short(hub.region)}")
        if hub.vpc_id and not VPC_RE.match(hub.vpc_id):
            problems.append(f"hubs[{i}].vpc_id: expected vpc-…, got {short(hub.vpc_id)}")
    for key, accounts in (
        ("spokes.accounts", config.spokes.accounts),
        ("spokes.exclude_accounts", config.spokes.exclude_accounts),
    ):
        for i, account in enumerate(accounts):
            if account and not ACCOUNT_RE.match(account):
                problems.append(f"{key}[{i}]: expected a 12-digit account id, got {short(account)}")
    for account in config.roles.per_account:
        if not ACCOUNT_RE.match(account):
            problems.append(f"roles.per_account.{account}: expected a 12-digit account id as key")
    if not config.roles.read_role_name:
        problems.append("roles.read_role_name: must not be empty")
    for i, text in enumerate(config.forbidden):
        try:
            Selector.parse(text)
        except ValueError as exc:
            problems.append(f"forbidden[{i}]: {exc}")
    for i, probe in enumerate(config.probes):
        if probe.role_arn and not ROLE_ARN_RE.match(probe.role_arn):
            problems.append(
                f"probes[{i}].role_arn: expected arn:aws:iam::<account>:role/<name>, got {short(probe.role_arn)}"
            )
        kinds = CREDENTIAL_KINDS
        if probe.persona_kind not in kinds:
            problems.append(f"probes[{i}].persona_kind: one of {', '.join(kinds)}, got {short(probe.persona_kind)}")
        if probe.vpc_id is not None and not VPC_RE.match(probe.vpc_id):
            problems.append(f"probes[{i}].vpc_id: expected vpc-…, got {short(probe.vpc_id)}")
    names = [p.name for p in config.probes]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"probes: name {short(name)} is used more than once")
    if config.watch.poll_seconds <= 0:
        problems.append("watch.poll_seconds: must be > 0")
    if config.watch.timeout_seconds <= config.watch.poll_seconds:
        problems.append("watch.timeout_seconds: must be greater than watch.poll_seconds")
    if config.watch.propagation_window_seconds <= 0:
        problems.append("watch.propagation_window_seconds: must be > 0")
    if config.watch.required_streak < 1:
        problems.append("watch.required_streak: must be >= 1")
    if config.tail.ring_size < 1:
        problems.append("tail.ring_size: must be >= 1")
    _check_trail(config.trail, problems)
    _check_replay(config.replay, problems)
    if config.aws.retry_mode not in ("standard", "adaptive"):
        problems.append(f"aws.retry_mode: standard or adaptive, got {short(config.aws.retry_mode)}")
    if config.aws.total_max_attempts is not None and config.aws.total_max_attempts < 1:
        problems.append("aws.total_max_attempts: must be >= 1")
    for key in ("connect_timeout", "read_timeout"):
        if getattr(config.aws, key) <= 0:
            problems.append(f"aws.{key}: must be > 0")
    if config.aws.max_concurrency < 1:
        problems.append("aws.max_concurrency: must be >= 1")
    if config.aws.page_size is not None and not 5 <= config.aws.page_size <= 1000:
        problems.append("aws.page_size: between 5 and 1000")
    if not 1 <= config.aws.metrics_hours <= 24 * 31:
        problems.append("aws.metrics_hours: between 1 and 744")
    for family, limit in config.aws.rate_limits.items():
        if limit.rate <= 0:
            problems.append(f"aws.rate_limits.{family}.rate: must be > 0")
        if limit.burst < 1:
            problems.append(f"aws.rate_limits.{family}.burst: must be >= 1")
    if config.prices:
        from vpce_console.data.prices import price_keys

        known = price_keys()
        for key, value in config.prices.items():
            if key not in known:
                problems.append(f"prices.{key}: unknown price (known: {', '.join(sorted(known))})")
            elif value < 0:
                problems.append(f"prices.{key}: must be >= 0")
    for env, services in config.expected_services.items():
        for i, service in enumerate(services):
            if not re.match(r"^[a-z0-9][a-z0-9.-]*$", service):
                problems.append(
                    f"expected_services.{env}[{i}]: short service name like sqs or ecr.api, got {short(service)}"
                )


def _check_replay(replay: ReplayConfig, problems: list[str]) -> None:
    """The `replay:` section: account ids, org ids and paths, role ARNs."""
    for account, facts in replay.accounts.items():
        if not ACCOUNT_RE.match(account):
            problems.append(f"replay.accounts: expected 12-digit account ids as keys, got {account!r}")
        if facts.org_id is not None and not re.match(r"^o-[a-z0-9]{10,32}$", facts.org_id):
            problems.append(f"replay.accounts.{account}.org_id: expected o-…, got {facts.org_id!r}")
        for i, path in enumerate(facts.org_paths):
            if not re.match(r"^o-[a-z0-9]{10,32}/r-[0-9a-z]{4,32}/([0-9a-z-]+/)*$", path):
                problems.append(f"replay.accounts.{account}.org_paths[{i}]: expected o-…/r-…/ou-…/, got {path!r}")
    for arn in replay.role_tags:
        if not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$", arn):
            problems.append(f"replay.role_tags: expected role ARNs as keys, got {arn!r}")


def _check_trail(trail: TrailConfig, problems: list[str]) -> None:
    """The `trail:` section: ids, engine, bounds, S3 names."""
    if trail.engine not in ("local", "athena"):
        problems.append(f"trail.engine: local or athena, got {trail.engine!r}")
    if trail.bucket is not None and not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", trail.bucket):
        problems.append(f"trail.bucket: not an S3 bucket name: {trail.bucket!r}")
    if trail.prefix and (trail.prefix.startswith("/") or not trail.prefix.endswith("/")):
        problems.append(f"trail.prefix: no leading slash, ends with one (e.g. org-trail/), got {trail.prefix!r}")
    if trail.organization_id is not None and not re.match(r"^o-[a-z0-9]{10,32}$", trail.organization_id):
        problems.append(f"trail.organization_id: expected o-…, got {trail.organization_id!r}")
    if trail.account_id is not None and not ACCOUNT_RE.match(trail.account_id):
        problems.append(f"trail.account_id: expected a 12-digit account id, got {trail.account_id!r}")
    for i, account in enumerate(trail.accounts):
        if not ACCOUNT_RE.match(account):
            problems.append(f"trail.accounts[{i}]: expected a 12-digit account id, got {account!r}")
    for i, region in enumerate(trail.regions):
        if not REGION_RE.match(region):
            problems.append(f"trail.regions[{i}]: not a region name: {region!r}")
    if trail.cache_max_mb < 16:
        problems.append("trail.cache_max_mb: must be >= 16")
    for key in ("console_window", "console_denials_window"):
        if not re.fullmatch(r"[1-9]\d*[dhm]", getattr(trail, key)):
            problems.append(f"trail.{key}: a window like 7d, 24h or 90m, got {getattr(trail, key)!r}")
    out = trail.athena.output_location
    if out is not None and not out.startswith("s3://"):
        problems.append(f"trail.athena.output_location: expected s3://bucket/prefix/, got {out!r}")
    for key in ("workgroup", "database", "table"):
        if not re.match(r"^[A-Za-z0-9_.-]{1,128}$", getattr(trail.athena, key)):
            problems.append(f"trail.athena.{key}: letters, digits, _ . - only")
