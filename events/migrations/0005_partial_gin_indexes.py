"""PostgreSQL: the p_any_* GIN indexes skip empty arrays (WHERE column <> '{}').

Most events have no value for most indicators, and a GIN index is the costliest part of an insert:
partial indexes make ingestion cheaper and the indexes smaller. The `__has` lookup repeats the
predicate so the planner can use them (events/fields.py)."""

from django.db import migrations

INDICATOR_COLUMNS = (
    "p_any_ip_addresses", "p_any_domain_names", "p_any_trace_ids", "p_any_usernames",
    "p_any_emails", "p_any_aws_arns", "p_any_aws_account_ids", "p_any_aws_instance_ids",
    "p_any_aws_tags", "p_any_md5_hashes", "p_any_sha1_hashes", "p_any_sha256_hashes",
)


def rebuild(where: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for column in INDICATOR_COLUMNS:
            name = f"event_{column}_gin"
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
            predicate = f" WHERE \"{column}\" <> '{{}}'::text[]" if where else ""
            schema_editor.execute(
                f'CREATE INDEX "{name}" ON "events_event" USING gin ("{column}"){predicate}'
            )

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0004_partition_events"),
    ]

    operations = [
        migrations.RunPython(rebuild(where="partial"), rebuild(where=""), elidable=False),
    ]
