"""What the pages and the API read: alert pages (keyset cursors), an alert's events and
sessions, counts by severity, and each rule's last 7 days."""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone

from detections.models import Alert, Match, RuleError, Severity
from events.models import Event
from events.presenters import TimelineEntry, timeline_entries

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
SESSIONS_SHOWN = 3
SESSION_EVENTS = 200


class CursorError(ValueError):
    pass


def encode_cursor(when: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, pk = text.split("|")
        return datetime.fromisoformat(when), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise CursorError("not a cursor this API gave out") from exc


def alert_page(
    alerts: QuerySet[Alert], cursor: str = "", size: int = PAGE_SIZE
) -> tuple[list[Alert], str]:
    """Newest first (created_at, id); raises CursorError for a cursor we did not make."""
    alerts = alerts.order_by("-created_at", "-id")
    if cursor:
        when, pk = decode_cursor(cursor)
        alerts = alerts.filter(created_at__lte=when).exclude(created_at=when, id__gte=pk)
    rows = list(alerts[: size + 1])
    if len(rows) > size:
        last = rows[size - 1]
        return rows[:size], encode_cursor(last.created_at, last.pk)
    return rows, ""


def alert_events(alert: Alert) -> QuerySet[Event]:
    """The alert's events, newest first (keyset pages with events.search.page)."""
    row_ids = Match.objects.filter(alert=alert).values("p_row_id")
    return Event.objects.filter(
        p_row_id__in=row_ids,
        p_event_time__gte=alert.first_event_time,
        p_event_time__lte=alert.last_event_time,
    ).order_by("-p_event_time", "-id")


def counts_by_severity(alerts: QuerySet[Alert]) -> list[tuple[str, str, int]]:
    """(value, label, count) for every severity, highest first."""
    counts = dict(alerts.order_by().values_list("severity").annotate(n=Count("id")))
    return [(value, label, counts.get(value, 0)) for value, label in reversed(Severity.choices)]


@dataclass(frozen=True)
class Session:
    sid: str
    entries: list[TimelineEntry]
    truncated: bool


def sessions(events: list[Event]) -> list[Session]:
    """The session timelines of the first few `sid`s among an alert's events."""
    sids: list[str] = []
    for event in events:
        sid = event.fields.get("sid")
        if isinstance(sid, str) and sid and "/" not in sid and sid not in sids:
            sids.append(sid)
    found = []
    for sid in sids[:SESSIONS_SHOWN]:
        rows = list(
            Event.objects.filter(fields__sid=sid).order_by("p_event_time", "id")[
                : SESSION_EVENTS + 1
            ]
        )
        found.append(
            Session(sid, timeline_entries(rows[:SESSION_EVENTS]), len(rows) > SESSION_EVENTS)
        )
    return found


@dataclass
class RuleWeek:
    matches: int = 0
    alerts: int = 0
    errors: int = 0


def rule_weeks() -> dict[str, RuleWeek]:
    """Matches and alerts of the last 7 days (by when they were found), errors ever, per rule."""
    since = timezone.now() - timedelta(days=7)
    weeks: dict[str, RuleWeek] = {}
    matches = Counter(
        dict(
            Match.objects.filter(created_at__gte=since)
            .order_by()
            .values_list("rule_id")
            .annotate(n=Count("id"))
        )
    )
    alerts = dict(
        Alert.objects.filter(created_at__gte=since)
        .order_by()
        .values_list("rule_id")
        .annotate(n=Count("id"))
    )
    errors = dict(RuleError.objects.order_by().values_list("rule_id").annotate(n=Count("id")))
    for rule_id in {*matches, *alerts, *errors}:
        weeks[rule_id] = RuleWeek(matches[rule_id], alerts.get(rule_id, 0), errors.get(rule_id, 0))
    return weeks
