"""The seam with the detections app: every save of a detections.Alert (created, severity or
status changed, events added) is offered to dispatch.record(), in the transaction that saved it.
Nothing in detections knows about destinations (the layers point the other way)."""

from __future__ import annotations

import logging

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save

from destinations import dispatch
from destinations.view import MAX_EVENTS, AlertView

log = logging.getLogger(__name__)


def connect() -> None:
    if apps.is_installed("detections"):
        alert_model = apps.get_model("detections", "Alert")
        post_save.connect(alert_saved, sender=alert_model, dispatch_uid="destinations.alert")


def alert_saved(sender, instance, **kwargs) -> None:
    """Never lets a delivery problem fail the save (an ingestion batch, a triage)."""
    try:
        with transaction.atomic():
            dispatch.record(view_of(instance), with_events=with_events)
    except Exception:
        log.exception("recording deliveries for alert %s failed", instance.pk)


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
        runbook=alert.runbook or "",
        alert_context=alert.alert_context or {},
        destinations=[str(d) for d in (getattr(alert, "destinations", None) or [])],
        created_at=_iso(alert.created_at),
        updated_at=_iso(alert.updated_at),
    )


def with_events(view: AlertView) -> AlertView:
    """The view with up to MAX_EVENTS of the alert's events (their normalized fields)."""
    from dataclasses import replace

    from events.models import Event

    alert_model = apps.get_model("detections", "Alert")
    rows = alert_model.objects.get(pk=view.id).matches.values_list("p_row_id", flat=True)
    row_ids = list(rows[:MAX_EVENTS])
    events = Event.objects.filter(p_row_id__in=row_ids).order_by("p_event_time")[:MAX_EVENTS]
    return replace(view, events=[_event(e) for e in events])


def _event(event) -> dict:
    return {
        "p_row_id": event.p_row_id,
        "p_log_type": event.p_log_type,
        "p_event_time": _iso(event.p_event_time),
        "source": event.source_id,
        **(event.fields or {}),
    }
