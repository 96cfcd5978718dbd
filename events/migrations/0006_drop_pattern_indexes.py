"""PostgreSQL: drop the varchar_pattern_ops indexes Django adds beside p_row_id and p_log_type.

They serve only case-sensitive `LIKE 'prefix%'`; the query language's wildcards are ILIKE, which
cannot use them, and no search plan of bench/search.py touched them (pg_stat_user_indexes), while
every insert paid for them. Equality on p_row_id uses the (p_row_id, p_event_time) key."""

from django.db import migrations

PATTERN_INDEXES = {
    "p_log_type": "events_event_p_log_type_6d41ba10_like",
    "p_row_id": "events_event_p_row_id_b45cf8a5_like",
}


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in PATTERN_INDEXES.values():
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, name in PATTERN_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "events_event" ("{column}" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0005_partial_gin_indexes"),
    ]

    operations = [
        migrations.RunPython(drop, create, elidable=False),
    ]
