from django.db import migrations

GROUP = "Source admins"


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP, user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("sources", "0002_source_alarm_minutes_sourcechange_verificationrun"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
