"""`vpce inventory [--format text|json]`: hub endpoints, hosted zones, associations and spoke VPCs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from vpce_console.commands._inventory_run import add_format_argument, load

if TYPE_CHECKING:
    from vpce_console.config import Config
    from vpce_console.services.inventory import Inventory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Only the output format; where to read from comes from the common flags."""
    add_format_argument(parser)


def human_bytes(value: float | None) -> str:
    """`1.2 GB`-style sizes, the same unit as the cost report and the console (data.prices.BYTES_PER_GB)."""
    from vpce_console.data.prices import human_bytes as in_gb

    return "-" if value is None else in_gb(value)


def render_text(inventory: Inventory, config: Config) -> str:
    """The readable summary."""
    from vpce_console.services.inventory import is_default_policy, routes_to_hub

    out: list[str] = [f"Caller {inventory.caller.arn} in {inventory.region}"]
    for hub in inventory.hubs:
        vpcs = ", ".join(f"{v.vpc_id} ({', '.join(v.cidrs)})" for v in hub.vpcs) or "no VPC"
        out.append(f"Hub {hub.account_id} {hub.region}: {vpcs}")
    out += ["", f"Endpoints ({len(inventory.endpoints)})"]
    out.append(
        f"  {'service':<16}{'endpoint':<24}{'state':<11}{'AZs':>4}  {'ENI IPs':<34}{'443 from':<22}"
        f"{'pDNS':<5}{'policy':<18}{'subs':>5}{'24h':>10}"
    )
    for e in inventory.endpoints:
        summary = inventory.lint.get(e.endpoint_id)
        if e.policy_supported is False:
            policy = "unsupported"
        elif is_default_policy(e.policy_text):
            policy = "default"
        else:
            n = (summary.errors + summary.warnings + summary.infos) if summary else 0
            policy = f"custom, {n} finding{'s' if n != 1 else ''}"
        if e.policy_supported is None:
            policy += " ?"  # DescribeVpcEndpointServices did not answer: support unknown (see Warnings)
        ips = ",".join(i.private_ip or "?" for i in e.enis) or "-"
        sources = sorted({c for g in e.security_groups for c in g.https_cidrs})
        sg = f"{len(e.security_groups)} SG, {len(sources)} CIDR" if e.security_groups else "-"
        subs = len(inventory.subscriber_vpc_ids(e.service))
        out.append(
            f"  {e.service:<16}{e.endpoint_id:<24}{e.state:<11}{len(e.availability_zones):>4}  {ips[:33]:<34}"
            f"{sg:<22}{'on' if e.private_dns_enabled else 'off':<5}{policy:<18}{subs:>5}"
            f"{human_bytes(e.bytes_processed):>10}"
        )
    out += ["", f"Private hosted zones ({len(inventory.zones)})"]
    for z in inventory.zones:
        targets = ", ".join(a.target_dns_name.split(".")[0] for a in z.aliases if a.name == z.name) or "no alias"
        out.append(f"  {z.name:<40}{z.zone_id:<26}-> {targets:<32}{len(z.vpcs):>4} VPCs")
    if inventory.profiles:
        out += ["", f"Route 53 Profiles ({len(inventory.profiles)})"]
        for p in inventory.profiles:
            services = ",".join(sorted(inventory.profile_services(p))) or "no service"
            out.append(
                f"  {p.label:<40}owner {p.owner_id:<14}{len(inventory.profile_vpcs(p.profile_id)):>5} VPCs  "
                f"{len(p.zone_ids)} zones, {len(p.endpoint_ids)} endpoints: {services}"
            )
    subscribers = inventory.subscribers
    out += ["", f"Subscribers ({len(subscribers)} of {len(inventory.spokes)} spoke VPCs)"]
    for s in subscribers:
        v = s.vpc
        if v.dns_support and v.dns_hostnames:
            dns = "dns ok"
        elif v.dns_support is False or v.dns_hostnames is False:
            dns = "DNS OFF"
        else:
            dns = "dns ?"
        path = "tgw" if v.tgw_attachments else "pcx" if v.peering_connections else "no attachment"
        route = "route ok" if routes_to_hub(v, inventory.hub_cidrs) else "NO ROUTE"
        env = v.tags.get(config.environment_tag, "-")
        profile = inventory.profile_of(v.vpc_id)
        via = f"  (Profile {profile.name})" if profile is not None else ""
        out.append(
            f"  {v.vpc_id:<24}{v.account_id:<14}{env:<12}{v.name[:20]:<21}{','.join(v.cidrs):<18}"
            f"{dns:<8} {path:<5} {route:<9} {','.join(s.services)}{via}"
        )
    if inventory.warnings:
        out += ["", "Warnings"] + [f"  {w}" for w in inventory.warnings]
    stats = inventory.stats
    r53 = ", ".join(f"{a}: {n}" for a, n in stats.route53_calls_by_account.items()) or "none"
    profile_calls = sum(stats.profile_calls_by_account.values())
    out += [
        "",
        f"Read in {stats.seconds:.1f} s with {sum(stats.api_calls.values())} API calls "
        f"(Route 53 per account: {r53}; Route 53 Profiles: {profile_calls}; retries {stats.retries})",
    ]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    """Print the inventory; exit 0 (problems are the doctor's job)."""
    config, inventory = load(args, show_progress=args.format == "text")
    if args.format == "json":
        from vpce_console.services.inventory import inventory_to_json

        json.dump(inventory_to_json(inventory, config), sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        print(render_text(inventory, config))
    return 0
