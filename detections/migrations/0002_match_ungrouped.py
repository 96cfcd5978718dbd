from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("detections", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="match",
            index=models.Index(
                condition=models.Q(window_start__isnull=True),
                fields=["dedup_key"],
                name="match_ungrouped",
            ),
        ),
    ]
