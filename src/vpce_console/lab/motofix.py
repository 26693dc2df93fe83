"""Process-local speed fixes for moto, installed only in the lab's own process (never in a test or TUI process)."""

from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    """Make EC2 tag lookups O(1) per resource: moto scans every tag of the account for each resource it serializes
    (facts §9: O(n^2); 1,000 TGW attachments took 4.6 s to describe)."""
    global _installed
    if _installed:
        return
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    def get_tags(self: Any) -> list[dict[str, str]]:
        resource_id = getattr(self, "id", None)
        if not resource_id:
            return []
        tags = self.ec2_backend.tags.get(resource_id) or {}
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [{"resource_id": resource_id, "key": k, "value": v, "resource_type": kind} for k, v in tags.items()]

    TaggedEC2Resource.get_tags = get_tags  # type: ignore[method-assign]
    _installed = True
