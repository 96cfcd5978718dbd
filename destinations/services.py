"""The one place destinations are created, changed, deleted and tested (pages and API call
these); every change is recorded in the audit trail, secrets by name only."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.models import AuditEntry
from audit.trail import record
from destinations import delivery
from destinations.forms import DestinationForm
from destinations.hooks import console_url
from destinations.models import Delivery, Destination
from destinations.sealed import seal, unseal
from destinations.view import sample_alert

FIELDS = ("name", "kind", "enabled", "min_severity", "log_types", "rule_ids", "url", "recipients")


def _snapshot(destination: Destination) -> dict[str, Any]:
    return {name: getattr(destination, name) for name in FIELDS}


def save(form: DestinationForm, *, actor, via: str | None = None) -> Destination:
    """Create (form.instance None) or change a destination from a valid form; audited."""
    destination = form.instance or Destination()
    before = _snapshot(destination) if destination.pk else {}
    old_secrets = unseal(destination.secrets) if destination.pk else {}
    for name, value in form.values().items():
        setattr(destination, name, value)
    new_secrets = form.secrets()
    destination.secrets = seal(new_secrets)
    after = _snapshot(destination)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    for name in sorted(set(old_secrets) | set(new_secrets)):
        if old_secrets.get(name) != new_secrets.get(name):
            changes[name] = ["set" if name in old_secrets else None, "set"]
    action = AuditEntry.Action.UPDATED if destination.pk else AuditEntry.Action.CREATED
    with transaction.atomic():
        destination.save()
        if changes:
            record(action, destination, changes=changes, actor=actor, via=via)
    return destination


def delete(destination: Destination, *, actor, via: str | None = None) -> None:
    with transaction.atomic():
        record(AuditEntry.Action.DELETED, destination, changes={}, actor=actor, via=via)
        destination.delete()


def send_test(destination: Destination) -> Delivery:
    """Send the sample alert now, once (no retry), and log it like any delivery."""
    view = sample_alert(console_url(destination.get_absolute_url()))
    row = Delivery.objects.create(
        destination=destination,
        alert_id=None,
        change=Delivery.Change.TEST,
        phase=view.phase,
        severity=view.severity,
        alert=view.to_json(),
    )
    delivery.attempt(row.pk, 1, retry=False)
    row.refresh_from_db()
    return row
