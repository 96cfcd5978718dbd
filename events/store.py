"""The one writer of events and failures.

PostgreSQL: make the day partitions the batch needs, lock the origin (source, object, version),
drop the row ids it already stored, and COPY the rest straight into the events table (see
_claim_origin). SQLite: look up which row ids exist (the write lock is held: transactions are
IMMEDIATE), then insert the rest (p_row_id is unique there).

Row ids are deterministic (source, object, version, line), so writing the same batch twice is
harmless: the second time every event counts as a duplicate.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC

from django.db import connection, transaction

from events.copyformat import EVENT_COLUMNS, copy_rows, dumps_json
from events.models import Event, EventOrigin, Failure, origin_key
from events.partitions import ensure_partitions
from parsers.indicators import indicator_entries
from parsers.parser import ParsedEvent, ParseFailure

_STAGE_TABLE = "sluice_event_stage"
_ORIGINS = EventOrigin._meta.db_table
_SQLITE_IN_CHUNK = 500  # below SQLite's host-parameter limit


@dataclass
class WriteResult:
    inserted: int = 0
    duplicates: int = 0
    failures: int = 0
    by_log_type: Counter = field(default_factory=Counter)  # inserted events per log type

    def __iadd__(self, other: WriteResult) -> WriteResult:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.failures += other.failures
        self.by_log_type.update(other.by_log_type)
        return self


def write_batch(
    events: Iterable[ParsedEvent],
    failures: Iterable[ParseFailure],
    *,
    source_id: int | None,
    object_key: str,
    object_version: str,
    log_types: Sequence[str] = (),
) -> WriteResult:
    """Store events and failures of one object in one transaction; idempotent by row id.

    `failures` counts newly stored failures (a failure already stored for the same line is skipped).
    """
    events = list(events)
    failures = list(failures)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            result = _copy_events_postgresql(events, source_id, object_key, object_version)
        else:
            result = _insert_events_generic(events, source_id, object_key, object_version)
        result.failures = _insert_failures(
            failures, source_id, list(log_types), object_key, object_version
        )
    return result


# --- events -----------------------------------------------------------------------------------
def _copy_events_postgresql(
    events: list[ParsedEvent], source_id: int | None, object_key: str, object_version: str
) -> WriteResult:
    if not events:
        return WriteResult()
    ensure_partitions(event.event_time for event in events)
    stored = _claim_origin(events, source_id, object_key, object_version)
    fresh: dict[str, ParsedEvent] = {}
    for event in events:
        if event.row_id not in stored:
            fresh.setdefault(event.row_id, event)
    if not fresh:
        return WriteResult(0, len(events), 0, Counter())
    columns = ", ".join(EVENT_COLUMNS)
    table = Event._meta.db_table
    data = copy_rows(list(fresh.values()), source_id, object_key, object_version)
    if _copied_straight_in(data, table, columns):
        by_log_type = Counter(event.log_type for event in fresh.values())
    else:
        by_log_type = _merged_in(data, table, columns)
    inserted = sum(by_log_type.values())
    return WriteResult(inserted, len(events) - inserted, 0, by_log_type)


def _claim_origin(
    events: list[ParsedEvent], source_id: int | None, object_key: str, object_version: str
) -> set[str]:
    """Lock the origin for this transaction (concurrent writers of one object take turns), widen
    its stored time range to this batch, and return the batch's row ids already stored.

    The events table is unique on (p_row_id, p_event_time) only, and the same line can come back
    with another time (no timestamp field: the time is the parse time; or the schema changed), so
    row ids are looked up within the time range this origin has written, which prunes the
    partitions searched; a new origin needs no lookup at all."""
    key = origin_key(source_id, object_key, object_version)
    times = [event.event_time for event in events]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(key)])
        cursor.execute(
            f"SELECT first_time, last_time FROM {_ORIGINS} WHERE key = %s",  # noqa: S608 - constant
            [key],
        )
        previous = cursor.fetchone()
        cursor.execute(
            f"INSERT INTO {_ORIGINS} AS o (key, first_time, last_time) VALUES (%s, %s, %s) "  # noqa: S608
            "ON CONFLICT (key) DO UPDATE SET "
            "first_time = LEAST(o.first_time, EXCLUDED.first_time), "
            "last_time = GREATEST(o.last_time, EXCLUDED.last_time)",
            [key, min(times), max(times)],
        )
        if previous is None:
            return set()
        cursor.execute(
            f"SELECT p_row_id FROM {Event._meta.db_table} WHERE p_row_id = ANY(%s) "  # noqa: S608
            "AND p_event_time >= %s AND p_event_time <= %s",
            [[event.row_id for event in events], *previous],
        )
        return {row[0] for row in cursor.fetchall()}


def _lock_id(key: str) -> int:
    return int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)


def _copied_straight_in(data: bytes, table: str, columns: str) -> bool:
    """COPY the new rows straight into the events table. The origin lock and lookup make a
    conflict impossible unless EventOrigin lost track (a row written around it); then the
    savepoint rolls the COPY back and the caller merges instead."""
    with connection.cursor() as cursor:
        try:
            with (
                transaction.atomic(),
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                copy.write(data)
        except psycopg_unique_violation():
            return False
    return True


def _merged_in(data: bytes, table: str, columns: str) -> Counter:
    """COPY into a session temp table, then insert what is not stored yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_TABLE} ON COMMIT DELETE ROWS AS "  # noqa: S608 - constant names
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {_STAGE_TABLE}")
        with cursor.cursor.copy(f"COPY {_STAGE_TABLE} ({columns}) FROM STDIN") as copy:
            copy.write(data)
        cursor.execute(
            f"WITH inserted AS (INSERT INTO {table} ({columns}) "  # noqa: S608 - constant names
            f"SELECT DISTINCT ON (p_row_id) {columns} FROM {_STAGE_TABLE} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} e WHERE e.p_row_id = s.p_row_id) "
            "ON CONFLICT (p_row_id, p_event_time) DO NOTHING RETURNING p_log_type) "
            "SELECT p_log_type, count(*) FROM inserted GROUP BY p_log_type"
        )
        return Counter(dict(cursor.fetchall()))


