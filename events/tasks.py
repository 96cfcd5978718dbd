"""Celery tasks of the events store."""

from datetime import UTC, datetime

from celery import shared_task

from events.partitions import DAY, ensure_partitions
from events.retention import purge_expired


@shared_task(name="events.tasks.purge_expired_events")
def purge_expired_events() -> int:
    """Daily from beat: make today's and tomorrow's partitions ahead of the writer (PostgreSQL),
    then remove events past SLUICE_EVENT_RETENTION."""
    now = datetime.now(UTC)
    ensure_partitions([now, now + DAY])
    return purge_expired()
