"""PostgreSQL time partitions of the events table: one per UTC day, and a DEFAULT partition.

`events_event` is PARTITIONED BY RANGE (p_event_time) (migration 0004). Day partitions
(`events_event_pYYYYMMDD`, [day, day + 1)) are made on demand by the writer and seed_events for the
days a batch needs, within the window that retention keeps plus tomorrow; an event outside it (a
wild timestamp: 1970, 2099) lands in `events_event_default`, so nothing is ever lost. Retention
drops whole day partitions (events.retention).

Why daily: 10M events over 30 days is about 330k rows a day, a comfortable partition, and retention
(in days) then deletes row by row at most one day of events (the boundary partition).

Creating a partition takes an ACCESS EXCLUSIVE lock on the parent until the creating transaction
ends; the daily beat task creates today's and tomorrow's ahead of time, so the writer rarely does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction

TABLE = "events_event"
DEFAULT_PARTITION = f"{TABLE}_default"
PREFIX = f"{TABLE}_p"
DAY = timedelta(days=1)
# pg_advisory_xact_lock(int4, int4) key (apart from the writer's one-bigint origin locks):
# serializes partition creation between concurrent writers.
_LOCK_KEY = (0x51CE, 1)


def partition_name(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + DAY


def creatable_days(times: Iterable[datetime], now: datetime | None = None) -> list[date]:
    """The UTC days of `times` that get their own partition: from the retention cutoff's day to
    tomorrow. Other times stay in the DEFAULT partition."""
    now = now or datetime.now(UTC)
    first = (now - settings.SLUICE_EVENT_RETENTION).astimezone(UTC).date()
    last = now.astimezone(UTC).date() + DAY
    days = {moment.astimezone(UTC).date() for moment in times}
    return sorted(day for day in days if first <= day <= last)


def days_between(start: datetime, end: datetime) -> list[datetime]:
    """One moment in each UTC day that [start, end] touches."""
    day, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    out = []
    while day <= last:
        out.append(day_bounds(day)[0])
        day += DAY
    return out


def ensure_partitions(times: Iterable[datetime], *, now: datetime | None = None) -> list[str]:
    """Create the day partitions that `times` need (in the caller's transaction, if any);
    returns the names created. A no-op except on PostgreSQL."""
    if connection.vendor != "postgresql":
        return []
    days = creatable_days(times, now)
    if not days:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        if not _missing(cursor, days):
            return []
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(_LOCK_KEY))
        created = []
        for day in _missing(cursor, days):  # again: another writer may have made them meanwhile
            create_day_partition(cursor, day)
            created.append(partition_name(day))
        return created


def _missing(cursor, days: list[date]) -> list[date]:
    # pg_class read with this statement's snapshot (to_regclass would consult the cache, which
    # may not show a partition another writer has just committed)
    names = [partition_name(day) for day in days]
    cursor.execute(
        "SELECT relname FROM pg_class WHERE relname = ANY(%s) "
        "AND relnamespace = current_schema()::regnamespace",
        [names],
    )
    present = {row[0] for row in cursor.fetchall()}
    return [day for day in days if partition_name(day) not in present]


def create_day_partition(cursor, day: date) -> None:
    """Create the partition of `day`. If the DEFAULT partition already holds rows of that day (they
    arrived when the day was outside the window, or before this ran), PostgreSQL refuses to create
    it; those rows are moved into the new table, which is then attached."""
    name = partition_name(day)
    start, end = day_bounds(day)
    bounds = f"FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    cursor.execute(
        f"SELECT 1 FROM {DEFAULT_PARTITION} WHERE p_event_time >= %s AND p_event_time < %s LIMIT 1",  # noqa: S608 - constant names
        [start, end],
    )
    if cursor.fetchone() is None:
        cursor.execute(f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES {bounds}")
        return
    # Moving rows between partitions directly fires none of the parent's statement triggers:
    # the per-minute counts stay as they are, which is right (the rows are the same).
    cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "  # noqa: S608 - constant names
        "WHERE p_event_time >= %s AND p_event_time < %s RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved",
        [start, end],
    )
    cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES {bounds}")


def day_partitions(cursor) -> list[tuple[str, date]]:
    """(name, day) of every day partition, oldest first."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass AND c.relname LIKE %s ORDER BY c.relname",
        [TABLE, f"{PREFIX}%"],
    )
    out = []
    for (name,) in cursor.fetchall():
        out.append(
            (name, datetime.strptime(name[len(PREFIX) :], "%Y%m%d").replace(tzinfo=UTC).date())
        )
    return out


def drop_partitions_before(cutoff: datetime) -> int:
    """Detach and drop every day partition wholly older than `cutoff`; returns the events they
    held. Dropping fires no delete trigger, so their per-minute counts go here too."""
    if connection.vendor != "postgresql":
        return 0
    dropped = 0
    with connection.cursor() as cursor:
        for name, day in day_partitions(cursor):
            start, end = day_bounds(day)
            if end > cutoff:
                break
            with transaction.atomic():
                cursor.execute(
                    "WITH gone AS (DELETE FROM events_eventminutecount "
                    "WHERE minute >= %s AND minute < %s RETURNING count) "
                    "SELECT COALESCE(sum(count), 0) FROM gone",
                    [start, end],
                )
                dropped += cursor.fetchone()[0]
                cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
                cursor.execute(f"DROP TABLE {name}")
    return dropped


# --- indexes ------------------------------------------------------------------------------------
def secondary_indexes(cursor) -> list[tuple[str, str]]:
    """(name, CREATE INDEX) of the table's indexes that no constraint owns (on the parent, so
    each builds on every partition): seed_events drops and rebuilds them around a bulk load."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.tablename = %s AND i.schemaname = current_schema() "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) "
        "ORDER BY i.indexname",
        [TABLE],
    )
    return [(name, sql.replace(" ON ONLY ", " ON ")) for name, sql in cursor.fetchall()]
