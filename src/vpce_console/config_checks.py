"""Checks beyond types (id formats, enums, ranges, price keys), each problem with its dotted key path."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vpce_console.config_values import (
    ACCOUNT_RE,
    REGION_RE,
    ROLE_ARN_RE,
    VPC_RE,
    Selector,
)
from vpce_console.policy.vocab import CREDENTIAL_KINDS
from vpce_console.safeload import short

if TYPE_CHECKING:
    from vpce_console.config import Config, ReplayConfig, TrailConfig


def check_semantics(config: Config, problems: list[str]) -> None:
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
