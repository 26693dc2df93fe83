"""S3 as the trail reader uses it: list a prefix, download an object to a file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vpce_console.aws.session import AwsGateway


@dataclass(frozen=True, slots=True)
class S3Object:
    """One listed object: enough to know whether a cached copy is still the same object."""

    key: str
    size: int
    etag: str


async def list_objects(
    gateway: AwsGateway, bucket: str, prefix: str, *, account_id: str | None, start_after: str | None = None
) -> list[S3Object]:
    """Every object under `prefix` whose key sorts after `start_after` (ListObjectsV2, all pages)."""
    out: list[S3Object] = []
    params: dict[str, str] = {"Bucket": bucket, "Prefix": prefix}
    if start_after:
        params["StartAfter"] = start_after
    async for page in gateway.paginate("s3", "list_objects_v2", account_id=account_id, **params):
        for item in page.get("Contents") or ():
            out.append(S3Object(str(item["Key"]), int(item.get("Size", 0)), str(item.get("ETag", "")).strip('"')))
    return out


async def download(gateway: AwsGateway, bucket: str, key: str, dest: Path, *, account_id: str | None) -> int:
    """Write the object to `dest` (via a temp file and rename, so a cut download never looks complete)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    size = 0
    async with gateway.client("s3", account_id=account_id) as s3:
        answer = await s3.get_object(Bucket=bucket, Key=key)
        async with answer["Body"] as stream:
            with tmp.open("wb") as fh:
                while chunk := await stream.read(1 << 20):
                    fh.write(chunk)
                    size += len(chunk)
    os.replace(tmp, dest)
    return size
