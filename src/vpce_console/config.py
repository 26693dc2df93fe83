"""Configuration: YAML -> frozen dataclasses, strictly (STYLE.md rule 7).

Unknown keys and bad values are errors with their dotted key path; every problem in the file is collected
and reported together in one `ConfigError`. `config.example.yaml` documents every key. When the console runs
on a lab, the lab's ready-file supplies defaults (hub account, role name, forbidden environments …) that the
user's file can override.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpce_console.config_build import build_value, type_name
from vpce_console.config_checks import check_semantics
from vpce_console.config_values import (
    ACCOUNT_RE,
    REGION_RE,
    ROLE_ARN_RE,
    SELECTOR_RE,
    VPC_RE,
    Selector,
)
from vpce_console.errors import ConfigError, UsageError
from vpce_console.safeload import MAX_CONFIG_BYTES, YamlLimitError, load_yaml, read_text_capped

__all__ = ["ACCOUNT_RE", "REGION_RE", "ROLE_ARN_RE", "SELECTOR_RE", "VPC_RE", "Selector"]
"""The value formats moved to `config_values`; the schema's users keep importing them from here."""


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
        raise ConfigError(f"{source}: the top level must be a mapping of keys, got {type_name(raw)}")
    merged = deep_merge(defaults or {}, raw)
    config = build_value(Config, merged, "", problems)
    if isinstance(config, Config):
        check_semantics(config, problems)
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
