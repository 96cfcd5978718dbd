"""Admin: filters, search, pause/resume/verify actions, masked settings, and the role rule."""

import json

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from sources.admin import masked
from sources.models import Source, VerificationRun
from tests.factories import SourceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_changelist_filters_and_searches(admin_client):
    SourceFactory(name="teleport-prod", transport="s3")
    SourceFactory(name="ssh-raw", transport="sqs", config={"queue_url": "https://q"})
    url = reverse("admin:sources_source_changelist")
    page = admin_client.get(url, {"transport__exact": "sqs"}).content.decode()
    assert "ssh-raw" in page
    assert "teleport-prod" not in page
    assert "teleport-prod" in admin_client.get(url, {"q": "teleport"}).content.decode()
    for filter_title in ["By transport", "By health", "By paused"]:
        assert filter_title in admin_client.get(url).content.decode()


def test_actions_pause_resume_and_verify_now(admin_client, admin_user):
    a, b = SourceFactory(name="a"), SourceFactory(name="b")
    url = reverse("admin:sources_source_changelist")
    ids = [a.pk, b.pk]
    admin_client.post(url, {"action": "pause", "_selected_action": ids})
    assert set(Source.objects.values_list("paused", flat=True)) == {True}
    admin_client.post(url, {"action": "resume", "_selected_action": ids})
    assert set(Source.objects.values_list("paused", flat=True)) == {False}
    admin_client.post(url, {"action": "verify_now", "_selected_action": ids})
    assert VerificationRun.objects.filter(source__in=[a, b]).count() == 2
    sources = AuditEntry.objects.filter(object_type="source", via="admin", actor=admin_user)
    assert sources.count() == 6


def test_settings_are_shown_with_secrets_masked(admin_client):
    source = SourceFactory(config={"bucket": "b", "secret_access_key": "AKIAverysecret"})
    page = admin_client.get(reverse("admin:sources_source_change", args=[source.pk]))
    assert "••••••" in page.content.decode()
    assert "AKIAverysecret" not in page.content.decode()
    assert masked({"role_arn": "arn", "password": "x"}) == {"role_arn": "arn", "password": "••••••"}


def test_viewers_cannot_reach_the_admin(client):
    viewer = UserFactory(username="viewer")
    client.force_login(viewer)
    source = SourceFactory()
    response = client.get(reverse("admin:sources_source_change", args=[source.pk]))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_admin_edit_records_history(admin_client, admin_user):
    source = SourceFactory(name="before")
    url = reverse("admin:sources_source_change", args=[source.pk])
    data = {
        "name": "after",
        "transport": "s3",
        "log_types": '["Gravitational.TeleportAudit"]',
        "alarm_minutes": "",
        "health": "waiting",
        "health_reason": "",
        "config": json.dumps(
            {"account_id": "123456789012", "bucket": "b-logs", "discovery": "listing"}
        ),
        "verifications-TOTAL_FORMS": "0",
        "verifications-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    source.refresh_from_db()
    assert source.name == "after"
    assert source.config["prefixes"] == [
        {"prefix": "", "log_types": ["Gravitational.TeleportAudit"], "exclude": []}
    ]
    change = AuditEntry.objects.for_object(source).get()
    assert change.via == "admin"
    assert change.changes["name"] == ["before", "after"]
    data["config"] = json.dumps({"account_id": "1234", "bucket": "Bad_Bucket"})
    page = admin_client.post(url, data).content.decode()
    assert "account_id: An AWS account ID is exactly 12 digits" in page
    assert "bucket: &#x27;Bad_Bucket&#x27; is not a valid S3 bucket name" in page


def test_the_paused_column_marks_only_paused_sources(admin_client):
    SourceFactory(name="running-one", paused=False)
    SourceFactory(name="paused-one", paused=True)
    page = admin_client.get(reverse("admin:sources_source_changelist")).content.decode()
    assert "icon-no.svg" not in page  # no red cross for a source that simply runs
    running = page.split("running-one")[2].split("</tr>")[0]
    paused = page.split("paused-one")[2].split("</tr>")[0]
    assert "Paused" in paused
    assert "Paused" not in running


@pytest.mark.parametrize("model", ["event", "failure"])
def test_events_and_failures_are_not_added_by_hand(admin_client, model):
    changelist = admin_client.get(reverse(f"admin:events_{model}_changelist")).content.decode()
    assert reverse(f"admin:events_{model}_add") not in changelist
    assert admin_client.get(reverse(f"admin:events_{model}_add")).status_code == 403
