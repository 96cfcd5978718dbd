"""ApiToken and AuditEntry moved from the console app to the audit app (audit 0001, console 0003):
a database made before the move keeps its tokens, entries and the permissions granted on them."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.models import ApiToken, AuditEntry, digest
from audit.trail import record
from tests.factories import UserFactory

BEFORE = [("console", "0002_auditentry"), ("audit", None)]  # console owns the models, no audit
RAW_TOKEN = "slc_made-before-the-move"
AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def migrate(targets=None) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    return executor


def state_of_the_database(executor: MigrationExecutor):
    """The models as the applied migrations left them (the database before the move)."""
    executor.loader.build_graph()
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


@pytest.mark.django_db(transaction=True)
def test_rows_in_the_console_tables_survive_the_move_to_the_audit_app():
    alice = UserFactory(username="alice")
    old = state_of_the_database(migrate(BEFORE))
    OldToken = old.get_model("console", "ApiToken")
    OldEntry = old.get_model("console", "AuditEntry")
    OldContentType = old.get_model("contenttypes", "ContentType")
    OldPermission = old.get_model("auth", "Permission")
    OldGroup = old.get_model("auth", "Group")

    token = OldToken.objects.create(
        user_id=alice.pk, name="terraform-ci", prefix=RAW_TOKEN[:10], digest=digest(RAW_TOKEN)
    )
    entry = OldEntry.objects.create(
        at=AT,
        actor_id=alice.pk,
        actor_label="alice",
        action="paused",
        object_type="source",
        object_id="7",
        object_label="teleport-prod",
        changes={"paused": [False, True]},
        via="console",
        ip="10.0.0.5",
        user_agent="curl/8",
    )
    console_type = OldContentType.objects.get(app_label="console", model="auditentry")
    auditors = OldGroup.objects.create(name="Auditors")
    auditors.permissions.add(
        OldPermission.objects.get(content_type=console_type, codename="view_auditentry")
    )
    auditors.user_set.add(alice.pk)

    migrate()

    tables = connection.introspection.table_names()
    assert {"console_apitoken", "console_auditentry"} <= set(tables)
    assert not {"audit_apitoken", "audit_auditentry"} & set(tables)
    found = ApiToken.objects.authenticate(RAW_TOKEN)
    assert (found.pk, found.user, found.name) == (token.pk, alice, "terraform-ci")
    moved = AuditEntry.objects.get(pk=entry.pk)
    assert (moved.at, moved.actor, moved.action, moved.object_label) == (
        AT,
        alice,
        "paused",
        "teleport-prod",
    )
    assert (moved.changes, moved.via, moved.ip, moved.user_agent) == (
        {"paused": [False, True]},
        "console",
        "10.0.0.5",
        "curl/8",
    )
    assert moved in AuditEntry.objects.filter(object_type="source", object_id="7")
    # the content type moved with its permissions: the group still grants them, now as audit.*
    audit_type = ContentType.objects.get_for_model(AuditEntry)
    assert (audit_type.pk, audit_type.app_label) == (console_type.pk, "audit")
    assert not ContentType.objects.filter(app_label="console", model="auditentry").exists()
    assert Group.objects.get(name="Auditors").permissions.get().content_type == audit_type
    assert UserFactory(username="alice").has_perm("audit.view_auditentry")
    permissions = Permission.objects.filter(content_type=audit_type, codename="view_auditentry")
    assert permissions.count() == 1
    # new rows continue after the old ones
    assert record("created", alice).pk > entry.pk
    assert ApiToken.objects.issue(alice, "after")[0].pk > token.pk
