# The models ApiToken and AuditEntry move here from the console app, with their tables and rows:
# console's migrations 0001/0002 made the tables (console_apitoken, console_auditentry); this one
# only takes the models over in Django's state (the tables stay, named by Meta.db_table), and
# console 0003 drops them from console's state without touching the database. Their content types
# are relabelled console -> audit, so permissions granted on them and admin log entries follow.

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MODELS = ("apitoken", "auditentry")


def relabel_content_types(apps, schema_editor, old="console", new="audit"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            continue  # already made (post_migrate of an earlier partial migrate): keep that one
        ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def unlabel_content_types(apps, schema_editor):
    relabel_content_types(apps, schema_editor, old="audit", new="console")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("console", "0002_auditentry"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ApiToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('prefix', models.CharField(help_text='The first characters, to recognise it.', max_length=12)),
                        ('digest', models.CharField(editable=False, max_length=64, unique=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('last_used_at', models.DateTimeField(blank=True, null=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'API token',
                        'db_table': 'console_apitoken',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='AuditEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
                        ('actor_label', models.CharField(help_text="The actor's username then, or who acted without a login.", max_length=150)),
                        ('action', models.CharField(choices=[('created', 'Created'), ('updated', 'Changed'), ('deleted', 'Deleted'), ('paused', 'Paused'), ('resumed', 'Resumed'), ('verified', 'Ran verification'), ('password_changed', 'Changed password'), ('logged_in', 'Signed in'), ('logged_out', 'Signed out'), ('login_failed', 'Failed sign-in')], db_index=True, max_length=20)),
                        ('object_type', models.CharField(choices=[('source', 'Log source'), ('user', 'User'), ('group', 'Group'), ('apitoken', 'API token')], max_length=20)),
                        ('object_id', models.CharField(blank=True, max_length=64)),
                        ('object_label', models.CharField(blank=True, max_length=200)),
                        ('changes', models.JSONField(blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder, help_text='{field: [before, after]}')),
                        ('via', models.CharField(choices=[('console', 'Console'), ('api', 'API'), ('admin', 'Admin'), ('command', 'Command'), ('system', 'System')], max_length=16)),
                        ('ip', models.GenericIPAddressField(blank=True, null=True)),
                        ('user_agent', models.CharField(blank=True, max_length=255)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'audit entry',
                        'verbose_name_plural': 'audit entries',
                        'db_table': 'console_auditentry',
                        'ordering': ['-at', '-id'],
                        'indexes': [models.Index(fields=['object_type', 'object_id'], name='console_aud_object__f0d995_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_content_types, unlabel_content_types),
    ]
