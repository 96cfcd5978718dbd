"""Ingestion counts per source over time, for the sparklines and the source page's charts.

The one place that reads them: sources.models.HourlyStats (events per log type, and bytes read
and failed lines per source, per hour of ingestion).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import QuerySet, Sum
from django.utils import timezone

from sources.models import HourlyStats

RECEIVED_HOURS = 24  # "received in the last 24 h": this hour and the 23 before it


def hour_buckets(hours: int, now: datetime | None = None) -> list[datetime]:
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    return [end - timedelta(hours=hours - 1 - i) for i in range(hours)]


def events_received(hours: int = RECEIVED_HOURS, now: datetime | None = None) -> int:
    """Events all sources received in the last `hours` hours (by the hour they arrived): the
    dashboard's count, the sum of the Log Sources list's column (hourly_events, same buckets)."""
    _, rows = _window(hours, now)
    return rows.aggregate(n=Sum("events"))["n"] or 0


def _window(hours: int, now: datetime | None) -> tuple[list[datetime], QuerySet[HourlyStats]]:
    """The hour buckets of the last `hours` hours and the stats rows that fall in them."""
    buckets = hour_buckets(hours, now)
    return buckets, HourlyStats.objects.filter(hour__gte=buckets[0], hour__lte=buckets[-1])


def hourly_events(
    source_ids: list[int], hours: int = RECEIVED_HOURS, now: datetime | None = None
) -> dict[int, list[int]]:
    """{source id: [events per hour, oldest first]} over the last `hours` hours."""
    buckets, rows = _window(hours, now)
    index = {b: i for i, b in enumerate(buckets)}
    series: dict[int, list[int]] = {sid: [0] * hours for sid in source_ids}
    rows = (
        rows.filter(source_id__in=source_ids).values("source_id", "hour").annotate(n=Sum("events"))
    )
    for row in rows:
        i = index.get(row["hour"])
        if i is not None:
            series[row["source_id"]][i] += row["n"] or 0
    return series


def hourly_series(source_id: int, hours: int = 48) -> dict[str, dict[str, list[int]]]:
    """{"events": {log type: [per hour]}, "bytes": [per hour], "failures": [per hour]}."""
    buckets = hour_buckets(hours)
    index = {b: i for i, b in enumerate(buckets)}
    events: dict[str, list[int]] = defaultdict(lambda: [0] * hours)
    bytes_read, failures = [0] * hours, [0] * hours
    rows = HourlyStats.objects.filter(source_id=source_id, hour__gte=buckets[0]).values(
        "log_type", "hour", "events", "bytes", "failures"
    )
    for row in rows:
        i = index.get(row["hour"])
        if i is None:
            continue
        if row["events"]:
            events[row["log_type"] or "(unclassified)"][i] += row["events"]
        bytes_read[i] += row["bytes"]
        failures[i] += row["failures"]
    return {"events": dict(events), "bytes": bytes_read, "failures": failures}


def sparkline_points(values: list[int], width: int = 120, height: int = 24) -> str:
    """SVG polyline points for `values`, scaled to the box (flat line at the bottom when all 0)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - 1 - (v / top) * (height - 2):.1f}" for i, v in enumerate(values)
    )
