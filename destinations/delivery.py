"""Sending one recorded delivery: claim the try, send, log it, retry or give up.

At most once per change: a try is claimed with one UPDATE (status pending/retrying → sending,
attempts n-1 → n) committed before anything is sent. A worker killed mid-send leaves the row
"sending"; its task comes back (acks_late) and finds nothing to claim, and the sweeper marks the
row "unknown" (the message may or may not have arrived: it is never sent twice).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from destinations import senders
from destinations.http import Outcome
from destinations.models import Delivery, DeliveryAttempt
from destinations.view import AlertView

Status = Delivery.Status
logger = logging.getLogger(__name__)
MAX_RETRY_AFTER_SECONDS = 3600


def attempt(delivery_id: int, number: int, *, retry: bool = True) -> str:
    """Try #number of a delivery; returns its status afterwards ("skipped": not ours to send)."""
    claimed = Delivery.objects.filter(
        pk=delivery_id, attempts=number - 1, status__in=[Status.PENDING, Status.RETRYING]
    ).update(status=Status.SENDING, attempts=number, updated_at=timezone.now())
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("destination").get(pk=delivery_id)
    tried = DeliveryAttempt.objects.create(delivery=delivery, number=number)
    try:
        outcome = senders.send(delivery.destination, _with_events(delivery), delivery.change)
    except Exception as exc:  # a defect must not leave the row "sending" forever
        logger.exception("delivery %s failed", delivery_id)
        outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
    _log(tried, outcome)
    return _settle(delivery, number, outcome, retry=retry)


def _with_events(delivery: Delivery) -> AlertView:
    """The delivery's alert. A rule alert's events are read at the first try (its matches are
    linked when the alert's transaction ends) and kept, so every retry sends the same."""
    from destinations.hooks import alert_events

    view = AlertView.from_json(delivery.alert)
    if view.events is not None or view.id is None:
        return view
    delivery.alert = {**view.to_json(), "events": alert_events(view.id)}
    delivery.save(update_fields=["alert"])
    return AlertView.from_json(delivery.alert)


def _log(log: DeliveryAttempt, outcome: Outcome) -> None:
    log.finished_at = timezone.now()
    log.ok = outcome.ok
    log.status_code = outcome.status_code
    log.response = outcome.response
    log.error = outcome.error
    log.save(update_fields=["finished_at", "ok", "status_code", "response", "error"])


def backoff(number: int, outcome: Outcome) -> float:
    """Seconds before try number+1: Retry-After when the receiver gave one, else doubling."""
    if outcome.retry_after is not None:
        return min(outcome.retry_after, MAX_RETRY_AFTER_SECONDS)
    base = settings.SLUICE_DESTINATION_RETRY_SECONDS
    return min(base * 2 ** (number - 1), settings.SLUICE_DESTINATION_MAX_BACKOFF_SECONDS)


def _settle(delivery: Delivery, number: int, outcome: Outcome, *, retry: bool) -> str:
    from destinations.dispatch import enqueue

    if outcome.ok:
        status, due = Status.DELIVERED, None
    elif retry and outcome.retryable and number < settings.SLUICE_DESTINATION_MAX_ATTEMPTS:
        delay = backoff(number, outcome)
        status, due = Status.RETRYING, timezone.now() + timedelta(seconds=delay)
    else:
        status, due = Status.FAILED, None
    Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING, attempts=number).update(
        status=status, next_attempt_at=due, updated_at=timezone.now()
    )
    if status == Status.RETRYING:
        enqueue([delivery.pk], attempt=number + 1, countdown=delay)
    return status


def sweep(*, now=None) -> dict[str, int]:
    """Hand out again what a lost task message left behind, and mark tries a dead worker left
    mid-send as unknown (run by beat)."""
    from destinations.dispatch import enqueue

    now = now or timezone.now()
    grace = timedelta(seconds=settings.SLUICE_DESTINATION_SWEEP_GRACE_SECONDS)
    pending = Delivery.objects.filter(status=Status.PENDING, created_at__lt=now - grace)
    retrying = Delivery.objects.filter(status=Status.RETRYING, next_attempt_at__lt=now - grace)
    due = [*pending.values_list("id", "attempts"), *retrying.values_list("id", "attempts")]
    for delivery_id, attempts in due:
        enqueue([delivery_id], attempt=attempts + 1)
    stale = now - grace - timedelta(seconds=2 * settings.SLUICE_DESTINATION_TIMEOUT_SECONDS)
    lost = Delivery.objects.filter(status=Status.SENDING, updated_at__lt=stale).update(
        status=Status.UNKNOWN
    )
    return {"handed_out": len(due), "unknown": lost}
