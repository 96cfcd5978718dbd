"""What can happen to a source, in one place for the wizard, the settings page, the API and admin.

Each change is one transaction and leaves an audit entry (audit.trail), which is also the
source's History tab.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from audit import trail
from audit.models import AuditEntry
from sources import health
from sources.models import DEFAULT_ALARM_MINUTES, Source, VerificationRun

Action = AuditEntry.Action
TRACKED_FIELDS = ("name", "transport", "log_types", "config", "alarm_minutes", "paused")


def record(source: Source, action: str, user=None, changes=None, via: str = "console") -> None:
    trail.record(action, source, changes=changes, actor=user, via=via)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for changed fields; config compared key by key.

    diff({}, snapshot(source)) lists a new source's settings, diff(snapshot(source), {}) a deleted
    one's.
    """
    changes: dict[str, list[Any]] = {}
    for field in TRACKED_FIELDS:
        old, new = before.get(field), after.get(field)
        if field == "config" and isinstance(old or new, dict):
            old, new = old or {}, new or {}
            for key in sorted({*old, *new}):
                if old.get(key) != new.get(key):
                    changes[f"config.{key}"] = [old.get(key), new.get(key)]
        elif old != new:
            changes[field] = [old, new]
    return changes


def snapshot(source: Source) -> dict[str, Any]:
    return {field: getattr(source, field) for field in TRACKED_FIELDS}


@transaction.atomic
def create_source(
    *,
    name: str,
    transport: str,
    log_types: list[str],
    config: dict[str, Any],
    user=None,
    alarm_minutes: int | None = DEFAULT_ALARM_MINUTES,
    verification: VerificationRun | None = None,
    via: str = "console",
) -> Source:
    """Save a new source (and adopt the wizard's verification run: its result sets the health)."""
    source = Source.objects.create(
        name=name,
        transport=transport,
        log_types=log_types,
        config=config,
        alarm_minutes=alarm_minutes,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    record(source, Action.CREATED, user, diff({}, snapshot(source)), via)
    if verification is not None:
        VerificationRun.objects.filter(pk=verification.pk).update(source=source)
        verification.refresh_from_db()
        if verification.done:
            health.verification_finished(verification)
    return source


@transaction.atomic
def update_source(source: Source, user=None, via: str = "console", **values: Any) -> Source:
    """Change the named fields only (health is sources.health's: never written here)."""
    before = snapshot(source)
    for field, value in values.items():
        setattr(source, field, value)
    source.save(update_fields=[*values, "updated_at"])
    changes = diff(before, snapshot(source))
    if "paused" in changes:
        health.pause_changed(source)
    if changes:
        action = Action.UPDATED
        if set(changes) == {"paused"}:
            action = Action.PAUSED if source.paused else Action.RESUMED
        record(source, action, user, changes, via)
    return source


def set_paused(source: Source, paused: bool, user=None, via: str = "console") -> Source:
    if source.paused == paused:
        return source
    return update_source(source, user, via, paused=paused)


@transaction.atomic
def delete_source(source: Source, user=None, via: str = "console") -> None:
    record(source, Action.DELETED, user, diff(snapshot(source), {}), via)
    source.delete()


def start_verification(
    *, transport: str, config: dict[str, Any], user=None, source: Source | None = None,
    via: str = "console",
) -> VerificationRun:  # fmt: skip
    """Queue a verification run; the Celery task fills in its checks. Committed before .delay()."""
    from sources.tasks import run_verification

    with transaction.atomic():
        run = VerificationRun.objects.create(
            source=source,
            transport=transport,
            config=config,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        if source is not None:
            record(source, Action.VERIFIED, user, {}, via)
    transaction.on_commit(lambda: run_verification.delay(run.pk))
    return run


def ingest_url(source: Source, request: HttpRequest | None = None) -> str | None:
    """Where a push transport's clients send data (the generic endpoint of ingestion); None for
    transports that fetch their data themselves."""
    if source.pk is None or not source.transport_impl.accepts_push:
        return None
    path = reverse("api:push", kwargs={"source_id": source.pk})
    return request.build_absolute_uri(path) if request is not None else path
