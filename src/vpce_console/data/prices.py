"""Load the price list (data/prices.yaml) that the cost report uses; pure, no I/O beyond the package file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class PriceList:
    """Unit prices with the date they were taken and where from."""

    as_of: str
    """Date the prices were read from the pricing pages."""
    region: str
    currency: str
    values: Mapping[str, float]
    """Key -> unit price, e.g. `endpoint_az_hour` -> 0.01."""
    sources: Mapping[str, str]
    """Key -> source URL."""
    overridden: tuple[str, ...] = ()
    """Keys whose value came from the config instead of the data file."""

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def with_overrides(self, overrides: Mapping[str, float]) -> PriceList:
        """A copy with config overrides applied (keys were validated by the config loader)."""
        if not overrides:
            return self
        values = {**self.values, **{k: float(v) for k, v in overrides.items()}}
        return PriceList(self.as_of, self.region, self.currency, values, self.sources, tuple(sorted(overrides)))


@cache
def _raw() -> Mapping[str, Any]:
    text = resources.files("vpce_console.data").joinpath("prices.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def price_keys() -> frozenset[str]:
    """Every price key the data file defines (config `prices:` may override only these)."""
    return frozenset(_raw()["prices"])


def load_prices(overrides: Mapping[str, float] | None = None) -> PriceList:
    """The bundled price list, with config overrides applied."""
    raw = _raw()
    entries = raw["prices"]
    base = PriceList(
        as_of=str(raw["as_of"]),
        region=str(raw["region"]),
        currency=str(raw["currency"]),
        values={k: float(v["value"]) for k, v in entries.items()},
        sources={k: str(v["source"]) for k, v in entries.items()},
    )
    return base.with_overrides(overrides or {})
