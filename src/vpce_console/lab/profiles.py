"""Route 53 Profiles for the lab (moto has none): the store, RAM sharing, and the REST-JSON API the SDK speaks.

A Profile carries private hosted zones and interface endpoints; a VPC is associated with at most one Profile
(AssociateProfile refuses a second one); a Profile owned by the hub is shared through RAM with spoke accounts,
which can then read it and associate their VPCs. Lists page with MaxResults (1-100, default 100) and an opaque
NextToken; unknown ids answer ResourceNotFoundException, as the service model's error shapes say.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from vpce_console.lab import errors
from vpce_console.lab.errors import WireResponse
from vpce_console.lab.pagination import PageError, fingerprint, page, read_token

HOSTED_ZONE = "HOSTED_ZONE"
"""ResourceType the lab reports for a private hosted zone (the console classifies by ARN, not by this word)."""
VPC_ENDPOINT = "VPC_ENDPOINT"
"""ResourceType the lab reports for an interface endpoint attached to a Profile."""


def zone_arn(zone_id: str) -> str:
    """The ARN AssociateResourceToProfile takes for a hosted zone (Route 53 ARNs have no region or account)."""
    return f"arn:aws:route53:::hostedzone/{zone_id}"


def endpoint_arn(region: str, account: str, endpoint_id: str) -> str:
    """The ARN of an interface endpoint."""
    return f"arn:aws:ec2:{region}:{account}:vpc-endpoint/{endpoint_id}"


@dataclass
class Profile:
    """One Route 53 Profile."""

    profile_id: str
    name: str
    owner: str
    region: str
    created: float
    shared_with: set[str] = field(default_factory=set)
    """Accounts the Profile is shared with through RAM (association permission)."""

    @property
    def arn(self) -> str:
        """The Profile's ARN."""
        return f"arn:aws:route53profiles:{self.region}:{self.owner}:profile/{self.profile_id}"

    def visible_to(self, account: str) -> bool:
        """The owner and the accounts it is shared with can read and use it."""
        return account == self.owner or account in self.shared_with

    def to_api(self, account: str) -> dict[str, Any]:
        """The `Profile` shape."""
        return {
            "Arn": self.arn,
            "ClientToken": f"lab-{self.profile_id}",
            "CreationTime": self.created,
            "Id": self.profile_id,
            "ModificationTime": self.created,
            "Name": self.name,
            "OwnerId": self.owner,
            "ShareStatus": self.share_status(account),
            "Status": "COMPLETE",
            "StatusMessage": "Created Profile",
        }

    def share_status(self, account: str) -> str:
        """NOT_SHARED, SHARED_BY_ME or SHARED_WITH_ME, as the caller sees it."""
        if account != self.owner:
            return "SHARED_WITH_ME"
        return "SHARED_BY_ME" if self.shared_with else "NOT_SHARED"


@dataclass
class Association:
    """A VPC associated with a Profile (owned by the VPC's account)."""

    association_id: str
    profile_id: str
    vpc_id: str
    owner: str
    name: str
    created: float

    def to_api(self) -> dict[str, Any]:
        """The `ProfileAssociation` shape."""
        return {
            "CreationTime": self.created,
            "Id": self.association_id,
            "ModificationTime": self.created,
            "Name": self.name,
            "OwnerId": self.owner,
            "ProfileId": self.profile_id,
            "ResourceId": self.vpc_id,
            "Status": "COMPLETE",
            "StatusMessage": "Created Profile Association",
        }


