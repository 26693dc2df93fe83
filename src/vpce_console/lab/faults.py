"""Injected faults: latency, throttling, 5xx and dropped connections by service/action and probability.

SPEC syntax (also the `POST /lab-api/faults` body `{"spec": "...", "replace": true}`): comma-separated rules
`SERVICE[:ACTION]=KIND[:ARG][@PROBABILITY][#SKIP]`, SERVICE is the SigV4 signing name (`ec2`, `route53`, `sqs`,
`*`), ACTION an API name or `*`, KIND one of `latency` (ARG seconds, default 1), `throttle`, `5xx`, `drop`;
PROBABILITY 0..1 (default 1); SKIP lets that many matching calls through before the rule starts firing (so a test
can fail "the read right after the write" without failing the read before it). Example:
`route53=throttle@0.5,ec2:DescribeVpcEndpoints=latency:2,sqs=drop@0.1,ec2:DescribeVpcEndpoints=5xx#1`.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

KINDS = ("latency", "throttle", "5xx", "drop")


@dataclass(frozen=True, slots=True)
class Fault:
    """One rule."""

    service: str
    action: str
    kind: str
    arg: float
    probability: float
    skip: int = 0
    """Matching calls let through before the rule fires."""

    def matches(self, service: str, action: str) -> bool:
        """Whether the rule applies to this call."""
        return self.service in ("*", service) and self.action in ("*", action)

    def to_json(self) -> dict[str, object]:
        """The control route's view."""
        return {
            "service": self.service,
            "action": self.action,
            "kind": self.kind,
            "arg": self.arg,
            "probability": self.probability,
            "skip": self.skip,
        }


def parse_faults(spec: str) -> list[Fault]:
    """Parse a SPEC string; ValueError names the bad rule."""
    faults: list[Fault] = []
    for raw in (part.strip() for part in spec.split(",")):
        if not raw:
            continue
        try:
            target, rest = raw.split("=", 1)
            service, _, action = target.partition(":")
            probability, skip = 1.0, 0
            if "#" in rest:
                rest, n = rest.rsplit("#", 1)
                skip = int(n)
                if skip < 0:
                    raise ValueError(skip)
            if "@" in rest:
                rest, p = rest.rsplit("@", 1)
                probability = float(p)
            kind, _, arg = rest.partition(":")
            kind = kind.strip().lower()
            if kind not in KINDS:
                raise ValueError(kind)
            if not 0.0 <= probability <= 1.0:
                raise ValueError(probability)
            value = float(arg) if arg else (1.0 if kind == "latency" else 0.0)
        except ValueError as exc:
            raise ValueError(
                f"bad fault rule {raw!r} (want SERVICE[:ACTION]=KIND[:ARG][@P][#SKIP], KIND in {KINDS})"
            ) from exc
        faults.append(Fault(service.strip() or "*", action.strip() or "*", kind, value, probability, skip))
    return faults


class FaultTable:
    """The live rule set; `pick` decides which rules fire for one call."""

    def __init__(self, faults: list[Fault] | None = None, *, rng: random.Random | None = None) -> None:
        self.faults = list(faults or [])
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self._seen: dict[int, int] = {}
        """Matching calls seen per rule index, for `#SKIP`."""

    def set(self, faults: list[Fault], *, replace: bool = True) -> None:
        """Replace (or extend) the rules."""
        with self._lock:
            self.faults = list(faults) if replace else [*self.faults, *faults]
            self._seen = {} if replace else self._seen

    def pick(self, service: str, action: str) -> list[Fault]:
        """The rules that fire for this call (latency first, then at most one failure)."""
        with self._lock:
            rules = []
            for index, f in enumerate(self.faults):
                if not f.matches(service, action):
                    continue
                seen = self._seen.get(index, 0)
                self._seen[index] = seen + 1
                if seen >= f.skip:
                    rules.append(f)
        fired = [f for f in rules if self.rng.random() < f.probability]
        latency = [f for f in fired if f.kind == "latency"]
        failure = [f for f in fired if f.kind != "latency"][:1]
        return latency + failure
