# HourlyStats moved to the sources app (sources 0007 took it over with its table): it leaves
# ingestion's state only; the table and its rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("ingestion", "0001_initial"),
        ("sources", "0007_hourlystats_from_ingestion"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="HourlyStats"),
            ],
            database_operations=[],
        ),
    ]
