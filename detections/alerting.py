"""Grouping matches into alerts, Panther's semantics on event time.

Matches of one rule with one dedup string form a group. Sorted by (p_event_time, p_row_id), the
group is cut into windows: a window opens at its first match and holds every match within
DedupPeriodMinutes of it; the next match after that opens the next window. A window holding at
least Threshold matches is an alert holding all of them. The windows are a function of the
group's set of matches only, so the result does not depend on how objects were split or in which
order they were read.

New matches re-cut their group from the last window that opens at or before the earliest of them
(windows before it cannot change), under a lock on the group: on PostgreSQL a transaction-level
advisory lock per group, taken in a fixed order; SQLite runs one writing transaction at a time.
An alert keeps its identity (status, assignee, comments) when its window is re-cut: each window
takes the oldest alert already holding one of its matches. An alert left with no match (a late,
earlier match moved the window boundaries so its matches joined another alert) is deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Max

from detections.models import SEVERITY_RANK, Alert, Match
from detections.ruleset import find

DEFAULT_THRESHOLD = 1
DEFAULT_DEDUP_MINUTES = 60
_LOCK_CLASS = 7013  # advisory lock namespace of alert groups (two-int form)


def group(fresh: list[Match], rules) -> int:
    """Fold newly stored matches into their groups' windows; returns alerts created or changed."""
    by_group: dict[str, list[Match]] = defaultdict(list)
    for match in fresh:
        by_group[match.dedup_key].append(match)
    changed = 0
    for key in sorted(by_group):
        _lock(key)
        matches = by_group[key]
        threshold, period = _limits(rules, matches[0].rule_id)
        earliest = min(m.p_event_time for m in matches)
        changed += recut(key, earliest, threshold=threshold, period=period)
    return changed


def _limits(rules, rule_id: str) -> tuple[int, timedelta]:
    rule = find(rules, rule_id)
    meta = rule.meta if rule is not None else None
    if meta is None:  # a rule removed since the match
        return DEFAULT_THRESHOLD, timedelta(minutes=DEFAULT_DEDUP_MINUTES)
    threshold = max(1, int(meta.threshold or DEFAULT_THRESHOLD))
    minutes = max(1, int(meta.dedup_minutes or DEFAULT_DEDUP_MINUTES))
    return threshold, timedelta(minutes=minutes)


def _lock(key: str) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [_LOCK_CLASS, int.from_bytes(bytes.fromhex(key[:8]), "big", signed=True)],
        )


def windows(matches: Iterable[Match], period: timedelta) -> list[tuple[datetime, list[Match]]]:
    """(window start, its matches) of matches sorted by (p_event_time, p_row_id)."""
    cut: list[tuple[datetime, list[Match]]] = []
    for match in matches:
        if not cut or match.p_event_time >= cut[-1][0] + period:
            cut.append((match.p_event_time, []))
        cut[-1][1].append(match)
    return cut


def recut(key: str, earliest: datetime, *, threshold: int, period: timedelta) -> int:
    """Re-cut group `key` from the last window opening at or before `earliest`."""
    settled = Match.objects.filter(dedup_key=key, window_start__isnull=False)
    since = settled.filter(window_start__lte=earliest).aggregate(at=Max("window_start"))["at"]
    members = Match.objects.filter(dedup_key=key).order_by("p_event_time", "p_row_id")
    alerts = Alert.objects.filter(dedup_key=key)
    if since is not None:
        members = members.filter(p_event_time__gte=since)
        alerts = alerts.filter(first_event_time__gte=since)
    members = list(members)
    before = {m.pk: (m.window_start, m.alert_id) for m in members}
    existing = {alert.pk: alert for alert in alerts}
    existing.update(
        (alert.pk, alert)
        for alert in Alert.objects.filter(pk__in={m.alert_id for m in members if m.alert_id})
    )
    used: set[int] = set()
    changed = 0
    for start, held in windows(members, period):
        alert = None
        if len(held) >= threshold:
            alert = _alert_for(held, existing, used)
            changed += _fill(alert, held)
            used.add(alert.pk)
        for match in held:
            match.window_start = start
            match.alert_id = alert.pk if alert else None
    moved = [m for m in members if before[m.pk] != (m.window_start, m.alert_id)]
    Match.objects.bulk_update(moved, ["window_start", "alert"], batch_size=1000)
    orphans = [pk for pk in existing if pk not in used]
    if orphans:
        Alert.objects.filter(pk__in=orphans).delete()
    return changed


def _alert_for(held: list[Match], existing: dict[int, Alert], used: set[int]) -> Alert:
    candidates = sorted({m.alert_id for m in held if m.alert_id and m.alert_id not in used})
    if candidates and candidates[0] in existing:
        return existing[candidates[0]]
    first = held[0]
    return Alert(rule_id=first.rule_id, dedup=first.dedup, dedup_key=first.dedup_key)


def _fill(alert: Alert, held: list[Match]) -> int:
    """Set the alert from its window's matches; saves and returns 1 when anything changed."""
    first = held[0]
    values = {
        "title": first.title,
        "severity": max((m.severity for m in held), key=SEVERITY_RANK.__getitem__),
        "log_type": first.p_log_type,
        "first_event_time": first.p_event_time,
        "last_event_time": held[-1].p_event_time,
        "event_count": len(held),
        "alert_context": first.alert_context,
        "runbook": first.runbook,
        "reference": first.reference,
        "destinations": first.destinations,
    }
    if alert.pk is not None and all(getattr(alert, k) == v for k, v in values.items()):
        return 0
    for name, value in values.items():
        setattr(alert, name, value)
    if alert.pk is None:
        alert.save()
    else:  # only what the window decides: a triage saved meanwhile keeps its status and assignee
        alert.save(update_fields=[*values, "updated_at"])
    return 1
