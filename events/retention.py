"""Retention: remove events older than SLUICE_EVENT_RETENTION.

PostgreSQL drops the day partitions wholly older than the cutoff (events.partitions), then, like
SQLite, deletes what is left before the cutoff (the boundary day and the DEFAULT partition) a
batch at a time: small batches keep each transaction (and its locks) short, so ingestion and
searches carry on while a large backlog is purged.

Apps that keep rows about events (detections' alerts and rule matches) purge them with the
events: they connect to `expired`, sent with the cutoff after the events are gone, and return a
line saying what they removed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal

from events.models import Event, EventOrigin
from events.partitions import drop_partitions_before

BATCH = 5000

expired = Signal()  # sent as expired.send(sender=None, cutoff=..., batch=...) by purge_expired


def retention_cutoff(now: datetime | None = None, retention: timedelta | None = None) -> datetime:
    return (now or datetime.now(UTC)) - (retention or settings.SLUICE_EVENT_RETENTION)


def purge_expired(
    cutoff: datetime | None = None,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] = lambda n: None,
    report: Callable[[str], None] = lambda line: None,
) -> int:
    """Delete every event with p_event_time before `cutoff` (default: now - retention), then
    what other apps keep about them (`expired`; `report` gets each one's line)."""
    cutoff = cutoff or retention_cutoff()
    deleted = drop_partitions_before(cutoff)
    if deleted:
        progress(deleted)
    while True:
        with transaction.atomic():
            ids = list(
                Event.objects.filter(p_event_time__lt=cutoff)
                .order_by("p_event_time", "id")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                break
            # the time bound prunes the partitions searched for the ids (the key is id and time)
            Event.objects.filter(p_event_time__lt=cutoff, id__in=ids).delete()
        deleted += len(ids)
        progress(deleted)
    EventOrigin.objects.filter(last_time__lt=cutoff).delete()
    for _, line in expired.send(sender=None, cutoff=cutoff, batch=batch):
        if line:
            report(line)
    return deleted
