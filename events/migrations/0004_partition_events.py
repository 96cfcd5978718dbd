"""PostgreSQL: partition events_event by day of p_event_time (see events/partitions.py), and
record each origin's stored time range (EventOrigin) so the writer stays exactly-once without a
unique p_row_id. Works on a table that already holds events: they are moved, ids kept.

Self-contained: the SQL below is frozen as it was when this migration was written (it imports no
application code), so a later change to events/partitions.py or events/models.py cannot change
what this migration does.
"""

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import migrations, models

DAY = timedelta(days=1)

# events.models.origin_key() in SQL, as of this migration.
ORIGIN_KEY_SQL = (
    "md5(COALESCE(source_id, 0)::text || ':' || length(object_key)::text || ':' "
    "|| object_key || object_version)"
)
FILL_ORIGINS = (
    "INSERT INTO events_eventorigin (key, first_time, last_time) "
    f"SELECT {ORIGIN_KEY_SQL}, min(p_event_time), max(p_event_time) FROM events_event "
    "GROUP BY 1"
)
MINUTE_COUNT_TRIGGERS = """
CREATE TRIGGER events_minute_count_insert AFTER INSERT ON events_event
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION events_minute_count_add();
CREATE TRIGGER events_minute_count_delete AFTER DELETE ON events_event
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION events_minute_count_subtract();
CREATE TRIGGER events_minute_count_truncate AFTER TRUNCATE ON events_event
  FOR EACH STATEMENT EXECUTE FUNCTION events_minute_count_clear();
"""
DROP_MINUTE_COUNT_TRIGGERS = [
    "DROP TRIGGER IF EXISTS events_minute_count_insert ON events_event",
    "DROP TRIGGER IF EXISTS events_minute_count_delete ON events_event",
    "DROP TRIGGER IF EXISTS events_minute_count_truncate ON events_event",
]
SECONDARY_INDEXES = (
    "SELECT i.indexname, i.indexdef FROM pg_indexes i "
    "WHERE i.tablename = 'events_event' AND i.schemaname = current_schema() "
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) "
    "ORDER BY i.indexname"
)
KEYS = (
    "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = 'events_event'::regclass AND contype IN ('p', 'u', 'f') "
    "AND conparentid = 0"
)
OLD_COLUMNS = (
    "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
    "WHERE attrelid = 'events_event_old'::regclass AND attnum > 0 AND NOT attisdropped"
)
PARTITION = [
    "CREATE TABLE events_event (LIKE events_event_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
    "PARTITION BY RANGE (p_event_time)",
    # PostgreSQL 15 has no identity columns on partitioned tables: a sequence it owns instead.
    "CREATE SEQUENCE events_event_id_seq_new OWNED BY events_event.id",
    "ALTER TABLE events_event ALTER id SET DEFAULT nextval('events_event_id_seq_new')",
    "ALTER TABLE events_event ADD CONSTRAINT events_event_pkey PRIMARY KEY (id, p_event_time)",
    "ALTER TABLE events_event ADD CONSTRAINT events_event_row_id_time_key "
    "UNIQUE (p_row_id, p_event_time)",
    "CREATE TABLE events_event_default PARTITION OF events_event DEFAULT",
]
OLD_DAYS = "SELECT DISTINCT date_trunc('day', p_event_time AT TIME ZONE 'UTC') FROM events_event_old"
UNPARTITION = [
    "CREATE TABLE events_event (LIKE events_event_old INCLUDING CONSTRAINTS)",
    "ALTER TABLE events_event ADD CONSTRAINT events_event_pkey PRIMARY KEY (id)",
    "ALTER TABLE events_event ADD CONSTRAINT events_event_p_row_id_key UNIQUE (p_row_id)",
]


def _set_aside(cursor):
    """Rename events_event to events_event_old without its indexes, keys, foreign keys and
    triggers; returns (indexes, foreign keys) as (name, definition) to recreate."""
    cursor.execute(SECONDARY_INDEXES)
    indexes = [(name, sql.replace(" ON ONLY ", " ON ")) for name, sql in cursor.fetchall()]
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute(KEYS)
    keys = cursor.fetchall()
    for name, _, _ in keys:
        cursor.execute(f'ALTER TABLE events_event DROP CONSTRAINT "{name}"')
    for statement in DROP_MINUTE_COUNT_TRIGGERS:
        cursor.execute(statement)
    cursor.execute("ALTER TABLE events_event RENAME TO events_event_old")
    return indexes, [(name, sql) for name, kind, sql in keys if kind == "f"]