@dataclass
class ResourceAssociation:
    """A hosted zone or interface endpoint attached to a Profile."""

    association_id: str
    profile_id: str
    resource_arn: str
    resource_type: str
    owner: str
    name: str
    created: float

    def to_api(self) -> dict[str, Any]:
        """The `ProfileResourceAssociation` shape."""
        return {
            "CreationTime": self.created,
            "Id": self.association_id,
            "ModificationTime": self.created,
            "Name": self.name,
            "OwnerId": self.owner,
            "ProfileId": self.profile_id,
            "ResourceArn": self.resource_arn,
            "ResourceProperties": "{}",
            "ResourceType": self.resource_type,
            "Status": "COMPLETE",
            "StatusMessage": "Created Profile Resource Association",
        }

    @property
    def zone_id(self) -> str | None:
        """The hosted zone id when the resource is a hosted zone."""
        m = re.match(r"^arn:aws[\w-]*:route53:::hostedzone/(.+)$", self.resource_arn)
        return m.group(1) if m else None

    @property
    def endpoint_id(self) -> str | None:
        """The endpoint id when the resource is an interface endpoint."""
        m = re.match(r"^arn:aws[\w-]*:ec2:[^:]*:\d*:vpc-endpoint/(.+)$", self.resource_arn)
        return m.group(1) if m else None


