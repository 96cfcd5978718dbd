"""Celery tasks of the events store."""

from celery import shared_task

from events.retention import purge_expired


@shared_task(name="events.tasks.purge_expired_events")
def purge_expired_events() -> int:
    """Delete events past SLUICE_EVENT_RETENTION (runs daily from beat)."""
    return purge_expired()
