"""Load the price list (data/prices.yaml) that the cost report uses; pure, no I/O beyond the package file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

BYTES_PER_GB = 1024**3
"""One GB as every figure of this console counts it (2^30 bytes), the unit AWS's per-GB prices are applied to.

AWS labels data prices "per GB" without saying, in the sources we read, whether that is 10^9 or 2^30 bytes
(UNCONFIRMED; the two differ by 7.4 %). One definition everywhere keeps the Endpoints column, the inventory
and the cost report in agreement: the same bytes always show as the same number of GB.
"""


def human_bytes(value: float) -> str:
    """`62.9 GB`-style sizes in the console's one unit family (B, KB, MB, GB, TB; steps of 1024, see BYTES_PER_GB)."""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


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
    unconfirmed: tuple[str, ...] = ()
    """Keys whose figure the data file marks UNCONFIRMED (not read on AWS's pricing page itself)."""

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def with_overrides(self, overrides: Mapping[str, float]) -> PriceList:
        """A copy with config overrides applied (keys were validated by the config loader)."""
        if not overrides:
            return self
        values = {**self.values, **{k: float(v) for k, v in overrides.items()}}
        return PriceList(
            self.as_of, self.region, self.currency, values, self.sources, tuple(sorted(overrides)), self.unconfirmed
        )


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
        unconfirmed=tuple(sorted(k for k, v in entries.items() if v.get("confidence") == "UNCONFIRMED")),
    )
    return base.with_overrides(overrides or {})