def psycopg_unique_violation() -> type[Exception]:
    from psycopg.errors import UniqueViolation

    return UniqueViolation


def _existing_row_ids(row_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(row_ids), _SQLITE_IN_CHUNK):
        chunk = row_ids[start : start + _SQLITE_IN_CHUNK]
        found.update(Event.objects.filter(p_row_id__in=chunk).values_list("p_row_id", flat=True))
    return found


def _insert_events_generic(
    events: list[ParsedEvent], source_id: int | None, object_key: str, object_version: str
) -> WriteResult:
    if not events:
        return WriteResult()
    existing = _existing_row_ids([event.row_id for event in events])
    fresh: dict[str, ParsedEvent] = {}
    for event in events:
        if event.row_id not in existing:
            fresh.setdefault(event.row_id, event)
    rows = [_event_params(event, source_id, object_key, object_version) for event in fresh.values()]
    if rows:
        table = Event._meta.db_table
        placeholders = ", ".join(["%s"] * len(EVENT_COLUMNS))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(EVENT_COLUMNS)}) VALUES ({placeholders}) "  # noqa: S608
                "ON CONFLICT (p_row_id) DO NOTHING",
                rows,
            )
    by_log_type = Counter(event.log_type for event in fresh.values())
    return WriteResult(len(rows), len(events) - len(rows), 0, by_log_type)


def _event_params(
    event: ParsedEvent, source_id: int | None, object_key: str, object_version: str
) -> tuple:
    ops = connection.ops
    indicators = event.indicators
    return (
        event.row_id,
        event.log_type,
        source_id,
        ops.adapt_datetimefield_value(event.event_time.astimezone(UTC)),
        ops.adapt_datetimefield_value(event.parse_time.astimezone(UTC)),
        dumps_json(event.fields),
        dumps_json(event.extra or {}),
        object_key,
        object_version,
        event.line,
        json.dumps(indicator_entries(indicators) if indicators else []),
    )


# --- failures ---------------------------------------------------------------------------------
def _insert_failures(
    failures: list[ParseFailure],
    source_id: int | None,
    log_types: list[str],
    object_key: str,
    object_version: str,
) -> int:
    """Insert failures not stored yet; returns how many were new."""
    if not failures:
        return 0
    from django.utils import timezone

    now = timezone.now()
    objs = {
        failure.line: Failure(
            source_id=source_id,
            log_types=log_types,
            object_key=object_key,
            object_version=object_version,
            line=failure.line,
            offset=failure.offset,
            error=failure.error.replace("\x00", "\\x00"),  # PostgreSQL text holds no NUL
            raw=bytes(failure.raw),
            created_at=now,
        )
        for failure in failures
    }
    stored = _stored_failure_lines(source_id, object_key, object_version, min(objs), max(objs))
    fresh = [obj for line, obj in objs.items() if line not in stored]
    Failure.objects.bulk_create(fresh, batch_size=1000, ignore_conflicts=True)
    return len(fresh)


def _stored_failure_lines(
    source_id: int | None, object_key: str, object_version: str, first: int, last: int
) -> set[int]:
    return set(
        Failure.objects.filter(
            source_id=source_id,
            object_key=object_key,
            object_version=object_version,
            line__gte=first,
            line__lte=last,
        ).values_list("line", flat=True)
    )
