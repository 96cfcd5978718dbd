"""The console shell: home dashboard, a liveness probe, and what the audit app's pages show
about sources (passed to them in console/urls.py: audit imports no other app)."""

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from events.models import Event, Failure
from sources.models import Source
from sources.permissions import can_manage_sources


def dashboard(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - timedelta(hours=24)
    unhealthy_first = Case(
        When(health=Source.Health.UNHEALTHY, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    context = {
        "source_count": Source.objects.count(),
        "events_24h": Event.objects.filter(p_event_time__gte=since).count(),
        "failures_24h": Failure.objects.filter(created_at__gte=since).count(),
        "sources": Source.objects.order_by(unhealthy_first, "name")[:10],
    }
    return render(request, "console/dashboard.html", context)


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


# --- For the audit app's pages (audit.views) ---------------------------------------------------
def account_role(request: HttpRequest) -> dict:
    """The account page's role line: source admin or viewer."""
    return {"can_manage_sources": can_manage_sources(request.user)}


def audit_links(entries: Iterable[AuditEntry]) -> dict[tuple[str, str], str]:
    """The audit log links each entry's source that still exists to its History tab."""
    ids = {e.object_id for e in entries if e.object_type == AuditEntry.ObjectType.SOURCE}
    existing = Source.objects.filter(pk__in=[i for i in ids if i.isdigit()])
    return {
        (AuditEntry.ObjectType.SOURCE.value, str(pk)): reverse("sources:history", args=[pk])
        for pk in existing.values_list("pk", flat=True)
    }
