"""Alerts and rule matches go with their events (events.retention sends `expired` after the
events older than the retention are deleted): an alert whose last event is older than the cutoff
goes with its matches and comments; a match older than the cutoff that no remaining alert holds
goes too. An alert that also holds newer events stays, with all its matches."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from detections.models import Alert, Match


def purge_before(cutoff: datetime, *, batch: int = 5000, **kwargs) -> str:
    """Delete, a batch at a time, the alerts and matches the events before `cutoff` took with
    them; returns what was deleted, as a line."""
    alerts = matches = 0
    while True:
        with transaction.atomic():
            ids = list(
                Alert.objects.filter(last_event_time__lt=cutoff)
                .order_by("last_event_time", "id")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                break
            matches += Match.objects.filter(alert_id__in=ids).delete()[0]
            Alert.objects.filter(pk__in=ids).delete()
        alerts += len(ids)
    while True:
        with transaction.atomic():
            ids = list(
                Match.objects.filter(p_event_time__lt=cutoff, alert__isnull=True)
                .order_by("p_event_time", "id")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                break
            Match.objects.filter(pk__in=ids).delete()
        matches += len(ids)
    return f"Deleted {alerts:,} alerts and {matches:,} rule matches of those events"
