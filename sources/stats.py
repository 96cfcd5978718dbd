"""Event counts per source over time, for the sparklines and the source page's charts.

One place to read them: today from events.Event (count per hour over p_event_time); when
ingestion's hourly stats exist, this module is the one to switch.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from events.models import Event


def hour_buckets(hours: int, now: datetime | None = None) -> list[datetime]:
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    return [end - timedelta(hours=hours - 1 - i) for i in range(hours)]


def hourly_events(source_ids: list[int], hours: int = 24) -> dict[int, list[int]]:
    """{source id: [events per hour, oldest first]} over the last `hours` hours."""
    buckets = hour_buckets(hours)
    index = {b: i for i, b in enumerate(buckets)}
    series: dict[int, list[int]] = {sid: [0] * hours for sid in source_ids}
    rows = (
        Event.objects.filter(source_id__in=source_ids, p_event_time__gte=buckets[0])
        .annotate(hour=TruncHour("p_event_time"))
        .values("source_id", "hour")
        .annotate(n=Count("id"))
    )
    for row in rows:
        i = index.get(_aware(row["hour"]))
        if i is not None:
            series[row["source_id"]][i] += row["n"]
    return series


def hourly_events_by_log_type(source_id: int, hours: int = 48) -> dict[str, list[int]]:
    """{log type: [events per hour]} for one source (bytes need ingestion's stats)."""
    buckets = hour_buckets(hours)
    index = {b: i for i, b in enumerate(buckets)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * hours)
    rows = (
        Event.objects.filter(source_id=source_id, p_event_time__gte=buckets[0])
        .annotate(hour=TruncHour("p_event_time"))
        .values("p_log_type", "hour")
        .annotate(n=Count("id"))
    )
    for row in rows:
        i = index.get(_aware(row["hour"]))
        if i is not None:
            series[row["p_log_type"]][i] += row["n"]
    return dict(series)


def _aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def sparkline_points(values: list[int], width: int = 120, height: int = 24) -> str:
    """SVG polyline points for `values`, scaled to the box (flat line at the bottom when all 0)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - 1 - (v / top) * (height - 2):.1f}" for i, v in enumerate(values)
    )
