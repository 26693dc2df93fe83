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


async def bytes_processed(
    gw: AwsGateway,
    endpoints: Sequence[Endpoint],
    *,
    account_id: str,
    region: str,
    hours: int = 24,
    now: dt.datetime | None = None,
) -> dict[str, float]:
    """Endpoint id -> bytes processed over the last `hours` (Sum); endpoints without data get 0."""
    if not endpoints:
        return {}
    end = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
    start = end - dt.timedelta(hours=hours)
    totals: dict[str, float] = {e.endpoint_id: 0.0 for e in endpoints}
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
                    "Period": hours * 3600,
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
                if endpoint_id is not None:
                    totals[endpoint_id] += float(sum(result.get("Values", [])))
    return totals
