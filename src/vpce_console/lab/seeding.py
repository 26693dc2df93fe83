"""Build the lab world: the hub, the spokes, their wiring and workloads, from a scale, a seed and a DNS scenario."""

from __future__ import annotations

import ipaddress
from typing import Any

from vpce_console.lab.seed_personas import (
    _personas,
)
from vpce_console.lab.seed_scenarios import (
    _DEMO_NAMES,
    _faults,
    _profiles,
    _uses_profile,
    demo_layout,
)
from vpce_console.lab.seeder import (
    _Seeder,
)
from vpce_console.lab.world import (
    DEMO_SERVICES,
    ORG_EXTRA_SERVICES,
    READ_ROLE,
    REGION,
    Spoke,
    World,
)

DNS_SCENARIOS = ("direct", "profiles", "mixed")
"""How spokes subscribe in a lab: PHZ associations, Route 53 Profiles, or both (dev account on Profiles)."""


def build_world(scale: str = "demo", seed: int = 1, dns: str = "direct") -> World:
    """Seed moto with `scale` (empty, demo or org) and return the description the server and ready-file use."""
    if scale not in ("empty", "demo", "org"):
        raise ValueError(f"unknown scale {scale!r}")
    if dns not in DNS_SCENARIOS:
        raise ValueError(f"unknown dns scenario {dns!r}")
    from vpce_console.lab.profiles import ProfileStore

    s = _Seeder(scale, seed)
    w = s.world
    w.dns = dns
    w.profiles = ProfileStore(REGION, seed=seed)
    w.accounts = [w.hub_account]
    s.operator()
    s.log_group(w.hub_account)
    s.read_role(w.hub_account)
    if scale == "empty":
        w.config = _config(w)
        return w
    layout = demo_layout()
    if scale == "demo":
        services: tuple[str, ...] = DEMO_SERVICES
    else:
        services = (*DEMO_SERVICES, *ORG_EXTRA_SERVICES)
        services = services[:40]
        envs = ("dev", "staging", "prod", "dev", "staging")
        total = sum(len(n) for _, _, n in layout)
        extra_accounts = 20
        per = (1000 - total) // extra_accounts
        rest = (1000 - total) - per * extra_accounts
        for a in range(extra_accounts):
            env = envs[a % len(envs)]
            count = per + (1 if a < rest else 0)
            layout.append(
                (
                    f"6{a:02d}{a:02d}0000{a:03d}"[:12].ljust(12, "0"),
                    env,
                    [f"{env}-a{a:02d}-vpc{i:03d}" for i in range(count)],
                )
            )
    s.hub(services)
    s.zones(services)
    by_name: dict[str, Spoke] = {}
    profile_spokes: list[Spoke] = []
    demo_cidrs = iter(f"10.{i}.0.0/16" for i in range(1, 11))
    for index, (account, env_group, names) in enumerate(layout):
        supernet = ipaddress.ip_network(f"10.{64 + 4 * index}.0.0/14")
        org_cidrs = iter(supernet.subnets(new_prefix=20))
        if account not in w.accounts:
            w.accounts.append(account)
            s.read_role(account)
            s.log_group(account)
            s.targets(account, env_group)
        for name in names:
            env = "prod" if env_group == "prod" else ("sensitive" if env_group == "sensitive" else env_group)
            if name == "staging-legacy" or env == "prod":
                subs: list[str] = []
            elif scale == "org" and name not in _DEMO_NAMES:
                subs = sorted(s.rng.r.sample(list(services), 8))
            else:
                subs = list(DEMO_SERVICES)
            if name == "staging-app":
                subs = [x for x in subs if x != "kms"]
            via_profile = subs and _uses_profile(dns, account, name)
            if name in _DEMO_NAMES:
                by_name[name] = s.spoke(account, name, env, next(demo_cidrs), [] if via_profile else subs)
            else:
                s.spoke(account, name, env, str(next(org_cidrs)), [] if via_profile else subs, sg_cidr=str(supernet))
            if via_profile:
                profile_spokes.append(w.spokes[-1])
                w.expected[w.spokes[-1].vpc_id] = subs
    if dns != "direct":
        _profiles(s, by_name, profile_spokes)
    _faults(s, by_name)
    s.authorize_sgs()
    s.metrics()
    _personas(s, by_name)
    w.config = _config(w)
    return w


def _config(w: World) -> dict[str, Any]:
    """The intended rules the doctor checks the world against, in our config.yaml schema (docs/lab.md)."""
    expected: dict[str, list[str]] = {}
    for sp in w.spokes:
        if sp.environment == "prod" or sp.name == "staging-legacy":
            expected[sp.vpc_id] = []
        elif sp.name in _DEMO_NAMES:
            expected[sp.vpc_id] = list(DEMO_SERVICES)
        else:
            expected[sp.vpc_id] = list(w.expected.get(sp.vpc_id) or sp.services)
    hub = {"account_id": w.hub_account, "region": w.region, "vpc_id": w.hub_vpc_id}
    return {
        "hubs": [{k: v for k, v in hub.items() if v}],
        "forbidden": ["environment=prod"],
        "expected_services": expected,
        "roles": {"read_role_name": READ_ROLE},
    }
