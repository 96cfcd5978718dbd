"""Health bookkeeping: hourly stats, last event time, the last error per stage, alarms."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone

from ingestion.models import HourlyStats, StageError
from sources.models import Source

log = logging.getLogger(__name__)
FAILURES_LOG_TYPE = ""  # hourly row that carries bytes and failures not tied to one log type


def hour_of(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def add_hourly(
    source_id: int,
    *,
    events_by_log_type: Mapping[str, int] = {},
    failures: int = 0,
    bytes_read: int = 0,
    when: datetime | None = None,
) -> None:
    """Add counts to this hour's rows (call inside the transaction that stored them)."""
    hour = hour_of(when or timezone.now())
    for log_type, count in sorted(events_by_log_type.items()):  # one lock order for all workers
        if count:
            _increment(source_id, log_type, hour, events=count)
    if failures or bytes_read:
        _increment(source_id, FAILURES_LOG_TYPE, hour, failures=failures, bytes=bytes_read)


def _increment(source_id: int, log_type: str, hour: datetime, **deltas: int) -> None:
    stats, _ = HourlyStats.objects.get_or_create(source_id=source_id, log_type=log_type, hour=hour)
    HourlyStats.objects.filter(pk=stats.pk).update(
        **{name: F(name) + value for name, value in deltas.items()}
    )


def mark_events_arrived(source_id: int, when: datetime | None = None) -> None:
    """Last event time, and "Waiting for data"/"Unhealthy" → "Healthy" on data."""
    when = when or timezone.now()
    Source.objects.filter(pk=source_id).update(last_event_at=when)
    Source.objects.filter(
        pk=source_id,
        paused=False,
        health__in=[Source.Health.WAITING, Source.Health.UNHEALTHY],
    ).update(health=Source.Health.HEALTHY, health_reason="")


def record_stage_error(source_id: int, stage: str, message: str) -> None:
    """Best effort: when the database itself is what failed, the log keeps the error."""
    log.warning("source %s, stage %s: %s", source_id, stage, message)
    try:
        StageError.objects.update_or_create(
            source_id=source_id,
            stage=stage,
            defaults={"message": message[:4000], "at": timezone.now()},
        )
    except DatabaseError:
        log.exception("could not record the %s error of source %s", stage, source_id)


def clear_stage_error(source_id: int, stage: str) -> None:
    StageError.objects.filter(source_id=source_id, stage=stage).delete()


def check_drop_off(now: datetime | None = None) -> list[int]:
    """Mark healthy sources whose data stopped for longer than their alarm threshold unhealthy."""
    now = now or timezone.now()
    flagged = []
    for source in Source.objects.filter(paused=False).exclude(health=Source.Health.UNHEALTHY):
        minutes = getattr(source, "alarm_minutes", None)
        if not minutes:
            continue
        since = source.last_event_at or source.created_at
        if since and now - since > timedelta(minutes=minutes):
            reason = (
                f"No data for {minutes} minutes (last event {since:%Y-%m-%d %H:%M} UTC)"
                if source.last_event_at
                else f"No data received in the {minutes} minutes since the source was created"
            )
            Source.objects.filter(pk=source.pk).update(
                health=Source.Health.UNHEALTHY, health_reason=reason
            )
            flagged.append(source.pk)
    return flagged


def check_all(now: datetime | None = None) -> dict[int, str]:
    """Every active source's health, decided in one place; returns {source id: reason}."""
    return {pk: "drop-off" for pk in check_drop_off(now)}


def sparkline(source_id: int, hours: int = 24, now: datetime | None = None) -> list[int]:
    """Events per hour for the last `hours` hours, oldest first (zeros where nothing arrived)."""
    end = hour_of(now or timezone.now())
    start = end - timedelta(hours=hours - 1)
    counts = dict.fromkeys(range(hours), 0)
    rows = HourlyStats.objects.filter(source_id=source_id, hour__gte=start, hour__lte=end)
    for hour, events in rows.values_list("hour", "events"):
        counts[int((hour - start).total_seconds() // 3600)] += events
    return [counts[i] for i in range(hours)]
