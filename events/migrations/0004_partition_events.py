"""PostgreSQL: partition events_event by day of p_event_time (see events/partitions.py), and
record each origin's stored time range (EventOrigin) so the writer stays exactly-once without a
unique p_row_id. Works on a table that already holds events: they are moved, ids kept."""

from django.db import migrations, models

from events.models import ORIGIN_KEY_SQL
from events.partitions import partition_table, unpartition_table


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partition_table(cursor)
        cursor.execute(
            "INSERT INTO events_eventorigin (key, first_time, last_time) "
            f"SELECT {ORIGIN_KEY_SQL}, min(p_event_time), max(p_event_time) FROM events_event "  # noqa: S608
            "GROUP BY 1"
        )


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
