"""Grouping matches into alerts, Panther's semantics on event time.

Matches of one rule with one dedup string form a group. Sorted by (p_event_time, p_row_id), the
group is cut into windows: a window opens at its first match and holds every match within
DedupPeriodMinutes of it; the next match after that opens the next window. A window holding at
least Threshold matches is an alert holding all of them. The windows are a function of the
group's set of matches only, so the result does not depend on how objects were split or in which
order they were read.

Ingestion stores a batch's new matches ungrouped (window_start NULL) in the batch's transaction,
and groups them right after it commits, in a short transaction of its own (`group`), so the
groups' locks are never held while events are stored; a crash in between leaves them to the beat
sweep (`group_pending`), which does the same.

New matches re-cut their group from the last window that opens at or before the earliest of them
(windows before it cannot change), under a lock on the group: on PostgreSQL a transaction-level
advisory lock per group, taken in a fixed order; SQLite runs one writing transaction at a time.
An alert keeps its identity (status, assignee, comments) when its window is re-cut: each window
takes the oldest alert already holding one of its matches. An alert left with no match (a late,
earlier match moved the window boundaries so its matches joined another alert) is deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from detections import ruleset
from detections.models import SEVERITY_RANK, Alert, Match

DEFAULT_THRESHOLD = 1
DEFAULT_DEDUP_MINUTES = 60
_LOCK_CLASS = 7013  # advisory lock namespace of alert groups (two-int form)
_CHUNK = 200  # groups per query (SQLite's host-parameter limit)
_UPDATE_CHUNK = 5000  # rows per UPDATE ... FROM unnest(...) on PostgreSQL


def group(keys: Iterable[str]) -> int:
    """Fold the groups' ungrouped matches into windows and alerts, in a transaction of its own
    under the groups' locks (so two workers, or a worker and the sweep, take turns and the second
    finds nothing left); returns alerts created or changed."""
    keys = sorted(set(keys))
    if not keys:
        return 0
    with transaction.atomic():
        _lock(keys)
        fresh = [
            match
            for chunk in _chunks(keys)
            for match in Match.objects.filter(dedup_key__in=chunk, window_start__isnull=True)
        ]
        return _fold(fresh, ruleset.current()) if fresh else 0


def group_pending(limit: int = 1000) -> int:
    """Group what a crash between a batch's commit and its grouping left ungrouped (beat)."""
    keys = (
        Match.objects.filter(window_start__isnull=True)
        .values_list("dedup_key", flat=True)
        .distinct()
        .order_by("dedup_key")[:limit]
    )
    return group(list(keys))


def _fold(fresh: list[Match], rules) -> int:
    """Each stored, ungrouped match into its window, folded into its group's alerts.

    A handful of queries per batch whatever the number of groups: the groups' last windows, their
    alerts, the stored members of the groups that need a re-cut; then bulk inserts and updates.
    The common case, new matches falling after the start of a group's last window which is
    already an alert, only grows that alert (no member is read)."""
    by_group: dict[str, list[Match]] = defaultdict(list)
    for match in fresh:
        by_group[match.dedup_key].append(match)
    keys = sorted(by_group)
    earliest = {key: min(m.p_event_time for m in by_group[key]) for key in keys}
    since = _since(keys, earliest)
    alerts = _alerts(since)
    plan = Plan(fresh)
    limits = {key: _limits(rules, by_group[key][0].rule_id) for key in keys}
    recut = {
        key: at
        for key, at in since.items()
        if not _grow(by_group[key], at, limits[key][1], alerts, plan)
    }
    members = _members(recut)
    _held_alerts(members, alerts)
    for key in sorted(recut):
        threshold, period = limits[key]
        group = sorted([*members.get(key, []), *by_group[key]], key=_order)
        _recut(group, alerts, plan, threshold=threshold, period=period)
    return plan.apply(alerts)


def _grow(
    new: list[Match], at: datetime | None, period: timedelta, alerts: dict[int, Alert], plan: Plan
) -> bool:
    """New matches all after the start of the group's last window, which is an alert: they join
    it. False when the group needs a re-cut instead."""
    if at is None:
        return False
    key = new[0].dedup_key
    held = [a for a in alerts.values() if a.dedup_key == key]
    if len(held) != 1 or held[0].first_event_time != at:
        return False
    if not all(at < m.p_event_time < at + period for m in new):
        return False
    alert = held[0]
    alert.event_count += len(new)
    alert.last_event_time = max(alert.last_event_time, *(m.p_event_time for m in new))
    alert.severity = max(
        (alert.severity, *(m.severity for m in new)), key=SEVERITY_RANK.__getitem__
    )
    alert.updated_at = timezone.now()
    plan.used.add(alert.pk)
    plan.changed.append(alert)
    for match in new:
        match.window_start, match.alert_id = at, alert.pk
    return True


