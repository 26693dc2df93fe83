"""What is known about the endpoint a policy is for, so messages can name its VPC and id instead of guessing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EndpointContext:
    """The endpoint a policy belongs to, as far as the caller knows it (all fields optional)."""

    endpoint_id: str | None = None
    """`vpce-…` of the endpoint (describe output, inventory, `rollout --endpoint`)."""
    vpc_id: str | None = None
    """The VPC the endpoint is attached to."""
    account_id: str | None = None
    """The account that owns the endpoint."""
    shared: bool | None = None
    """True when the endpoint is known to be a centralized one shared by spokes (inventory, console, rollout)."""

    def value_of(self, key: str) -> str | None:
        """The one value a hub-scoped key has for every request through this endpoint, when known."""
        return {
            "aws:sourcevpce": self.endpoint_id,
            "aws:sourcevpc": self.vpc_id,
            "aws:vpceaccount": self.account_id,
        }.get(key.lower())
