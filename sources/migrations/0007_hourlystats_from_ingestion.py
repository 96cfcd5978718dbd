# HourlyStats (a source's throughput per hour) moves here from the ingestion app, with its table
# and rows: ingestion's migration 0001 made the table (ingestion_hourlystats); this one only takes
# the model over in Django's state (the table stays, named by Meta.db_table), and ingestion 0002
# drops it from ingestion's state without touching the database. Its content type is relabelled
# ingestion -> sources, so permissions granted on it and admin log entries follow.

import django.db.models.deletion
from django.db import migrations, models

MODELS = ("hourlystats",)


def relabel_content_types(apps, schema_editor, old="ingestion", new="sources"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            continue  # already made (post_migrate of an earlier partial migrate): keep that one
        ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def unlabel_content_types(apps, schema_editor):
    relabel_content_types(apps, schema_editor, old="sources", new="ingestion")


class Migration(migrations.Migration):

    dependencies = [
        ("sources", "0006_transport_choices_from_registry"),
        ("ingestion", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HourlyStats',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('log_type', models.CharField(blank=True, max_length=100)),
                        ('hour', models.DateTimeField()),
                        ('events', models.BigIntegerField(default=0)),
                        ('bytes', models.BigIntegerField(default=0)),
                        ('failures', models.BigIntegerField(default=0)),
                        ('source', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='hourly_stats', to='sources.source')),
                    ],
                    options={
                        'verbose_name_plural': 'hourly stats',
                        'db_table': 'ingestion_hourlystats',
                        'ordering': ['-hour'],
                        'constraints': [models.UniqueConstraint(fields=('source', 'log_type', 'hour'), name='hourlystats_unique_hour')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_content_types, unlabel_content_types),
    ]
