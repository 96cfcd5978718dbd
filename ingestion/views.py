"""The ingestion panel of a source: health per stage, recent and failed objects, failed lines,
"Retry", "Reprocess failures" and "Backfill from date" with a live progress bar (htmx)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from events.models import Failure
from ingestion import tasks
from ingestion.models import BackfillRun, ObjectLedger, StageError
from sources import stats
from sources.health import is_parse_warning
from sources.models import HourlyStats, Source
from sources.permissions import can_manage_sources
from sources.views import render_tab, source_context

RECENT = 10


def panel_context(source: Source, user: Any) -> dict[str, Any]:
    """What templates/ingestion/partials/source_ingestion.html shows for one source."""
    day_ago = stats.hour_buckets(stats.RECEIVED_HOURS)[0]
    totals = HourlyStats.objects.filter(source=source, hour__gte=day_ago).aggregate(
        events=Sum("events"), bytes=Sum("bytes"), failures=Sum("failures")
    )
    events_24h = totals["events"] or 0
    failures_24h = totals["failures"] or 0
    errors = {e.stage: e for e in StageError.objects.filter(source=source)}
    return {
        "source": source,
        "transport": source.transport_impl,
        "can_manage": can_manage_sources(user),
        "stages": [
            (value, label, errors.get(value), _is_warning(errors.get(value)))
            for value, label in StageError.Stage.choices
        ],
        "recent_objects": ObjectLedger.objects.filter(source=source)[:RECENT],
        "failed_objects": tasks.failed_objects(source)[:RECENT],
        "failures": Failure.objects.filter(source=source)[:RECENT],
        "failure_count": Failure.objects.filter(source=source).count(),
        "events_24h": events_24h,
        "bytes_24h": totals["bytes"] or 0,
        "failure_rate_24h": (
            round(100 * failures_24h / (events_24h + failures_24h), 2)
            if events_24h + failures_24h
            else 0
        ),
        "sparkline": stats.hourly_events([source.pk])[source.pk],
        "backfill": BackfillRun.objects.filter(source=source).first(),
        "today": timezone.now().date().isoformat(),
    }


def last_object(source: Source) -> ObjectLedger | None:
    """The object (or message) read last for a source: its Overview tab shows it (console/urls.py
    passes this to sources' page)."""
    return (
        ObjectLedger.objects.filter(source_id=source.pk, status=ObjectLedger.Status.DONE)
        .order_by("-finished_at", "-id")
        .first()
    )


def _is_warning(error: StageError | None) -> bool:
    """Some lines that did not parse: data quality, not a broken stage (sources.health)."""
    return error is not None and is_parse_warning(error.message)


def source_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The source's Ingestion tab; its own htmx actions swap only the panel inside it."""
    source = get_object_or_404(Source, pk=pk)
    ingestion = panel_context(source, request.user)
    if request.htmx and request.htmx.target != "tab-panel":
        context = {"ingestion": ingestion, "source": source}
        return render(request, "ingestion/partials/source_ingestion.html", context)
    context = source_context(request, source, "ingestion", ingestion=ingestion)
    return render_tab(request, context, "ingestion/source_ingestion.html")


def _require_manage(request: HttpRequest) -> None:
    if not can_manage_sources(request.user):
        raise PermissionDenied("Only source admins can retry, reprocess or backfill.")


def _back_to_panel(request: HttpRequest, source: Source) -> HttpResponse:
    if request.htmx:
        return source_panel(request, source.pk)
    return redirect("ingestion:source", pk=source.pk)


@require_POST
def retry_object(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    row = get_object_or_404(ObjectLedger, pk=pk)
    tasks.retry_object.delay(row.pk)
    messages.info(request, f"Reading {row.key} again.")
    return _back_to_panel(request, row.source)


@require_POST
def reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    source = get_object_or_404(Source, pk=pk)
    tasks.reprocess_failures_task.delay(source.pk)
    messages.info(
        request, "Reprocessing failed lines with the current schemas; fixed lines move to events."
    )
    return _back_to_panel(request, source)


@require_POST
def start_backfill(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    source = get_object_or_404(Source, pk=pk)
    try:
        since = datetime.combine(
            datetime.strptime(request.POST.get("since", ""), "%Y-%m-%d").date(), time(0), UTC
        )
    except ValueError:
        messages.error(request, "Backfill needs a start date (YYYY-MM-DD).")
        return _back_to_panel(request, source)
    if not source.transport_impl.backfill:
        messages.error(request, f"{source.transport_impl.label} sources cannot backfill.")
        return _back_to_panel(request, source)
    run = BackfillRun.objects.create(source=source, since=since, created_by=request.user)
    tasks.run_backfill.delay(run.pk)
    if request.htmx:
        return render(request, "ingestion/partials/backfill_progress.html", {"run": run})
    return redirect("ingestion:backfill", pk=run.pk)


def backfill_progress(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(BackfillRun.objects.select_related("source"), pk=pk)
    if request.htmx:
        return render(request, "ingestion/partials/backfill_progress.html", {"run": run})
    return render(request, "ingestion/backfill.html", {"run": run, "source": run.source})
