"""The inventory as stable JSON (`vpce inventory --format json`): endpoints, spokes and subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vpce_console.aws.models import (
    Endpoint,
    SpokeVpc,
)
from vpce_console.config import Config
from vpce_console.services.inventory_model import (
    Inventory,
    LintSummary,
    Subscription,
    is_default_policy,
    routes_to_hub,
)


def endpoint_to_json(inventory: Inventory, endpoint: Endpoint) -> dict[str, Any]:
    """The stable JSON shape of one endpoint."""
    lint = inventory.lint.get(endpoint.endpoint_id, LintSummary())
    zones = inventory.zones_for(endpoint.service)
    subscribers = inventory.subscriber_vpc_ids(endpoint.service)
    return {
        "endpoint_id": endpoint.endpoint_id,
        "service": endpoint.service,
        "service_name": endpoint.service_name,
        "account_id": endpoint.account_id,
        "region": endpoint.region,
        "vpc_id": endpoint.vpc_id,
        "state": endpoint.state,
        "private_dns_enabled": endpoint.private_dns_enabled,
        "availability_zones": list(endpoint.availability_zones),
        "enis": [
            {
                "eni_id": e.eni_id,
                "subnet_id": e.subnet_id,
                "availability_zone": e.availability_zone,
                "private_ip": e.private_ip,
            }
            for e in endpoint.enis
        ],
        "security_groups": [
            {
                "group_id": g.group_id,
                "name": g.name,
                "https_cidrs": list(g.https_cidrs),
                "https_source_groups": list(g.https_source_groups),
                "https_prefix_lists": list(g.https_prefix_lists),
            }
            for g in endpoint.security_groups
        ],
        "dns_names": list(endpoint.dns_names),
        "policy": {
            "custom": not is_default_policy(endpoint.policy_text),
            "supported": endpoint.policy_supported,
            "text": endpoint.policy_text,
            "lint": {"errors": lint.errors, "warnings": lint.warnings, "infos": lint.infos, "codes": list(lint.codes)},
        },
        "zones": [{"zone_id": z.zone_id, "name": z.name} for z in zones],
        "subscriber_count": len(subscribers),
        "bytes_processed": endpoint.bytes_processed,
        "bytes_processed_hours": None if endpoint.bytes_processed is None else len(endpoint.bytes_hourly),
        "bytes_hourly": list(endpoint.bytes_hourly),
        "tags": dict(endpoint.tags),
    }


def spoke_to_json(
    inventory: Inventory,
    spoke: SpokeVpc,
    config: Config | None = None,
    services: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The stable JSON shape of one spoke VPC (`services` saves the lookup when the caller has it)."""
    env_tag = config.environment_tag if config else "environment"
    return {
        "vpc_id": spoke.vpc_id,
        "account_id": spoke.account_id,
        "region": spoke.region,
        "name": spoke.name,
        "environment": spoke.tags.get(env_tag),
        "tags": dict(spoke.tags),
        "cidrs": list(spoke.cidrs),
        "dns_support": spoke.dns_support,
        "dns_hostnames": spoke.dns_hostnames,
        "availability_zones": list(spoke.availability_zones),
        "tgw_attachments": list(spoke.tgw_attachments),
        "peering_connections": list(spoke.peering_connections),
        "routes_to_hub": list(routes_to_hub(spoke, inventory.hub_cidrs)),
        "services": list(services if services is not None else inventory.services_of(spoke.vpc_id)),
        "subscriptions": {
            service: _subscription_json(inventory.subscription(spoke.vpc_id, service))
            for service in (services if services is not None else inventory.services_of(spoke.vpc_id))
        },
    }


def _subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "path": sub.path,
        "profile_id": sub.profile.profile_id if sub.profile else None,
        "profile_name": sub.profile.name if sub.profile else None,
    }


def inventory_to_json(inventory: Inventory, config: Config | None = None) -> dict[str, Any]:
    """The whole inventory as one JSON object with stable keys (`vpce inventory --format json`)."""
    subscribers = inventory.subscribers
    subscribed = {s.vpc.vpc_id for s in subscribers}
    known_vpcs = {s.vpc_id for s in inventory.spokes} | set(inventory.hub_vpc_ids)
    return {
        "caller": {"account_id": inventory.caller.account_id, "arn": inventory.caller.arn},
        "region": inventory.region,
        "hubs": [
            {
                "account_id": h.account_id,
                "region": h.region,
                "vpcs": [{"vpc_id": v.vpc_id, "cidrs": list(v.cidrs), "name": v.tags.get("Name")} for v in h.vpcs],
            }
            for h in inventory.hubs
        ],
        "endpoints": [endpoint_to_json(inventory, e) for e in inventory.endpoints],
        "zones": [
            {
                "zone_id": z.zone_id,
                "name": z.name,
                "account_id": z.account_id,
                "service": inventory.zone_services.get(z.zone_id),
                "vpcs": [{"vpc_id": v.vpc_id, "region": v.region, "known": v.vpc_id in known_vpcs} for v in z.vpcs],
                "aliases": [
                    {
                        "name": a.name,
                        "type": a.record_type,
                        "target": a.target_dns_name,
                        "target_zone_id": a.target_zone_id,
                    }
                    for a in z.aliases
                ],
            }
            for z in inventory.zones
        ],
        "subscribers": [spoke_to_json(inventory, s.vpc, config, s.services) for s in subscribers],
        "unsubscribed_vpcs": [
            {"vpc_id": s.vpc_id, "account_id": s.account_id, "name": s.name}
            for s in inventory.spokes
            if s.vpc_id not in subscribed
        ],
        "spoke_accounts": list(inventory.spoke_accounts),
        "profiles": [
            {
                "profile_id": p.profile_id,
                "name": p.name,
                "owner_id": p.owner_id,
                "region": p.region,
                "share_status": p.share_status,
                "zone_ids": list(p.zone_ids),
                "endpoint_ids": list(p.endpoint_ids),
                "services": sorted(inventory.profile_services(p)),
                "vpc_ids": list(inventory.profile_vpcs(p.profile_id)),
            }
            for p in inventory.profiles
        ],
        "profile_associations": [
            {"profile_id": a.profile_id, "vpc_id": a.vpc_id, "account_id": a.account_id, "region": a.region}
            for a in inventory.profile_associations
        ],
        "warnings": list(inventory.warnings),
        "stats": {
            "seconds": inventory.stats.seconds,
            "api_calls": dict(inventory.stats.api_calls),
            "route53_calls_by_account": dict(inventory.stats.route53_calls_by_account),
            "profile_calls_by_account": dict(inventory.stats.profile_calls_by_account),
            "retries": inventory.stats.retries,
            "throttled": dict(inventory.stats.throttled),
            "rate_limit_wait_seconds": inventory.stats.rate_limit_wait_seconds,
        },
    }
