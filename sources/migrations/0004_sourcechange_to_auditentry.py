"""Source history moves into the audit trail (console.AuditEntry); SourceChange goes away."""

from django.db import migrations

USER_LABEL = "system"


def to_audit_entries(apps, schema_editor):
    SourceChange = apps.get_model("sources", "SourceChange")
    AuditEntry = apps.get_model("console", "AuditEntry")
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=change.at,
            actor=change.user,
            actor_label=getattr(change.user, "username", "") or USER_LABEL,
            action=change.action,
            object_type="source",
            object_id=str(change.source_id or ""),
            object_label=change.source_name,
            changes=change.changes,
            via=change.via,
        )
        for change in SourceChange.objects.select_related("user").order_by("at", "id")
    )


def _source_id(object_id: str, existing: set[int]) -> int | None:
    return int(object_id) if object_id.isdigit() and int(object_id) in existing else None


def to_source_changes(apps, schema_editor):
    SourceChange = apps.get_model("sources", "SourceChange")
    Source = apps.get_model("sources", "Source")
    AuditEntry = apps.get_model("console", "AuditEntry")
    entries = AuditEntry.objects.filter(object_type="source").order_by("at", "id")
    existing = set(Source.objects.values_list("pk", flat=True))
    SourceChange.objects.bulk_create(
        SourceChange(
            at=entry.at,
            user=entry.actor,
            action=entry.action,
            source_id=_source_id(entry.object_id, existing),
            source_name=entry.object_label,
            changes=entry.changes,
            via=entry.via,
        )
        for entry in entries
    )


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0002_auditentry"),
        ("sources", "0003_source_admins_group"),
    ]

    operations = [
        migrations.RunPython(to_audit_entries, to_source_changes),
        migrations.DeleteModel(name="SourceChange"),
    ]
