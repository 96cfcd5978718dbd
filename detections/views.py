"""Alerts (list, detail, triage) and Detections (rules, their settings and on-demand runs)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from detections import queries, ruleset, search, services
from detections.filters import AlertFilter
from detections.forms import BulkStatusForm, CommentForm, RuleSettingForm, RunForm, TriageForm
from detections.models import Alert, RuleError, RuleRun, RuleSetting
from detections.tasks import run_rule
from events.search import CUSTOM_RANGE, SearchState, ceil_to_second, page
from sources.permissions import can_manage_sources

EVENTS_SHOWN = 50


# --- Alerts ------------------------------------------------------------------------------------
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    filterset = AlertFilter(request.GET, queryset=Alert.objects.all())
    alerts = filterset.qs if filterset.is_valid() else Alert.objects.none()
    try:
        rows, next_cursor = queries.alert_page(alerts, request.GET.get("cursor", ""))
    except queries.CursorError:
        rows, next_cursor = queries.alert_page(alerts)
    params = request.GET.copy()
    params.pop("cursor", None)
    unfiltered_severity = request.GET.copy()
    unfiltered_severity.pop("severity", None)
    unfiltered_severity.pop("cursor", None)
    counted = AlertFilter(unfiltered_severity, queryset=Alert.objects.all())
    context = {
        "filter": filterset,
        "rows": rows,
        "next_query": _with(params, cursor=next_cursor) if next_cursor else "",
        "severity_counts": [
            (value, label, count, _with(unfiltered_severity, severity=value))
            for value, label, count in queries.counts_by_severity(
                counted.qs if counted.is_valid() else Alert.objects.none()
            )
        ],
        "total": Alert.objects.exists(),
        "statuses": Alert.Status.choices,
        "here": request.get_full_path(),
    }
    template = "detections/alert_list.html#table" if request.htmx else "detections/alert_list.html"
    return render(request, template, context)


def _with(params, **values) -> str:
    params = params.copy()
    for key, value in values.items():
        params[key] = value
    return params.urlencode()


@require_POST
def alert_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkStatusForm(request.POST)
    if form.is_valid():
        changed = services.bulk_status(
            form.cleaned_data["alerts"], form.cleaned_data["status"], actor=request.user
        )
        messages.success(request, f"{changed} alert(s) set to {form.cleaned_data['status']}.")
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("detections:alerts")
    return redirect(back)


@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("assignee"), pk=pk)
    events, next_cursor = page(
        queries.alert_events(alert), request.GET.get("cursor", ""), EVENTS_SHOWN
    )
    rule = ruleset.find(ruleset.current(), alert.rule_id)
    context = {
        "alert": alert,
        "context_json": json.dumps(alert.alert_context, indent=2, sort_keys=True, default=str),
        "rule": rule,
        # the alert's own, else its rule's (a removed rule has none)
        "runbook": alert.runbook or (rule.meta.runbook if rule else ""),
        "reference": alert.reference or (rule.meta.reference if rule else ""),
        "events": events,
        "next_cursor": next_cursor,
        "sessions": queries.sessions(events),
        "search_query": _search_around(alert),
        "comments": alert.comments.select_related("author"),
        **_triage_context(alert),
    }
    if request.htmx and request.htmx.target == "alert-events":
        return render(request, "detections/alert_detail.html#events", context)
    return render(request, "detections/alert_detail.html", context)


def _search_around(alert: Alert) -> str:
    """Search: exactly the alert's events (p_alert_id:), over its event-time range (whole
    seconds, the end rounded up)."""
    return SearchState(
        q=f"{search.FIELD}:{alert.pk}",
        range=CUSTOM_RANGE,
        start=alert.first_event_time.replace(microsecond=0),
        end=ceil_to_second(alert.last_event_time) + timedelta(seconds=1),
    ).querystring()


def _triage_context(alert: Alert, form: TriageForm | None = None, comment=None) -> dict:
    return {
        "triage_form": form
        or TriageForm(
            initial={
                "status": alert.status,
                "assignee": alert.assignee.get_username() if alert.assignee else "",
            }
        ),
        "comment_form": comment or CommentForm(),
    }


@require_POST
def alert_triage(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    form = TriageForm(request.POST)
    if form.is_valid():
        services.triage(
            alert,
            actor=request.user,
            status=form.cleaned_data["status"],
            assignee=form.cleaned_data["assignee"],
        )
        if not request.htmx:
            return redirect(alert)
        form = None
    context = {
        "alert": alert,
        "comments": alert.comments.select_related("author"),
        **_triage_context(alert, form),
    }
    status = 200 if form is None else 400
    return render(request, "detections/alert_detail.html#triage", context, status=status)


@require_POST
def alert_comment(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        services.comment(alert, form.cleaned_data["body"], actor=request.user)
        if not request.htmx:
            return redirect(alert)
        form = None
    context = {
        "alert": alert,
        "comments": alert.comments.select_related("author"),
        **_triage_context(alert, comment=form),
    }
    status = 200 if form is None else 400
    return render(request, "detections/alert_detail.html#triage", context, status=status)


# --- Detections --------------------------------------------------------------------------------
def _rule_rows() -> list[dict]:
    rules = ruleset.current()
    settings = {row.rule_id: row for row in RuleSetting.objects.all()}
    settings_now = ruleset.overrides()
    weeks = queries.rule_weeks()
    rows = []
    for rule in sorted(rules.rules(), key=lambda r: r.meta.rule_id):
        meta = rule.meta
        setting = settings.get(meta.rule_id)
        rows.append(
            {
                "rule": rule,
                "meta": meta,
                "enabled": settings_now.is_enabled(rule),
                "severity": (setting.severity if setting and setting.severity else "")
                or str(meta.severity).lower(),
                "overridden": bool(setting and setting.severity),
                "mitre": mitre(meta),
                "week": weeks.get(meta.rule_id, queries.RuleWeek()),
            }
        )
    return rows


def mitre(meta) -> list[str]:
    reports = meta.reports or {}
    return [str(v) for key, values in reports.items() if "MITRE" in key for v in values or []]


@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = ruleset.current()
    context = {
        "rows": _rule_rows(),
        "problems": list(rules.problems),
        "can_manage": can_manage_sources(request.user),
        "severities": RuleSettingForm.base_fields["severity"].choices,
    }
    return render(request, "detections/rule_list.html", context)


def _rule_or_404(rule_id: str):
    rule = ruleset.find(ruleset.current(), rule_id)
    if rule is None:
        raise Http404("No such rule.")
    return rule


@require_GET
def rule_detail(request: HttpRequest, rule_id: str) -> HttpResponse:
    return _rule_page(request, _rule_or_404(rule_id))


def _rule_page(request: HttpRequest, rule, run_form: RunForm | None = None) -> HttpResponse:
    rule_id = rule.meta.rule_id
    row = next(r for r in _rule_rows() if r["meta"].rule_id == rule_id)
    runs = RuleRun.objects.filter(rule_id=rule_id)
    context = {
        **row,
        "row": row,
        "errors": RuleError.objects.filter(rule_id=rule_id)[:50],
        "tests_run": runs.filter(kind=RuleRun.Kind.TESTS).first(),
        "events_run": runs.filter(kind=RuleRun.Kind.EVENTS).first(),
        "run_form": run_form or RunForm(initial={"kind": RuleRun.Kind.EVENTS}),
        "can_manage": can_manage_sources(request.user),
        "severities": RuleSettingForm.base_fields["severity"].choices,
        "recent_alerts": Alert.objects.filter(rule_id=rule_id)[:10],
    }
    status = 400 if run_form is not None and run_form.errors else 200
    return render(request, "detections/rule_detail.html", context, status=status)


@require_POST
def rule_change(request: HttpRequest, rule_id: str) -> HttpResponse:
    if not can_manage_sources(request.user):
        raise PermissionDenied("Only admins can change rules.")
    rule = _rule_or_404(rule_id)
    form = RuleSettingForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    else:
        values = {}
        if "enabled" in request.POST:
            values["enabled"] = form.cleaned_data["enabled"]
        if "severity" in request.POST:
            values["severity"] = form.cleaned_data["severity"]
        if services.change_rule(rule.meta.rule_id, actor=request.user, **values):
            messages.success(request, f"{rule.meta.rule_id} changed.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("detections:rule", args=[rule.meta.rule_id])
    return redirect(back)


@require_POST
def rule_run(request: HttpRequest, rule_id: str) -> HttpResponse:
    """Queue the rule's tests or a run over stored events; the rule page shows its progress."""
    rule = _rule_or_404(rule_id)
    form = RunForm(request.POST)
    if not form.is_valid():
        return _rule_page(request, rule, form)
    data = form.cleaned_data
    events = data["kind"] == RuleRun.Kind.EVENTS
    run = RuleRun.objects.create(
        rule_id=rule.meta.rule_id,
        kind=data["kind"],
        start=data["start"] if events else None,
        end=data["end"] if events else None,
        created_by=request.user,
    )
    transaction.on_commit(lambda: run_rule.delay(run.pk))
    return redirect(reverse("detections:rule", args=[rule.meta.rule_id]) + f"#run-{run.kind}")


@require_GET
def rule_run_status(request: HttpRequest, rule_id: str, pk: int) -> HttpResponse:
    run = get_object_or_404(RuleRun, pk=pk, rule_id=rule_id)
    return render(request, "detections/partials/run.html", {"run": run})
