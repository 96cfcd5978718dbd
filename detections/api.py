"""/api/v1/alerts and /api/v1/rules: alerts to read and triage (every signed-in role), rules to
read, and for admins to turn on or off and override their severity.

Filters are the Alerts page's (detections.filters.AlertFilter); a bad value answers 422 with the
message on its field, as the sources API does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.http import HttpRequest, QueryDict
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError, ValidationError

from audit.responses import MAX_ID, Body, errors, object_id
from detections import queries, ruleset, services
from detections.filters import AlertFilter
from detections.models import Alert, RuleSetting
from detections.views import mitre
from events.presenters import event_dict
from events.search import MAX_PAGE_SIZE, PAGE_SIZE, page
from sources.permissions import can_manage_sources

alerts_router = Router(tags=["alerts"])
rules_router = Router(tags=["rules"])

SeverityName = Literal["info", "low", "medium", "high", "critical"]
StatusName = Literal["open", "triaged", "resolved", "closed"]


def _invalid(field: str, message: str, where: str = "query") -> ValidationError:
    return ValidationError([{"loc": [where, field], "msg": message, "type": "value_error"}])


# --- Alerts -----------------------------------------------------------------------------------
class AlertQuery(Schema):
    status: Literal["", "open", "triaged", "resolved", "closed"] = ""
    severity: Literal["", "info", "low", "medium", "high", "critical"] = ""
    rule_id: str = Field("", description="e.g. Teleport.RootLogin")
    source: int | None = Field(
        None, ge=1, le=MAX_ID, description="A log source's id: alerts holding its events"
    )
    start: str = Field("", description="ISO 8601: alerts with events at or after this time")
    end: str = Field("", description="ISO 8601: alerts with events before this time")
    limit: int = Field(queries.PAGE_SIZE, ge=1, le=queries.MAX_PAGE_SIZE)
    cursor: str = Field("", description="`next` from the previous page")


class AlertOut(Schema):
    id: int
    rule_id: str
    title: str
    severity: SeverityName
    status: StatusName
    assignee: str | None
    event_count: int
    first_event_time: datetime
    last_event_time: datetime
    dedup: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_assignee(alert: Alert) -> str | None:
        return alert.assignee.get_username() if alert.assignee_id else None


class AlertDetailOut(AlertOut):
    log_type: str
    alert_context: dict[str, Any]
    runbook: str
    reference: str
    destinations: list[Any]
    comments: list[dict[str, Any]]

    @staticmethod
    def resolve_comments(alert: Alert) -> list[dict[str, Any]]:
        return [
            {
                "author": c.author.get_username() if c.author_id else None,
                "body": c.body,
                "created_at": c.created_at,
            }
            for c in alert.comments.select_related("author")
        ]


class AlertPage(Schema):
    count: int = Field(description="Alerts matching the filters")
    results: list[AlertOut]
    next: str | None = Field(description="Cursor of the next page; null on the last page")


class AlertPatch(Body):
    status: StatusName | None = None
    assignee: str | None = Field(
        None, description="A username; an empty string unassigns. Omit to leave it."
    )


class EventsQuery(Schema):
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str = ""


class EventPage(Schema):
    count: int
    results: list[dict[str, Any]]
    next: str | None


@alerts_router.get(
    "", response={200: AlertPage, **errors(422)}, summary="Alerts, newest first (cursor pages)"
)
def list_alerts(request: HttpRequest, filters: Query[AlertQuery]):
    params = QueryDict(mutable=True)
    for key in ("status", "severity", "rule_id", "source", "start", "end"):
        value = getattr(filters, key)
        if value not in (None, ""):
            params[key] = str(value)
    filterset = AlertFilter(params, queryset=Alert.objects.select_related("assignee"))
    if not filterset.is_valid():
        raise ValidationError(
            [
                {"loc": ["query", name], "msg": " ".join(errors), "type": "value_error"}
                for name, errors in filterset.form.errors.items()
            ]
        )
    alerts = filterset.qs
    try:
        rows, next_cursor = queries.alert_page(alerts, filters.cursor, filters.limit)
    except queries.CursorError as error:
        raise _invalid("cursor", str(error)) from None
    return {"count": alerts.count(), "results": rows, "next": next_cursor or None}


@alerts_router.get(
    "/{alert_id}", response={200: AlertDetailOut, **errors(404, 422)}, summary="One alert"
)
def get_alert(request: HttpRequest, alert_id: int):
    return get_object_or_404(Alert.objects.select_related("assignee"), pk=object_id(alert_id))


@alerts_router.patch(
    "/{alert_id}",
    response={200: AlertDetailOut, **errors(400, 404, 422)},
    summary="Triage an alert",
)
def patch_alert(request: HttpRequest, alert_id: int, payload: AlertPatch):
    alert = get_object_or_404(Alert.objects.select_related("assignee"), pk=object_id(alert_id))
    sent = payload.model_dump(exclude_unset=True)
    values: dict[str, Any] = {}
    if sent.get("status") is not None:
        values["status"] = sent["status"]
    if "assignee" in sent:
        name = sent["assignee"] or ""
        if name:
            user = get_user_model().objects.filter(username=name, is_active=True).first()
            if user is None:
                raise _invalid("assignee", f"No active user is called {name!r}.", "body")
            values["assignee"] = user
        else:
            values["assignee"] = None
    services.triage(alert, actor=request.user, **values)
    return alert


@alerts_router.get(
    "/{alert_id}/events",
    response={200: EventPage, **errors(404, 422)},
    summary="The alert's events, newest first",
)
def alert_events(request: HttpRequest, alert_id: int, filters: Query[EventsQuery]):
    alert = get_object_or_404(Alert, pk=object_id(alert_id))
    events = queries.alert_events(alert)
    try:
        rows, next_cursor = page(events, filters.cursor, filters.limit)
    except ValueError:
        raise _invalid("cursor", "not a cursor this API gave out") from None
    return {
        "count": events.order_by().count(),
        "results": [event_dict(event) for event in rows],
        "next": next_cursor or None,
    }


# --- Rules ------------------------------------------------------------------------------------
class RuleOut(Schema):
    rule_id: str
    display_name: str
    enabled: bool
    severity: SeverityName
    default_severity: SeverityName
    log_types: list[str]
    threshold: int
    dedup_minutes: int
    tags: list[str]
    mitre: list[str]
    description: str
    runbook: str
    reference: str
    tests: int
    matches_7d: int
    alerts_7d: int
    errors: int


class RulePatch(Body):
    enabled: bool | None = None
    severity: SeverityName | Literal[""] | None = Field(
        None, description="Override; an empty string goes back to the rule's own severity"
    )


def _rule_out(rule, now: ruleset.Overrides, setting: RuleSetting | None, week) -> dict:
    meta = rule.meta
    default = str(meta.severity).lower()
    return {
        "rule_id": meta.rule_id,
        "display_name": meta.display_name or meta.rule_id,
        "enabled": now.is_enabled(rule),
        "severity": (setting.severity if setting and setting.severity else default),
        "default_severity": default,
        "log_types": list(meta.log_types),
        "threshold": meta.threshold,
        "dedup_minutes": meta.dedup_minutes,
        "tags": list(meta.tags or []),
        "mitre": mitre(meta),
        "description": meta.description or "",
        "runbook": meta.runbook or "",
        "reference": meta.reference or "",
        "tests": len(meta.tests or []),
        "matches_7d": week.matches,
        "alerts_7d": week.alerts,
        "errors": week.errors,
    }


def _rules_out(only: str | None = None) -> list[dict]:
    rules = ruleset.current()
    now = ruleset.overrides()
    settings = {row.rule_id: row for row in RuleSetting.objects.all()}
    weeks = queries.rule_weeks()
    return [
        _rule_out(
            rule,
            now,
            settings.get(rule.meta.rule_id),
            weeks.get(rule.meta.rule_id, queries.RuleWeek()),
        )
        for rule in sorted(rules.rules(), key=lambda r: r.meta.rule_id)
        if only is None or rule.meta.rule_id == only
    ]


@rules_router.get("", response={200: list[RuleOut], **errors()}, summary="Every loaded rule")
def list_rules(request: HttpRequest):
    return _rules_out()


def _one(rule_id: str) -> dict:
    found = _rules_out(rule_id)
    if not found:
        raise HttpError(404, f"No rule {rule_id!r}.")
    return found[0]


@rules_router.get("/{rule_id}", response={200: RuleOut, **errors(404, 422)}, summary="One rule")
def get_rule(request: HttpRequest, rule_id: str):
    return _one(rule_id)


@rules_router.patch(
    "/{rule_id}",
    response={200: RuleOut, **errors(400, 403, 404, 422)},
    summary="Turn a rule on or off, override its severity (admins)",
)
def patch_rule(request: HttpRequest, rule_id: str, payload: RulePatch):
    if not can_manage_sources(request.user):
        raise HttpError(403, "Only admins can change rules.")
    _one(rule_id)
    sent = payload.model_dump(exclude_unset=True)
    values: dict[str, Any] = {}
    if "enabled" in sent:
        values["enabled"] = sent["enabled"]
    if "severity" in sent:
        values["severity"] = sent["severity"] or ""
    services.change_rule(rule_id, actor=request.user, **values)
    return _one(rule_id)