def _order(match: Match) -> tuple:
    return (match.p_event_time, match.p_row_id)


def _limits(rules, rule_id: str) -> tuple[int, timedelta]:
    rule = ruleset.find(rules, rule_id)
    meta = rule.meta if rule is not None else None
    if meta is None:  # a rule removed since the match
        return DEFAULT_THRESHOLD, timedelta(minutes=DEFAULT_DEDUP_MINUTES)
    threshold = max(1, int(meta.threshold or DEFAULT_THRESHOLD))
    minutes = max(1, int(meta.dedup_minutes or DEFAULT_DEDUP_MINUTES))
    return threshold, timedelta(minutes=minutes)


def _lock(keys: list[str]) -> None:
    """Transaction-level advisory locks on the groups, in one statement taking them in
    ascending order (so two workers never wait on each other crosswise); SQLite needs none."""
    if connection.vendor != "postgresql":
        return
    ids = sorted({int.from_bytes(bytes.fromhex(key[:8]), "big", signed=True) for key in keys})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM unnest(%s::int[]) AS k",
            [_LOCK_CLASS, ids],
        )


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _since(keys: list[str], earliest: dict[str, datetime]) -> dict[str, datetime | None]:
    """Per group, the start of the last window opening at or before its earliest new match
    (None: re-cut the whole group), for every group in one query per chunk. That window's first
    match opened it, so only matches up to the earliest new one are read."""
    since: dict[str, datetime | None] = dict.fromkeys(keys)
    table = Match._meta.db_table
    for chunk in _chunks(keys):
        head, params = _since_rows(earliest, chunk)
        with connection.cursor() as cursor:
            cursor.execute(
                f"{head} SELECT s.k, max(m.window_start) FROM s JOIN {table} m "  # noqa: S608
                "ON m.dedup_key = s.k AND m.p_event_time <= s.t AND m.window_start <= s.t "
                "GROUP BY s.k",
                params,
            )
            rows = cursor.fetchall()
        for key, at in rows:
            since[key] = _as_datetime(at)
    return since


def _as_datetime(value) -> datetime | None:
    """A timestamp from a raw query (SQLite gives text)."""
    if value is None or isinstance(value, datetime):
        return value
    return Match._meta.get_field("window_start").to_python(value)


def _since_rows(since: Mapping[str, datetime | None], keys: list[str]) -> tuple[str, list]:
    """An inline table s(k, t) of groups and their re-cut points, for the raw queries below."""
    cast = "::timestamptz" if connection.vendor == "postgresql" else ""
    adapt = connection.ops.adapt_datetimefield_value
    rows = ", ".join(f"(%s, %s{cast})" for _ in keys)
    params = [value for key in keys for value in (key, adapt(since[key]))]
    return f"WITH s(k, t) AS (VALUES {rows})", params


def _members(since: dict[str, datetime | None]) -> dict[str, list[Match]]:
    """Each group's stored matches from its re-cut point."""
    found: dict[str, list[Match]] = defaultdict(list)
    table = Match._meta.db_table
    for chunk in _chunks(sorted(since)):
        head, params = _since_rows(since, chunk)
        rows = Match.objects.raw(
            f"{head} SELECT m.* FROM {table} m JOIN s ON m.dedup_key = s.k "  # noqa: S608
            "WHERE m.window_start IS NOT NULL AND (s.t IS NULL OR m.p_event_time >= s.t)",
            params,
        )
        for match in rows:
            found[match.dedup_key].append(match)
    return found


def _alerts(since: dict[str, datetime | None]) -> dict[int, Alert]:
    """The groups' alerts from their re-cut points: what the re-cut may keep, change or delete."""
    found: dict[int, Alert] = {}
    table = Alert._meta.db_table
    for chunk in _chunks(sorted(since)):
        head, params = _since_rows(since, chunk)
        rows = Alert.objects.raw(
            f"{head} SELECT a.* FROM {table} a JOIN s ON a.dedup_key = s.k "  # noqa: S608
            "WHERE s.t IS NULL OR a.first_event_time >= s.t",
            params,
        )
        found.update((a.pk, a) for a in rows)
    return found


def _held_alerts(members: dict[str, list[Match]], found: dict[int, Alert]) -> None:
    """Add the alerts the re-cut members still point at (a window that opened earlier)."""
    held = sorted({m.alert_id for ms in members.values() for m in ms if m.alert_id} - set(found))
    for chunk in _chunks(held):
        found.update((a.pk, a) for a in Alert.objects.filter(pk__in=chunk))


def windows(matches: Iterable[Match], period: timedelta) -> list[tuple[datetime, list[Match]]]:
    """(window start, its matches) of matches sorted by (p_event_time, p_row_id)."""
    cut: list[tuple[datetime, list[Match]]] = []
    for match in matches:
        if not cut or match.p_event_time >= cut[-1][0] + period:
            cut.append((match.p_event_time, []))
        cut[-1][1].append(match)
    return cut


