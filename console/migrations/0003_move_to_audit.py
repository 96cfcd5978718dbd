# ApiToken and AuditEntry moved to the audit app (audit 0001 took them over with their tables):
# they leave console's state only; the tables and their rows stay where they are. After sources
# 0004, which still writes console.AuditEntry in its historical state.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("console", "0002_auditentry"),
        ("audit", "0001_initial"),
        ("sources", "0004_sourcechange_to_auditentry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ApiToken"),
                migrations.DeleteModel(name="AuditEntry"),
            ],
            database_operations=[],
        ),
    ]
