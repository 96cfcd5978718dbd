"""The seam with the detections app (nothing in detections knows about destinations: the layers
point the other way). Two ways in, both ending in dispatch.record(), which is idempotent:

- Django's post_save of detections.Alert: a save (a triage, a System.* alert) is offered in the
  transaction that saved it, so its deliveries commit with it;
- follow(): alerts written in bulk (ingestion's alert windows use bulk_create/bulk_update, which
  send no signal) are picked up by beat every few seconds from their updated_at, each under a
  row lock so a concurrent triage and the follower see the alert in one order.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from destinations import dispatch
from destinations.view import MAX_EVENTS, AlertView

log = logging.getLogger(__name__)


def connect() -> None:
    from detections.models import Alert

    post_save.connect(alert_saved, sender=Alert, dispatch_uid="destinations.alert")


def alert_saved(sender, instance, **kwargs) -> None:
    """Never lets a delivery problem fail the save (an ingestion batch, a triage)."""
    try:
        with transaction.atomic():
            dispatch.record(view_of(instance))
    except Exception:
        log.exception("recording deliveries for alert %s failed", instance.pk)


def follow(now: datetime | None = None) -> int:
    """Record what alerts changed in the last SLUICE_DESTINATION_FOLLOW_SECONDS call for (beat);
    returns how many deliveries were recorded."""
    from destinations.models import Destination
    from detections.models import Alert

    if not Destination.objects.filter(enabled=True).exists():
        return 0  # nobody to tell: don't lock the alerts ingestion is writing
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.SLUICE_DESTINATION_FOLLOW_SECONDS)
    recorded = 0
    for alert_id in Alert.objects.filter(updated_at__gte=since).values_list("pk", flat=True):
        with transaction.atomic():
            alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
            if alert is not None:
                recorded += len(dispatch.record(view_of(alert)))
    return recorded


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def console_url(path: str) -> str:
    return settings.SLUICE_CONSOLE_URL.rstrip("/") + path if path else ""


def view_of(alert) -> AlertView:
    """An alert of the detections app (a rule's or a System.* one) as destinations see it."""
    log_type = getattr(alert, "log_type", "") or ""
    return AlertView(
        id=alert.pk,
        rule_id=alert.rule_id,
        title=alert.title,
        severity=alert.severity,
        status=alert.status,
        first_event_time=_iso(alert.first_event_time),
        last_event_time=_iso(alert.last_event_time),
        event_count=alert.event_count,
        url=console_url(alert.get_absolute_url()),
        log_types=[log_type] if log_type else [],
        dedup=alert.dedup,
        runbook=alert.runbook or str((alert.alert_context or {}).get("runbook", "")),
        alert_context=alert.alert_context or {},
        destinations=[str(d) for d in (getattr(alert, "destinations", None) or [])],
        created_at=_iso(alert.created_at),
        updated_at=_iso(alert.updated_at),
    )


def alert_events(alert_id: int) -> list[dict]:
    """Up to MAX_EVENTS of an alert's events (normalized fields), oldest first. Read when the
    first try is sent, after the alert's transaction linked its matches."""
    from detections.models import Match
    from events.models import Event

    matches = Match.objects.filter(alert_id=alert_id).order_by("p_event_time", "p_row_id")
    row_ids = list(matches.values_list("p_row_id", flat=True)[:MAX_EVENTS])
    events = Event.objects.filter(p_row_id__in=row_ids).order_by("p_event_time", "p_row_id")
    return [_event(e) for e in events]


def _event(event) -> dict:
    return {
        **(event.fields or {}),
        "p_row_id": event.p_row_id,
        "p_log_type": event.p_log_type,
        "p_event_time": _iso(event.p_event_time),
        "p_source_id": event.source_id,
    }
