"""The value formats config.yaml is checked against (ids, ARNs, regions) and the VPC selector they parse into."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from vpce_console.safeload import short

ACCOUNT_RE = re.compile(r"^\d{12}$")


VPC_RE = re.compile(r"^vpc-[0-9a-f]{8,17}$")


ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


SELECTOR_RE = re.compile(r"^(?:(?P<vpc>vpc-[0-9a-f]{8,17})|(?P<key>[^=\s]+)=(?P<value>.*))$")


@dataclass(frozen=True, slots=True)
class Selector:
    """A rule naming VPCs: `key=value` on the VPC's tags, or a VPC id."""

    vpc_id: str | None
    tag_key: str | None
    tag_value: str | None

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Parse `environment=prod` or `vpc-0abc…`; ValueError otherwise."""
        match = SELECTOR_RE.match(text.strip())
        if not match:
            raise ValueError(f"expected key=value or a vpc id, got {short(text)}")
        if match.group("vpc"):
            return cls(match.group("vpc"), None, None)
        return cls(None, match.group("key"), match.group("value"))

    def matches(self, vpc_id: str, tags: Mapping[str, str]) -> bool:
        """True when the VPC is named by this selector."""
        if self.vpc_id is not None:
            return vpc_id == self.vpc_id
        return self.tag_key is not None and tags.get(self.tag_key) == self.tag_value

    def __str__(self) -> str:
        return self.vpc_id or f"{self.tag_key}={self.tag_value}"
