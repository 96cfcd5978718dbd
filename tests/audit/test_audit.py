"""The audit trail: each change to a source, user, group or API token, and each sign-in, leaves
exactly one entry naming who, what, where from and the field changes — never a secret."""

import json
import sys

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from audit.models import ApiToken, AuditEntry
from audit.trail import REDACTED
from sources import services
from sources.models import Source
from sources.permissions import SOURCE_ADMINS_GROUP
from tests.factories import SourceFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/sources"
TELEPORT = "Gravitational.TeleportAudit"
PASSWORD = "correct-horse-battery"


def entries(object_type: str, **filters) -> list[tuple]:
    """(action, actor label, via, changes) of the matching entries, oldest first."""
    rows = AuditEntry.objects.filter(object_type=object_type, **filters).order_by("at", "id")
    return [(e.action, e.actor_label, e.via, e.changes) for e in rows]


def stored_text() -> str:
    return json.dumps(list(AuditEntry.objects.values()), default=str)


@pytest.fixture
def admin_api(client, admin_user):
    _token, raw = ApiToken.objects.issue(admin_user, "tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


ADMIN_CONFIG = {
    "account_id": "123456789012",
    "bucket": "b-logs",
    "region": "us-east-1",
    "kms_key_arn": "",
    "role_arn": "",
    "prefixes": [{"prefix": "", "log_types": [TELEPORT], "exclude": []}],
    "stream_type": "auto",
    "envelope": "",
    "discovery": "listing",
    "queue_url": "",
    "list_interval_minutes": 5,
}


def admin_source_form(**overrides) -> dict:
    """The admin change form's POST for ADMIN_CONFIG: the S3 transport's own form fields."""
    data = {
        "name": "teleport-admin",
        "alarm_minutes": "",
        **{k: v for k, v in ADMIN_CONFIG.items() if k != "prefixes"},
        "prefixes-TOTAL_FORMS": "1",
        "prefixes-INITIAL_FORMS": "0",
        "prefixes-0-prefix": "",
        "prefixes-0-log_types": [TELEPORT],
        "prefixes-0-exclude": "",
        "verifications-TOTAL_FORMS": "0",
        "verifications-INITIAL_FORMS": "0",
    }
    return data | overrides


# --- Sources -----------------------------------------------------------------------------------
def test_api_create_change_delete_each_leave_one_entry_with_the_diff(admin_api, admin_user):
    payload = {
        "name": "teleport-api",
        "transport": "s3",
        "config": {
            "account_id": "123456789012",
            "bucket": "api-logs",
            "region": "us-east-1",
            "discovery": "listing",
            "prefixes": [{"prefix": "teleport/", "log_types": [TELEPORT]}],
        },
    }
    created = admin_api.post(API, payload, content_type="application/json")
    assert created.status_code == 201, created.content
    url = f"{API}/{created.json()['id']}"
    admin_api.patch(url, {"name": "teleport-renamed"}, content_type="application/json")
    assert admin_api.delete(url).status_code == 204

    (create, update, delete) = entries("source", object_id=str(created.json()["id"]))
    who = ("admin", "api")
    assert create[:3] == ("created", *who)
    assert create[3]["name"] == [None, "teleport-api"]
    assert create[3]["config.bucket"] == [None, "api-logs"]
    assert update == ("updated", *who, {"name": ["teleport-api", "teleport-renamed"]})
    assert delete[:3] == ("deleted", *who)
    assert delete[3]["name"] == ["teleport-renamed", None]
    entry = AuditEntry.objects.filter(object_type="source").first()
    assert entry.actor == admin_user
    assert entry.ip == "127.0.0.1"


def test_admin_change_and_delete_each_leave_one_entry(admin_client, admin_user):
    source = SourceFactory(
        name="teleport-admin", config=ADMIN_CONFIG, log_types=[TELEPORT], alarm_minutes=None
    )
    change_url = reverse("admin:sources_source_change", args=[source.pk])
    changed = admin_client.post(change_url, admin_source_form(name="teleport-edited"))
    assert changed.status_code == 302, changed.content.decode()[:2000]
    delete_url = reverse("admin:sources_source_delete", args=[source.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302

    update, delete = entries("source", object_id=str(source.pk))
    assert update == ("updated", "admin", "admin", {"name": ["teleport-admin", "teleport-edited"]})
    assert delete[:3] == ("deleted", "admin", "admin")


def test_console_settings_change_is_on_the_audit_log_and_the_history_tab(admin_client):
    source = SourceFactory(name="teleport-prod")
    services.set_paused(source, True, user=None)
    history = admin_client.get(reverse("sources:history", args=[source.pk])).content.decode()
    audit_page = admin_client.get(reverse("audit")).content.decode()
    for page in (history, audit_page):
        assert "Paused" in page
        assert "system" in page  # no request, no user: the worker or shell did it


def test_secret_looking_settings_are_redacted(admin_user):
    source = SourceFactory(config={"bucket": "b"})
    services.update_source(
        source, admin_user, config={"bucket": "b", "secret_access_key": "AKIAverysecret"}
    )
    entry = AuditEntry.objects.for_object(source).get()
    assert entry.changes == {"config.secret_access_key": [None, REDACTED]}
    assert "AKIAverysecret" not in stored_text()


# --- API tokens --------------------------------------------------------------------------------
def test_token_created_and_revoked_on_the_account_page(viewer_client, viewer):
    page = viewer_client.post(reverse("account"), {"name": "terraform-ci"}).content.decode()
    token = ApiToken.objects.get(user=viewer)
    raw = page.split('id="new-token" tabindex="0">')[1].split("<")[0]
    viewer_client.post(reverse("revoke_token", args=[token.pk]))

    label = f"terraform-ci ({token.prefix}…)"
    assert entries("apitoken", object_id=str(token.pk)) == [
        (
            "created",
            "viewer",
            "console",
            {
                "name": [None, "terraform-ci"],
                "prefix": [None, token.prefix],
                "user": [None, "viewer"],
            },
        ),
        (
            "deleted",
            "viewer",
            "console",
            {
                "name": ["terraform-ci", None],
                "prefix": [token.prefix, None],
                "user": ["viewer", None],
            },
        ),
    ]
    assert AuditEntry.objects.filter(object_type="apitoken").first().object_label == label
    assert raw.startswith("slc_")
    assert raw not in stored_text()
    assert token.digest not in stored_text()


def test_token_from_the_command_names_the_command(viewer, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["manage.py", "create_api_token", "viewer"])
    call_command("create_api_token", "viewer", "--name", "cli")
    raw = capsys.readouterr().out.strip()
    [(action, actor, via, changes)] = entries("apitoken")
    assert (action, actor, via) == ("created", "manage.py create_api_token", "command")
    assert changes["name"] == [None, "cli"]
    assert raw not in stored_text()
    assert AuditEntry.objects.get(object_type="apitoken").actor is None


# --- Users and groups --------------------------------------------------------------------------
def test_first_admin_from_ensure_admin_is_entered_without_its_password(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["manage.py", "ensure_admin"])
    call_command("ensure_admin")
    password = capsys.readouterr().out.split("Password: ")[1].split()[0]
    [(action, actor, via, changes)] = entries("user")
    assert (action, actor, via) == ("created", "manage.py ensure_admin", "command")
    assert changes["is_superuser"] == [None, True]
    assert changes["password"] == [None, REDACTED]
    assert password not in stored_text()


def test_admin_creates_a_user_and_sets_a_password_never_stored(admin_client):
    new_password = "an0ther-Long-secret"
    add = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    user = get_user_model().objects.get(username="newbie")
    change_password = reverse("admin:auth_user_password_change", args=[user.pk])
    response = admin_client.post(
        change_password, {"password1": new_password, "password2": new_password}
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    created, changed = entries("user", object_id=str(user.pk))
    assert created[:3] == ("created", "admin", "admin")
    assert created[3]["username"] == [None, "newbie"]
    assert created[3]["password"] == [None, REDACTED]
    assert changed == ("password_changed", "admin", "admin", {"password": [REDACTED, REDACTED]})
    user.refresh_from_db()
    text = stored_text()
    for secret in (PASSWORD, new_password, user.password, user.password.split("$")[-1]):
        assert secret not in text


def test_adding_a_user_to_a_group_in_the_admin_is_one_entry(admin_client):
    user = UserFactory(username="sam")
    group = Group.objects.get(name=SOURCE_ADMINS_GROUP)
    before = AuditEntry.objects.count()
    response = admin_client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        {
            "username": "sam",
            "first_name": "",
            "last_name": "",
            "email": "",
            "is_active": "on",
            "groups": [group.pk],
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert AuditEntry.objects.count() == before + 1
    assert entries("user", object_id=str(user.pk), action="updated") == [
        ("updated", "admin", "admin", {"groups": [[], [SOURCE_ADMINS_GROUP]]})
    ]


def test_membership_changed_from_the_group_side_is_entered_on_each_user():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    group = Group.objects.create(name="Readers")
    group.user_set.add(alice, bob)
    alice.groups.clear()
    assert entries("user", object_id=str(alice.pk), action="updated") == [
        ("updated", "system", "system", {"groups": [[], ["Readers"]]}),
        ("updated", "system", "system", {"groups": [["Readers"], []]}),
    ]
    assert len(entries("user", object_id=str(bob.pk), action="updated")) == 1
    assert entries("group", object_id=str(group.pk)) == [
        ("created", "system", "system", {"name": [None, "Readers"]})
    ]


def test_user_changes_keep_their_diff_and_deleting_yourself_keeps_your_name(admin_client):
    admin = get_user_model().objects.get(username="admin")
    admin.email, admin.is_staff = "root@example.com", True
    admin.save()
    assert entries("user", object_id=str(admin.pk), action="updated") == [
        ("updated", "system", "system", {"email": ["admin@example.com", "root@example.com"]})
    ]
    url = reverse("admin:auth_user_delete", args=[admin.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    deleted = AuditEntry.objects.get(object_type="user", action="deleted")
    assert (deleted.actor, deleted.actor_label, deleted.object_label) == (None, "admin", "admin")
    assert AuditEntry.objects.filter(actor_label="admin").exists()


# --- Sign-ins ----------------------------------------------------------------------------------
def test_sign_in_failed_sign_in_and_sign_out(client):
    user = UserFactory(username="alice")
    agent = {"HTTP_USER_AGENT": "pytest-browser/1.0"}
    client.post(reverse("login"), {"username": "alice", "password": "wrong-guess"}, **agent)
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, **agent)
    client.post(reverse("logout"), **agent)

    rows = AuditEntry.objects.filter(object_type="user", object_id=str(user.pk)).order_by("id")
    failed, signed_in, signed_out = rows.exclude(action="created")
    assert (failed.action, failed.actor, failed.actor_label) == ("login_failed", None, "anonymous")
    assert (failed.object_label, failed.changes) == ("alice", {})
    assert (signed_in.action, signed_in.actor) == ("logged_in", user)
    assert (signed_out.action, signed_out.actor) == ("logged_out", user)
    for entry in (failed, signed_in, signed_out):
        assert (entry.via, entry.ip, entry.user_agent) == (
            "console",
            "127.0.0.1",
            agent["HTTP_USER_AGENT"],
        )
    assert "wrong-guess" not in stored_text()


def test_failed_admin_sign_in_for_an_unknown_name(client):
    client.post(reverse("admin:login"), {"username": "mallory", "password": "x"})
    entry = AuditEntry.objects.get(action="login_failed")
    assert (entry.object_label, entry.object_id, entry.via) == ("mallory", "", "admin")


def test_a_rehash_on_sign_in_is_not_a_password_change(client, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    user = UserFactory(username="old-hash")
    user.password = make_password(PASSWORD, hasher="md5")
    user.save()
    changes_before = AuditEntry.objects.filter(action="password_changed").count()
    response = client.post(reverse("login"), {"username": "old-hash", "password": PASSWORD})
    assert response.status_code == 302  # signed in
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_")  # Django did upgrade the hash
    assert AuditEntry.objects.filter(action="password_changed").count() == changes_before


# --- Reading the trail -------------------------------------------------------------------------
def test_entries_cannot_be_changed_or_deleted():
    entry = AuditEntry.objects.create(
        actor_label="x", action="created", object_type="group", via="system"
    )
    with pytest.raises(ValueError, match="immutable"):
        entry.save()
    with pytest.raises(ValueError, match="immutable"):
        entry.delete()


def test_admin_lists_filters_and_searches_but_is_read_only(admin_client):
    UserFactory(username="findme")
    entry = AuditEntry.objects.get(object_label="findme")
    url = reverse("admin:audit_auditentry_changelist")
    page = admin_client.get(url).content.decode()
    for title in ["By action", "By object type", "By via", "By actor"]:
        assert title in page
    assert "findme" in admin_client.get(url, {"q": "findme"}).content.decode()
    assert "findme" not in admin_client.get(url, {"action__exact": "logged_in"}).content.decode()
    detail = admin_client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert admin_client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    delete = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:audit_auditentry_change", args=[entry.pk])
    assert admin_client.post(change, {"actor_label": "forged"}).status_code == 403
    entry.refresh_from_db()
    assert entry.actor_label == "system"


def test_audit_page_is_for_staff_and_filters_without_javascript(admin_client, client, viewer):
    SourceFactory(name="teleport-prod")
    source = Source.objects.get()
    services.set_paused(source, True)
    UserFactory(username="findme")
    url = reverse("audit")
    everything = admin_client.get(url).content.decode()
    assert "findme" in everything
    assert "teleport-prod" in everything
    assert reverse("sources:history", args=[source.pk]) in everything
    only_sources = admin_client.get(url, {"object_type": "source"}).content.decode()
    assert "teleport-prod" in only_sources
    assert "findme" not in only_sources
    assert "findme" in admin_client.get(url, {"q": "findm"}).content.decode()
    assert "findme" not in admin_client.get(url, {"action": "paused"}).content.decode()
    assert "findme" not in admin_client.get(url, {"actor": "admin"}).content.decode()

    assert f'href="{url}"' in admin_client.get(reverse("dashboard")).content.decode()

    client.force_login(viewer)
    assert f'href="{url}"' not in client.get(reverse("dashboard")).content.decode()
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url)["Location"].startswith(reverse("login"))


def test_audit_page_pages_with_its_filters_kept(admin_client):
    AuditEntry.objects.bulk_create(
        AuditEntry(actor_label="bot", action="created", object_type="group", via="system")
        for _ in range(60)
    )
    first = admin_client.get(reverse("audit"), {"actor": "bot"}).content.decode()
    assert "Page 1 of 2 (60 entries)" in first
    assert "?actor=bot&amp;page=2" in first
    second = admin_client.get(reverse("audit"), {"actor": "bot", "page": "2"}).content.decode()
    assert "Page 2 of 2" in second
