"""CloudWatch reads: BytesProcessed per interface endpoint (namespace AWS/PrivateLinkEndpoints).

Dimensions per the PrivateLink metrics page (https://docs.aws.amazon.com/vpc/latest/privatelink/
privatelink-cloudwatch-metrics.html): `Endpoint Type`, `Service Name`, `VPC Endpoint Id`, `VPC Id`.
One GetMetricData call carries up to 500 queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from vpce_console.aws.models import Endpoint
from vpce_console.aws.session import AwsGateway

NAMESPACE = "AWS/PrivateLinkEndpoints"
MAX_QUERIES = 500
HOUR_SECONDS = 3600


async def bytes_processed_hourly(
    gw: AwsGateway,
    endpoints: Sequence[Endpoint],
    *,
    account_id: str,
    region: str,
    hours: int = 24,
    now: dt.datetime | None = None,
) -> dict[str, tuple[float, ...]]:
    """Endpoint id -> hourly BytesProcessed (Sum, Period 3600) for the last `hours`, oldest first, missing hours 0.

    Values are placed by their timestamp rather than by position, because CloudWatch returns newest first by
    default and leaves out hours without data.
    """
    if not endpoints:
        return {}
    end = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
    start = end - dt.timedelta(hours=hours)
    series: dict[str, list[float]] = {e.endpoint_id: [0.0] * hours for e in endpoints}
    for offset in range(0, len(endpoints), MAX_QUERIES):
        chunk = endpoints[offset : offset + MAX_QUERIES]
        ids = {f"e{i}": e.endpoint_id for i, e in enumerate(chunk)}
        queries = [
            {
                "Id": qid,
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": "BytesProcessed",
                        "Dimensions": [
                            {"Name": "Endpoint Type", "Value": e.endpoint_type or "Interface"},
                            {"Name": "Service Name", "Value": e.service_name},
                            {"Name": "VPC Endpoint Id", "Value": e.endpoint_id},
                            {"Name": "VPC Id", "Value": e.vpc_id},
                        ],
                    },
                    "Period": HOUR_SECONDS,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            }
            for qid, e in zip(ids, chunk, strict=True)
        ]
        async for page in gw.paginate(
            "cloudwatch",
            "get_metric_data",
            account_id=account_id,
            region=region,
            MetricDataQueries=queries,
            StartTime=start,
            EndTime=end,
        ):
            for result in page.get("MetricDataResults", []):
                endpoint_id = ids.get(result.get("Id", ""))
                if endpoint_id is None:
                    continue
                hourly = series[endpoint_id]
                for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    slot = hour_slot(stamp, start)
                    if 0 <= slot < hours:
                        hourly[slot] += float(value)
    return {endpoint_id: tuple(values) for endpoint_id, values in series.items()}


def hour_slot(stamp: dt.datetime, start: dt.datetime) -> int:
    """Index of the hour bucket `stamp` falls in, counting from `start` (naive stamps are taken as UTC)."""
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return int((stamp - start).total_seconds() // HOUR_SECONDS)


async def bytes_processed(
    gw: AwsGateway,
    endpoints: Sequence[Endpoint],
    *,
    account_id: str,
    region: str,
    hours: int = 24,
    now: dt.datetime | None = None,
) -> dict[str, float]:
    """Endpoint id -> bytes processed over the last `hours` (the sum of the hourly series); no data gives 0."""
    hourly = await bytes_processed_hourly(gw, endpoints, account_id=account_id, region=region, hours=hours, now=now)
    return {endpoint_id: float(sum(values)) for endpoint_id, values in hourly.items()}
