"""Routing: which destinations an alert's change goes to, recorded as Delivery rows in the
transaction that changed the alert, and handed to the `interactive` workers once it commits.

Per (alert, destination) the last recorded delivery says what the destination was last told
(phase open/resolved, severity); a change is recorded only when that differs in a way the
destination cares about:
  nothing told yet, alert open and wanted         → trigger
  told "open", alert now resolved or closed       → resolve
  told "resolved", alert open again and wanted    → reopen
  told "open", severity changed and still wanted  → update
"Wanted": enabled, at or above its minimum severity, and its log-type and rule filters match;
a rule's `destinations()` override names the destinations instead (filters then do not apply).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from destinations.models import SEVERITY_RANK, Delivery, Destination
from destinations.view import AlertView

Change = Delivery.Change


def wants(destination: Destination, view: AlertView) -> bool:
    if view.destinations:
        return destination.name in view.destinations or str(destination.pk) in view.destinations
    if SEVERITY_RANK.get(view.severity, 0) < SEVERITY_RANK[destination.min_severity]:
        return False
    if destination.log_types and not set(destination.log_types) & set(view.log_types):
        return False
    if destination.rule_ids:
        return any(fnmatch.fnmatchcase(view.rule_id, p) for p in destination.rule_ids)
    return True


def change_for(last: Delivery | None, view: AlertView, wanted: bool) -> str | None:
    if last is None:
        return Change.TRIGGER if wanted and view.phase == "open" else None
    if view.phase == "resolved":
        return Change.RESOLVE if last.phase == "open" else None
    if last.phase == "resolved":
        return Change.REOPEN if wanted else None
    if view.severity != last.severity and wanted:
        return Change.UPDATE
    return None


def record(view: AlertView) -> list[Delivery]:
    """Record the deliveries this state of the alert calls for; returns them. They are sent
    once the surrounding transaction commits (or by the sweeper, if that hand-off is lost)."""
    destinations = list(Destination.objects.filter(enabled=True))
    if not destinations or view.id is None:
        return []
    last: dict[int, Delivery] = {}
    for delivery in Delivery.objects.filter(alert_id=view.id).order_by("seq", "id"):
        last[delivery.destination_id] = delivery
    due = []
    for destination in destinations:
        previous = last.get(destination.pk)
        change = change_for(previous, view, wants(destination, view))
        if change is not None:
            due.append((destination, change, (previous.seq + 1) if previous else 1))
    if not due:
        return []
    created = [d for d in (_create(view, *args) for args in due) if d is not None]
    if created:
        ids = [d.pk for d in created]
        transaction.on_commit(lambda: enqueue(ids))
    return created


def _create(view: AlertView, destination: Destination, change: str, seq: int) -> Delivery | None:
    try:
        with transaction.atomic():
            return Delivery.objects.create(
                destination=destination,
                alert_id=view.id,
                seq=seq,
                change=change,
                phase=view.phase,
                severity=view.severity,
                alert=view.to_json(),
            )
    except IntegrityError:  # another process recorded this change first
        return None


def enqueue(delivery_ids: Iterable[int], attempt: int = 1, countdown: float = 0) -> None:
    from destinations.tasks import deliver

    for delivery_id in delivery_ids:
        deliver.apply_async((delivery_id, attempt), countdown=countdown or None)