class Plan:
    """What a batch's re-cuts change, written in bulk by apply()."""

    def __init__(self, fresh: list[Match]) -> None:
        self.fresh = fresh  # new matches: given their window and alert
        self.used: set[int] = set()  # existing alerts kept
        self.changed: list[Alert] = []  # existing alerts whose fields change
        self.created: list[tuple[Alert, list[Match]]] = []
        self.moved: list[Match] = []  # stored matches whose window or alert changes

    def apply(self, candidates: dict[int, Alert]) -> int:
        if self.created:
            Alert.objects.bulk_create([alert for alert, _ in self.created])
            for alert, held in self.created:
                for match in held:
                    match.alert_id = alert.pk
        _update(Match, self.fresh, ["window_start", "alert_id"])
        _update(Alert, self.changed, [*WINDOW_FIELDS, "updated_at"])
        _update(Match, self.moved, ["window_start", "alert_id"])
        orphans = [pk for pk in candidates if pk not in self.used]
        for chunk in _chunks(orphans):
            Alert.objects.filter(pk__in=chunk).delete()
        return len(self.created) + len(self.changed)


def _update(model, rows: list, names: list[str]) -> None:
    """UPDATE each row's `names` by primary key. PostgreSQL: one UPDATE ... FROM unnest() of one
    array per column (a statement per row cost more than the rest of the grouping, and a VALUES
    list of thousands of placeholders is slow for the driver to parse; a bulk_update builds one
    CASE per field and row). Elsewhere an executemany."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in names]
    table = model._meta.db_table
    values = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            columns = ", ".join(f"{field.column} = %s" for field in fields)
            cursor.executemany(
                f"UPDATE {table} SET {columns} WHERE id = %s",  # noqa: S608 - our names
                [[*row_values, row.pk] for row_values, row in zip(values, rows, strict=True)],
            )
            return
        arrays = ", ".join(f"%s::{_array_type(field)}[]" for field in fields)
        names_sql = ", ".join(f"c{i}" for i in range(len(fields)))
        sets = ", ".join(f"{field.column} = v.c{i}" for i, field in enumerate(fields))
        for start in range(0, len(rows), _UPDATE_CHUNK):
            chunk = range(start, min(start + _UPDATE_CHUNK, len(rows)))
            columns = [[values[i][n] for i in chunk] for n in range(len(fields))]
            cursor.execute(
                f"UPDATE {table} SET {sets} "  # noqa: S608 - our names
                f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {names_sql}) "
                f"WHERE {table}.id = v.id",
                [[rows[i].pk for i in chunk], *columns],
            )


def _array_type(field) -> str:
    """The element type of a column's array parameter (varchar(n) travels as text)."""
    kind = field.db_type(connection)
    return "text" if kind.startswith("varchar") else kind


WINDOW_FIELDS = (
    "title",
    "severity",
    "log_type",
    "first_event_time",
    "last_event_time",
    "event_count",
    "alert_context",
    "runbook",
    "reference",
    "destinations",
)


def _recut(
    members: list[Match],
    alerts: dict[int, Alert],
    plan: Plan,
    *,
    threshold: int,
    period: timedelta,
) -> None:
    """Cut one group's members into windows and plan each window's alert (in memory)."""
    now = timezone.now()
    for start, held in windows(members, period):
        alert = None
        if len(held) >= threshold:
            values = _values(held)
            alert = _existing(held, alerts, plan.used)
            if alert is None:
                first = held[0]
                alert = Alert(
                    rule_id=first.rule_id, dedup=first.dedup, dedup_key=first.dedup_key, **values
                )
                plan.created.append((alert, held))
            else:
                plan.used.add(alert.pk)
                if any(getattr(alert, k) != v for k, v in values.items()):
                    for name, value in values.items():
                        setattr(alert, name, value)
                    alert.updated_at = now
                    plan.changed.append(alert)
        new_alert = alert is not None and alert.pk is None  # its id comes with the insert
        alert_id = alert.pk if alert is not None else None
        for match in held:
            if match.window_start is None:  # new: written with the batch's new matches
                match.window_start, match.alert_id = start, alert_id
            elif new_alert or (match.window_start, match.alert_id) != (start, alert_id):
                match.window_start, match.alert_id = start, alert_id
                plan.moved.append(match)


def _existing(held: list[Match], alerts: dict[int, Alert], used: set[int]) -> Alert | None:
    """The oldest alert already holding one of the window's matches and not taken yet."""
    candidates = sorted({m.alert_id for m in held if m.alert_id in alerts} - used)
    return alerts[candidates[0]] if candidates else None


def _values(held: list[Match]) -> dict:
    first = held[0]
    return {
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
