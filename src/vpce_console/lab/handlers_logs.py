"""CloudWatch Logs: FilterLogEvents with filter patterns and StartLiveTail as an event stream."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from vpce_console.lab import errors
from vpce_console.lab.calls import (
    Call,
    StartResponse,
)
from vpce_console.lab.errors import WireResponse
from vpce_console.lab.filterpattern import PatternError, message_matcher
from vpce_console.lab.lab_state import LabState
from vpce_console.lab.pagination import PageError, fingerprint, page


class LogsHandlers(LabState):
    """CloudWatch Logs calls the lab answers itself."""

    def _filter_log_events(self, call: Call, account: str | None) -> WireResponse:
        from moto.logs.models import logs_backends

        p = call.params
        group_name = p.get("logGroupName") or str(p.get("logGroupIdentifier", "")).rsplit(":log-group:", 1)[-1]
        try:
            match = message_matcher(p.get("filterPattern"))
        except PatternError as exc:
            return errors.error_response("logs", "InvalidParameterException", f"Invalid filter pattern: {exc}")
        limit = int(p.get("limit") or 10000)
        if not 1 <= limit <= 10000:
            return errors.error_response("logs", "InvalidParameterException", "limit must be between 1 and 10000")
        start, end = p.get("startTime"), p.get("endTime")
        streams = set(p.get("logStreamNames") or [])
        prefix = p.get("logStreamNamePrefix")
        with self.lock:
            logs = logs_backends[account or self.world.hub_account][call.region]
            group = logs.groups.get(group_name)
            if group is None:
                return errors.error_response(
                    "logs", "ResourceNotFoundException", "The specified log group does not exist."
                )
            events = []
            for name, stream in group.streams.items():
                if streams and name not in streams:
                    continue
                if prefix and not name.startswith(prefix):
                    continue
                for ev in stream.events:
                    events.append((ev.timestamp, ev.ingestion_time, name, ev.event_id, ev.message))
        events.sort(key=lambda e: (e[0], e[3]))
        selected = [
            e for e in events if (start is None or e[0] >= start) and (end is None or e[0] <= end) and match(e[4])
        ]
        fp = fingerprint({k: v for k, v in p.items() if k != "limit"})
        try:
            from vpce_console.lab.pagination import read_token

            offset = read_token(p.get("nextToken"), fp)
        except PageError:
            return errors.error_response("logs", "InvalidParameterException", "The specified nextToken is invalid.")
        chunk, token = page(selected, offset, limit, fp)
        out: dict[str, Any] = {
            "events": [
                {"logStreamName": e[2], "timestamp": e[0], "message": e[4], "ingestionTime": e[1], "eventId": e[3]}
                for e in chunk
            ],
            "searchedLogStreams": [],
        }
        if token:
            out["nextToken"] = token
        return errors.json_ok(out)

    def _live_tail(self, call: Call, account: str, start_response: StartResponse) -> Iterable[bytes]:
        """Stream new events of the named groups once a second (sessionStart, then sessionUpdate frames) until
        the client goes away, the lab stops or the 3-hour session limit passes."""
        from moto.logs.models import logs_backends

        from vpce_console.lab.eventstream import frame

        p = call.params
        groups = [str(g).split(":log-group:", 1)[-1].removesuffix(":*") for g in p.get("logGroupIdentifiers") or []]
        if not 1 <= len(groups) <= 10:
            r = errors.error_response("logs", "InvalidParameterException", "logGroupIdentifiers must hold 1-10 groups")
            return self._send(start_response, r)
        try:
            match = message_matcher(p.get("logEventFilterPattern"))
        except PatternError as exc:
            r = errors.error_response("logs", "InvalidParameterException", f"Invalid filter pattern: {exc}")
            return self._send(start_response, r)
        names = set(p.get("logStreamNames") or [])
        prefixes = list(p.get("logStreamNamePrefixes") or [])
        identifiers = [f"arn:aws:logs:{call.region}:{account}:log-group:{g}" for g in groups]

        def cursor() -> dict[tuple[str, str], int]:
            with self.lock:
                logs = logs_backends[account][call.region]
                out = {}
                for g in groups:
                    group = logs.groups.get(g)
                    for name, stream in group.streams.items() if group else ():
                        out[(g, name)] = len(stream.events)
                return out

        def generate() -> Iterable[bytes]:
            seen = cursor()
            yield frame("initial-response", {})  # JSON-protocol streams open with the non-stream output members
            yield frame(
                "sessionStart",
                {
                    "requestId": errors.request_id(),
                    "sessionId": errors.request_id(),
                    "logGroupIdentifiers": identifiers,
                    "logStreamNames": sorted(names),
                    "logStreamNamePrefixes": prefixes,
                    "logEventFilterPattern": p.get("logEventFilterPattern") or "",
                },
            )
            deadline = time.monotonic() + 3 * 3600
            while not self.closing.wait(1.0):
                if time.monotonic() > deadline:
                    yield frame("SessionTimeoutException", {"message": "Session timed out"}, message_type="exception")
                    return
                fresh = []
                with self.lock:
                    logs = logs_backends[account][call.region]
                    for g, ident in zip(groups, identifiers, strict=True):
                        group = logs.groups.get(g)
                        for name, stream in group.streams.items() if group else ():
                            if (names and name not in names) or (prefixes and not name.startswith(tuple(prefixes))):
                                continue
                            start = seen.get((g, name), 0)
                            for ev in stream.events[start:]:
                                if match(ev.message):
                                    fresh.append(
                                        {
                                            "logStreamName": name,
                                            "logGroupIdentifier": ident,
                                            "message": ev.message,
                                            "timestamp": ev.timestamp,
                                            "ingestionTime": ev.ingestion_time,
                                        }
                                    )
                            seen[(g, name)] = len(stream.events)
                fresh.sort(key=lambda e: e["timestamp"])
                sampled = len(fresh) > 500
                yield frame(
                    "sessionUpdate",
                    {"sessionMetadata": {"sampled": sampled}, "sessionResults": fresh[-500:] if sampled else fresh},
                )

        start_response(
            "200 OK",
            [("Content-Type", "application/vnd.amazon.eventstream"), ("x-amzn-RequestId", errors.request_id())],
        )
        return generate()
