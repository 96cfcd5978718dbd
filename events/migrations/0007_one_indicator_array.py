"""One indicator array (p_any: "kind:value" entries) with one GIN index, instead of twelve p_any_*
arrays with twelve GIN indexes: every stored row paid for twelve index lookups, most of them into
empty arrays. Existing events are carried over; the reverse puts the twelve columns back.

Self-contained: the column names and kinds are frozen here as they were when it was written.
"""

import json

from django.db import migrations

import events.fields

KINDS = {
    "p_any_ip_addresses": "ip",
    "p_any_domain_names": "domain",
    "p_any_trace_ids": "trace_id",
    "p_any_usernames": "username",
    "p_any_emails": "email",
    "p_any_aws_arns": "aws_arn",
    "p_any_aws_account_ids": "aws_account_id",
    "p_any_aws_instance_ids": "aws_instance_id",
    "p_any_aws_tags": "aws_tag",
    "p_any_md5_hashes": "md5",
    "p_any_sha1_hashes": "sha1",
    "p_any_sha256_hashes": "sha256",
}
INDEX = "event_p_any_gin"


def _pg_fill() -> str:
    parts = " || ".join(
        f"ARRAY(SELECT '{kind}:' || v FROM unnest({column}) v)" for column, kind in KINDS.items()
    )
    anything = " OR ".join(f"{column} <> '{{}}'" for column in KINDS)
    return f"UPDATE events_event SET p_any = {parts} WHERE {anything}"  # noqa: S608 - constants


def _pg_unfill() -> str:
    sets = ", ".join(
        f"{column} = ARRAY(SELECT substr(e, {len(kind) + 2}) FROM unnest(p_any) e "
        f"WHERE left(e, {len(kind) + 1}) = '{kind}:')"
        for column, kind in KINDS.items()
    )
    return f"UPDATE events_event SET {sets} WHERE p_any <> '{{}}'"  # noqa: S608 - constants


def _sqlite_rows(cursor, columns: str, where: str) -> list[tuple]:
    cursor.execute(f"SELECT id, {columns} FROM events_event WHERE {where}")  # noqa: S608
    return cursor.fetchall()


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(_pg_fill())
            return
        anything = " OR ".join(f"{column} <> '[]'" for column in KINDS)
        updates = []
        for row_id, *arrays in _sqlite_rows(cursor, ", ".join(KINDS), anything):
            entries = [
                f"{kind}:{value}"
                for kind, values in zip(KINDS.values(), arrays, strict=True)
                for value in json.loads(values or "[]")
            ]
            updates.append((json.dumps(entries), row_id))
        cursor.executemany("UPDATE events_event SET p_any = %s WHERE id = %s", updates)


def unfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(_pg_unfill())
            return
        updates = []
        for row_id, entries in _sqlite_rows(cursor, "p_any", "p_any <> '[]'"):
            values = json.loads(entries)
            updates.append(
                (
                    *(
                        json.dumps([e[len(kind) + 1 :] for e in values if e.startswith(kind + ":")])
                        for kind in KINDS.values()
                    ),
                    row_id,
                )
            )
        sets = ", ".join(f"{column} = %s" for column in KINDS)
        cursor.executemany(f"UPDATE events_event SET {sets} WHERE id = %s", updates)  # noqa: S608


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for column in KINDS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "event_{column}_gin"')
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "events_event" USING gin ("p_any") '
        "WHERE \"p_any\" <> '{}'::text[]"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')
    for column in KINDS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "event_{column}_gin" ON "events_event" '
            f"USING gin (\"{column}\") WHERE \"{column}\" <> '{{}}'::text[]"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0006_drop_pattern_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="p_any",
            field=events.fields.IndicatorArrayField(blank=True, default=list),
        ),
        migrations.RunPython(fill, unfill, elidable=False),
        migrations.RunPython(create_index, drop_index, elidable=False),
        *(migrations.RemoveField(model_name="event", name=column) for column in KINDS),
    ]
