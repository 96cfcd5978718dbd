"""Retention: delete events older than SLUICE_EVENT_RETENTION, a batch at a time.

Small batches keep each transaction (and its locks) short, so ingestion and searches carry on
while a large backlog is purged. PostgreSQL time partitioning is not used (see the README note):
deletes walk the (p_event_time desc, id desc) index.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from events.models import Event

BATCH = 5000


def retention_cutoff(now: datetime | None = None, retention: timedelta | None = None) -> datetime:
    return (now or datetime.now(UTC)) - (retention or settings.SLUICE_EVENT_RETENTION)


def purge_expired(
    cutoff: datetime | None = None,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Delete every event with p_event_time before `cutoff` (default: now - retention)."""
    cutoff = cutoff or retention_cutoff()
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                Event.objects.filter(p_event_time__lt=cutoff)
                .order_by("p_event_time", "id")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                return deleted
            Event.objects.filter(id__in=ids).delete()
        deleted += len(ids)
        progress(deleted)