def _finish(cursor, indexes, foreign_keys):
    for name, sql in foreign_keys:
        cursor.execute(f'ALTER TABLE events_event ADD CONSTRAINT "{name}" {sql}')
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _, sql in indexes:
        cursor.execute(sql)
    cursor.execute(MINUTE_COUNT_TRIGGERS)


def _old_columns(cursor):
    cursor.execute(OLD_COLUMNS)
    return cursor.fetchone()[0]


def _create_day_partition(cursor, day):
    """The partition of one UTC day; rows of that day already in the DEFAULT partition move in."""
    name = f"events_event_p{day:%Y%m%d}"
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + DAY
    bounds = f"FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    cursor.execute(
        "SELECT 1 FROM events_event_default "
        "WHERE p_event_time >= %s AND p_event_time < %s LIMIT 1",
        [start, end],
    )
    if cursor.fetchone() is None:
        cursor.execute(f"CREATE TABLE {name} PARTITION OF events_event FOR VALUES {bounds}")
        return
    cursor.execute(
        f"CREATE TABLE {name} (LIKE events_event INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    cursor.execute(
        "WITH moved AS (DELETE FROM events_event_default "
        "WHERE p_event_time >= %s AND p_event_time < %s RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved",  # noqa: S608 - a name made from a date
        [start, end],
    )
    cursor.execute(f"ALTER TABLE events_event ATTACH PARTITION {name} FOR VALUES {bounds}")


def _creatable_days(days):
    """Days from the retention cutoff's to tomorrow get a partition; others stay in DEFAULT."""
    now = datetime.now(UTC)
    retention = getattr(settings, "SLUICE_EVENT_RETENTION", timedelta(days=90))
    first = (now - retention).date()
    last = now.date() + DAY
    return sorted(day for day in set(days) if first <= day <= last)


def partition_table(cursor):
    """events_event becomes partitioned by day, keeping its rows, ids, indexes, foreign keys and
    triggers. Keys become (id, p_event_time) and (p_row_id, p_event_time): a partitioned table's
    unique keys must hold the partition key."""
    indexes, foreign_keys = _set_aside(cursor)
    for statement in PARTITION:
        cursor.execute(statement)
    cursor.execute(OLD_DAYS)
    for day in _creatable_days(row[0].replace(tzinfo=UTC).date() for row in cursor.fetchall()):
        _create_day_partition(cursor, day)
    columns = _old_columns(cursor)
    cursor.execute(f"INSERT INTO events_event ({columns}) SELECT {columns} FROM events_event_old")  # noqa: S608
    cursor.execute(
        "SELECT setval('events_event_id_seq_new', COALESCE(max(id), 0) + 1, false) "
        "FROM events_event_old"
    )
    cursor.execute("DROP TABLE events_event_old")
    cursor.execute("ALTER SEQUENCE events_event_id_seq_new RENAME TO events_event_id_seq")
    _finish(cursor, indexes, foreign_keys)


def unpartition_table(cursor):
    """The reverse: one plain table, unique p_row_id, identity id."""
    indexes, foreign_keys = _set_aside(cursor)
    for statement in UNPARTITION:
        cursor.execute(statement)
    columns = _old_columns(cursor)
    cursor.execute(f"INSERT INTO events_event ({columns}) SELECT {columns} FROM events_event_old")  # noqa: S608
    cursor.execute("SELECT COALESCE(max(id), 0) + 1 FROM events_event_old")
    start = cursor.fetchone()[0]
    cursor.execute("DROP TABLE events_event_old CASCADE")  # its partitions and sequence
    cursor.execute(
        "ALTER TABLE events_event ALTER id ADD GENERATED BY DEFAULT AS IDENTITY "
        f"(START WITH {int(start)})"
    )
    _finish(cursor, indexes, foreign_keys)


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partition_table(cursor)
        cursor.execute(FILL_ORIGINS)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        unpartition_table(cursor)


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0003_minute_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventOrigin",
            fields=[
                ("key", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("first_time", models.DateTimeField()),
                ("last_time", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
