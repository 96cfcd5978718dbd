"""The console shell: home dashboard and a liveness probe."""

from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from events.models import Event, Failure
from sources.models import Source


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