class ProfileError(Exception):
    """An API error: code, HTTP status and message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class ProfileStore:
    """Every Profile of the lab, thread-safe; ids are repeatable for a seed."""

    def __init__(self, region: str, *, seed: int = 0) -> None:
        self.region = region
        self.profiles: dict[str, Profile] = {}
        self.associations: dict[str, Association] = {}
        self.resources: dict[str, ResourceAssociation] = {}
        self._lock = threading.RLock()
        self._counter = seed * 7919

    def _id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{(self._counter * 2654435761) % 16**17:017x}"

    # -- writes ----------------------------------------------------------------------------------------------

    def create_profile(self, owner: str, name: str) -> Profile:
        """CreateProfile."""
        _check_name(name)
        with self._lock:
            profile = Profile(self._id("rp"), name, owner, self.region, time.time())
            self.profiles[profile.profile_id] = profile
            return profile

    def share(self, profile_id: str, accounts: Iterable[str]) -> None:
        """What a RAM resource share of the Profile with these accounts amounts to (seeding only)."""
        with self._lock:
            self.profiles[profile_id].shared_with.update(accounts)

    def associate_vpc(self, account: str, profile_id: str, vpc_id: str, name: str) -> Association:
        """AssociateProfile: one Profile per VPC."""
        _check_name(name)
        with self._lock:
            profile = self._visible(account, profile_id)
            current = self.profile_of(vpc_id)
            if current is not None:
                raise ProfileError(
                    "ResourceExistsException",
                    f"The VPC {vpc_id} is already associated with Profile {current.profile_id}; "
                    "a VPC can have only one Profile associated with it.",
                )
            assoc = Association(self._id("rpassoc"), profile.profile_id, vpc_id, account, name, time.time())
            self.associations[assoc.association_id] = assoc
            return assoc

    def disassociate_vpc(self, account: str, profile_id: str, vpc_id: str) -> Association:
        """DisassociateProfile."""
        with self._lock:
            for key, assoc in self.associations.items():
                if assoc.profile_id == profile_id and assoc.vpc_id == vpc_id and assoc.owner == account:
                    del self.associations[key]
                    return assoc
        raise ProfileError(
            "ResourceNotFoundException", f"No association of Profile {profile_id} with {vpc_id} found.", 404
        )

    def associate_resource(self, account: str, profile_id: str, resource_arn: str, name: str) -> ResourceAssociation:
        """AssociateResourceToProfile (hosted zones and interface endpoints; the owner adds resources)."""
        _check_name(name)
        with self._lock:
            profile = self._visible(account, profile_id)
            if profile.owner != account:
                raise ProfileError(
                    "AccessDeniedException",
                    f"Account {account} may only associate VPCs with shared Profile {profile_id}.",
                )
            if ":route53:::hostedzone/" in resource_arn:
                kind = HOSTED_ZONE
            elif ":vpc-endpoint/" in resource_arn:
                kind = VPC_ENDPOINT
            else:
                raise ProfileError("InvalidParameterException", f"Unsupported resource ARN {resource_arn}.")
            if any(r.profile_id == profile_id and r.resource_arn == resource_arn for r in self.resources.values()):
                raise ProfileError("ConflictException", f"{resource_arn} is already associated with {profile_id}.")
            res = ResourceAssociation(self._id("rpr"), profile_id, resource_arn, kind, account, name, time.time())
            self.resources[res.association_id] = res
            return res

    def disassociate_resource(self, account: str, profile_id: str, resource_arn: str) -> ResourceAssociation:
        """DisassociateResourceFromProfile."""
        with self._lock:
            self._visible(account, profile_id)
            for key, res in self.resources.items():
                if res.profile_id == profile_id and res.resource_arn == resource_arn:
                    del self.resources[key]
                    return res
        raise ProfileError("ResourceNotFoundException", f"{resource_arn} is not associated with {profile_id}.", 404)

    # -- reads -----------------------------------------------------------------------------------------------

    def _visible(self, account: str, profile_id: str) -> Profile:
        profile = self.profiles.get(profile_id)
        if profile is None or not profile.visible_to(account):
            # A Profile neither owned nor shared looks like one that does not exist, as with other RAM shares.
            raise ProfileError("ResourceNotFoundException", f"Profile {profile_id} not found.", 404)
        return profile

    def profile_of(self, vpc_id: str) -> Profile | None:
        """The Profile a VPC is associated with (at most one)."""
        with self._lock:
            for assoc in self.associations.values():
                if assoc.vpc_id == vpc_id:
                    return self.profiles.get(assoc.profile_id)
        return None

    def zones_of(self, profile_id: str) -> set[str]:
        """Hosted zone ids attached to a Profile."""
        with self._lock:
            return {
                zid for r in self.resources.values() if r.profile_id == profile_id and (zid := r.zone_id) is not None
            }

    def endpoints_of(self, profile_id: str) -> set[str]:
        """Interface endpoint ids attached to a Profile."""
        with self._lock:
            return {
                eid
                for r in self.resources.values()
                if r.profile_id == profile_id and (eid := r.endpoint_id) is not None
            }

    def zones_for_vpc(self, vpc_id: str) -> set[str]:
        """Hosted zones that reach a VPC through its Profile (name resolution follows these like direct ones)."""
        profile = self.profile_of(vpc_id)
        return self.zones_of(profile.profile_id) if profile else set()

    def endpoints_for_vpc(self, vpc_id: str) -> set[str]:
        """Interface endpoints whose private DNS reaches a VPC through its Profile."""
        profile = self.profile_of(vpc_id)
        return self.endpoints_of(profile.profile_id) if profile else set()

    # -- the HTTP API ----------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, body: bytes, account: str) -> WireResponse:
        """Answer one route53profiles request as AWS would (REST-JSON)."""
        try:
            return _json(200, self._route(method, path, query, body, account))
        except ProfileError as exc:
            return _error(exc.code, str(exc), exc.status)
        except PageError as exc:
            return _error("InvalidNextTokenException" if exc.code == "InvalidNextToken" else exc.code, str(exc), 400)

    def _route(self, method: str, path: str, query: str, body: bytes, account: str) -> dict[str, Any]:
        q = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        data = json.loads(body or b"{}") if method in ("POST", "PATCH") else {}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "POST" and parts == ["profile"]:
            return {"Profile": self.create_profile(account, str(data.get("Name", ""))).to_api(account)}
        if method == "GET" and parts == ["profiles"]:
            with self._lock:
                visible = [p for p in self.profiles.values() if p.visible_to(account)]
            items, token = self._page(visible, q, {"op": "profiles", "account": account})
            summaries = [
                {"Arn": p.arn, "Id": p.profile_id, "Name": p.name, "ShareStatus": p.share_status(account)}
                for p in items
            ]
            return {"ProfileSummaries": summaries, **({"NextToken": token} if token else {})}
        if method == "GET" and len(parts) == 2 and parts[0] == "profile":
            return {"Profile": self._visible(account, parts[1]).to_api(account)}
        if method == "POST" and parts == ["profileassociation"]:
            assoc = self.associate_vpc(
                account, str(data.get("ProfileId", "")), str(data.get("ResourceId", "")), str(data.get("Name", ""))
            )
            return {"ProfileAssociation": assoc.to_api()}
        if method == "DELETE" and len(parts) == 5 and parts[0] == "profileassociation":
            return {"ProfileAssociation": self.disassociate_vpc(account, parts[2], parts[4]).to_api()}
        if method == "GET" and parts == ["profileassociations"]:
            profile_id, vpc_id = q.get("profileId"), q.get("resourceId")
            with self._lock:
                # The caller sees the associations its own account made (the owner-side visibility gap).
                found = [
                    a
                    for a in self.associations.values()
                    if a.owner == account
                    and (profile_id is None or a.profile_id == profile_id)
                    and (vpc_id is None or a.vpc_id == vpc_id)
                ]
            items, token = self._page(found, q, {"op": "assoc", "a": account, "p": profile_id, "v": vpc_id})
            return {"ProfileAssociations": [a.to_api() for a in items], **({"NextToken": token} if token else {})}
        if method == "GET" and len(parts) == 2 and parts[0] == "profileassociation":
            with self._lock:
                one = self.associations.get(parts[1])
            if one is None or one.owner != account:
                raise ProfileError("ResourceNotFoundException", f"Profile association {parts[1]} not found.", 404)
            return {"ProfileAssociation": one.to_api()}
        if method == "POST" and parts == ["profileresourceassociation"]:
            res = self.associate_resource(
                account, str(data.get("ProfileId", "")), str(data.get("ResourceArn", "")), str(data.get("Name", ""))
            )
            return {"ProfileResourceAssociation": res.to_api()}
        if method == "DELETE" and len(parts) == 5 and parts[0] == "profileresourceassociation":
            return {"ProfileResourceAssociation": self.disassociate_resource(account, parts[2], parts[4]).to_api()}
        if method == "GET" and len(parts) == 3 and parts[:2] == ["profileresourceassociations", "profileid"]:
            self._visible(account, parts[2])
            kind = q.get("resourceType")
            with self._lock:
                found_r = [
                    r
                    for r in self.resources.values()
                    if r.profile_id == parts[2] and (kind is None or r.resource_type == kind)
                ]
            items_r, token = self._page(found_r, q, {"op": "res", "p": parts[2], "t": kind})
            return {
                "ProfileResourceAssociations": [r.to_api() for r in items_r],
                **({"NextToken": token} if token else {}),
            }
        if method == "GET" and len(parts) == 2 and parts[0] == "profileresourceassociation":
            with self._lock:
                res_one = self.resources.get(parts[1])
            if res_one is None:
                raise ProfileError("ResourceNotFoundException", f"Resource association {parts[1]} not found.", 404)
            self._visible(account, res_one.profile_id)
            return {"ProfileResourceAssociation": res_one.to_api()}
        raise ProfileError("ValidationException", f"The lab does not implement {method} {path}.")

    def _page(self, items: list[Any], q: dict[str, str], key: dict[str, Any]) -> tuple[list[Any], str | None]:
        raw = q.get("maxResults")
        try:
            size = 100 if raw is None else int(raw)
        except ValueError:
            raise ProfileError("ValidationException", f"Invalid value for maxResults: {raw}") from None
        if not 1 <= size <= 100:
            raise ProfileError(
                "ValidationException",
                f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy constraint: "
                "Member must have value between 1 and 100",
            )
        fp = fingerprint(key)
        return page(items, read_token(q.get("nextToken"), fp), size, fp)


def _check_name(name: str) -> None:
    if not re.fullmatch(r"(?!^[0-9]+$)([a-zA-Z0-9\-_' ']+)", name or "x") or len(name) > 64:
        raise ProfileError("ValidationException", f"Value '{name}' at 'name' failed to satisfy constraint.")


def _json(status: int, payload: object) -> WireResponse:
    rid = errors.request_id()
    headers = (("Content-Type", "application/json"), ("x-amzn-RequestId", rid))
    return WireResponse(status, headers, json.dumps(payload).encode())


def _error(code: str, message: str, status: int) -> WireResponse:
    rid = errors.request_id()
    headers = (("Content-Type", "application/json"), ("x-amzn-RequestId", rid), ("x-amzn-ErrorType", code))
    return WireResponse(status, headers, json.dumps({"Message": message}).encode())
