"""The one place alerts are triaged and rule settings changed (pages, API and admin call these),
each change recorded in the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from audit.models import AuditEntry
from audit.trail import record
from detections.models import Alert, AlertComment, RuleSetting


def _name(user) -> str | None:
    return user.get_username() if user is not None else None


def triage(alert: Alert, *, actor, status: str | None = None, assignee=...) -> dict[str, Any]:
    """Change an alert's status and/or assignee (`assignee=None` unassigns); audited."""
    changes: dict[str, Any] = {}
    if status is not None and status != alert.status:
        changes["status"] = [alert.status, status]
        alert.status = status
    if assignee is not ... and assignee != alert.assignee:
        changes["assignee"] = [_name(alert.assignee), _name(assignee)]
        alert.assignee = assignee
    if changes:
        with transaction.atomic():
            alert.save(update_fields=["status", "assignee", "updated_at"])
            record(AuditEntry.Action.UPDATED, alert, changes=changes, actor=actor)
    return changes


def bulk_status(alerts: Iterable[Alert], status: str, *, actor) -> int:
    """Set the status of several alerts (each change audited); returns how many changed."""
    return sum(1 for alert in alerts if triage(alert, actor=actor, status=status))


def comment(alert: Alert, body: str, *, actor) -> AlertComment:
    with transaction.atomic():
        note = AlertComment.objects.create(alert=alert, author=actor, body=body)
        record(AuditEntry.Action.COMMENTED, alert, changes={"comment": [None, body]}, actor=actor)
    return note


def assignable_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


def change_rule(
    rule_id: str, *, actor, enabled: bool | None = ..., severity: str | None = ...
) -> dict[str, Any]:
    """Override a rule's Enabled and/or Severity (None or "": back to the YAML's); audited."""
    with transaction.atomic():
        setting, _ = RuleSetting.objects.select_for_update().get_or_create(rule_id=rule_id)
        changes: dict[str, Any] = {}
        if enabled is not ... and enabled != setting.enabled:
            changes["enabled"] = [setting.enabled, enabled]
            setting.enabled = enabled
        if severity is not ... and (severity or "") != setting.severity:
            changes["severity"] = [setting.severity or None, severity or None]
            setting.severity = severity or ""
        if changes:
            setting.updated_by = actor if getattr(actor, "is_authenticated", False) else None
            setting.save()
            record(AuditEntry.Action.UPDATED, setting, changes=changes, actor=actor)
    return changes
