# The health help texts name sources/health.py, where the decision moved (no database change).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sources', '0007_hourlystats_from_ingestion'),
    ]

    operations = [
        migrations.AlterField(
            model_name='source',
            name='backlog',
            field=models.JSONField(blank=True, default=dict, editable=False, help_text='What waited to be read at the last health check (sources.health.Backlog).'),
        ),
        migrations.AlterField(
            model_name='source',
            name='health_rule',
            field=models.CharField(blank=True, editable=False, help_text='Which rule of sources/health.py decided the health (see health.Rule).', max_length=24),
        ),
    ]
