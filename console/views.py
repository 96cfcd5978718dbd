"""The console shell: home dashboard (sources, workers and queues), a liveness probe, and what
the audit app's pages show about sources (passed to them in console/urls.py: audit imports no
other app)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from django.contrib.auth.decorators import login_not_required
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from destinations import queries as destination_queries
from detections.models import Alert
from detections.queries import counts_by_severity
from events.models import Failure
from logtypes.models import SchemaVersion
from sources import health, runtime, stats
from sources.models import Source
from sources.permissions import can_manage_sources


def dashboard(request: HttpRequest) -> HttpResponse:
    if request.htmx and request.htmx.target == "workers-panel":
        return render(request, "console/dashboard.html#workers", workers_panel())
    since = timezone.now() - timedelta(hours=24)
    unhealthy_first = Case(
        When(health=Source.Health.UNHEALTHY, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    context = {
        "source_count": Source.objects.count(),
        "events_24h": stats.events_received(),
        "failures_24h": Failure.objects.filter(created_at__gte=since).count(),
        "failures_source_id": most_failures_since(since),
        "sources": Source.objects.order_by(unhealthy_first, "name")[:10],
        "open_alerts": counts_by_severity(Alert.objects.filter(status=Alert.Status.OPEN)),
        "failing_destinations": destination_queries.failing(),
        **workers_panel(),
    }
    return render(request, "console/dashboard.html", context)


def most_failures_since(since) -> int | None:
    """The source with the most failed lines since `since`: the failed-lines card opens its
    Ingestion tab."""
    return (
        Failure.objects.filter(created_at__gte=since, source__isnull=False)
        .values_list("source_id", flat=True)
        .annotate(n=Count("id"))
        .order_by("-n", "source_id")
        .first()
    )


@dataclass(frozen=True)
class QueueRow:
    name: str
    waiting: int
    workers: int  # live workers consuming it
    processes: int  # their pool processes, together


def workers_panel() -> dict[str, Any]:
    """The live workers and each queue's depth, from Redis (no broadcast to the workers)."""
    try:
        alive = runtime.workers()
        depths = runtime.queue_depths()
    except redis.RedisError:
        return {"workers_error": "Redis does not answer: the workers and queues are unknown."}
    queues = [
        QueueRow(
            name=name,
            waiting=depth,
            workers=len(serving := runtime.serving(name, alive)),
            processes=sum(w.concurrency for w in serving),
        )
        for name, depth in depths.items()
    ]
    now = timezone.now().timestamp()
    return {
        "workers": [
            {"info": w, "seen_seconds": max(0, round(now - w.seen))}
            for w in sorted(alive, key=lambda w: w.hostname)
        ],
        "queues": queues,
        "workers_status": health.queues_sentence([q.name for q in queues if not q.workers]),
    }


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers and tools ask for /favicon.ico whatever the page links: send them the icon."""
    return HttpResponsePermanentRedirect(static("img/sluice.svg"))


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


# --- For the audit app's pages (audit.views) ---------------------------------------------------
def account_role(request: HttpRequest) -> dict:
    """The account page's role line: source admin or viewer."""
    return {"can_manage_sources": can_manage_sources(request.user)}


def audit_links(entries: Iterable[AuditEntry]) -> dict[tuple[str, str], str]:
    """The audit log links each entry's source that still exists to its History tab, and each
    log type version to its place on the log type's page."""
    entries = list(entries)
    kinds = AuditEntry.ObjectType
    ids = {e.object_id for e in entries if e.object_type == kinds.SOURCE}
    existing = Source.objects.filter(pk__in=[i for i in ids if i.isdigit()])
    links = {
        (kinds.SOURCE.value, str(pk)): reverse("sources:history", args=[pk])
        for pk in existing.values_list("pk", flat=True)
    }
    ids = {e.object_id for e in entries if e.object_type == kinds.SCHEMA_VERSION}
    for version in SchemaVersion.objects.filter(pk__in=[i for i in ids if i.isdigit()]):
        page = reverse("logtypes:detail", args=[version.name])
        links[(kinds.SCHEMA_VERSION.value, str(version.pk))] = f"{page}#v{version.version}"
    return links
