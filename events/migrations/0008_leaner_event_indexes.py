"""Fewer expression b-trees on the events table, and one for failed events.

Every expression index costs each stored row about as much as storing the row itself
(`python bench/indexes.py --each`), and ingestion pays it on every event:
- `event_code_time` goes: a Teleport code is one event type and its outcome, so `event:` (and
  `success:`) find the same events; a `code:` search walks the time index.
- `event_login_time` stays: without it a rare login (`login:jack`, 30 days) walked the time
  index through every event of the window (minutes at 10M events, `bench/explain.py`).
- `event_failed_time` comes: (fields -> 'event', time desc) over the events whose success is
  false (a few percent), so `event:user.login success:false` is one index walk, newest first.
"""

import django.db.models.fields.json
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0007_one_indicator_array"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="event",
            name="event_code_time",
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                django.db.models.fields.json.KeyTransform("event", "fields"),
                models.OrderBy(models.F("p_event_time"), descending=True),
                condition=models.Q(
                    django.db.models.fields.json.KeyTransformExact(
                        django.db.models.fields.json.KeyTransform("success", "fields"),
                        models.Value(False, output_field=models.JSONField()),
                    )
                ),
                name="event_failed_time",
            ),
        ),
    ]
