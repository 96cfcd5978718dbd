"""Admin: filters, search, pause/resume/verify actions, masked settings, and the role rule."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from sources.admin import masked
from sources.models import Source, VerificationRun
from tests.factories import EventFactory, FailureFactory, SourceFactory, UserFactory

TELEPORT = "Gravitational.TeleportAudit"

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


def s3_admin_post(**overrides) -> dict:
    """The admin change form's POST: paused and the alarm, and the S3 form's own fields."""
    data = {
        "alarm_minutes": "",
        "name": "after",
        "account_id": "123456789012",
        "bucket": "b-logs",
        "region": "us-east-1",
        "kms_key_arn": "",
        "role_arn": "",
        "stream_type": "auto",
        "envelope": "",
        "discovery": "listing",
        "queue_url": "",
        "list_interval_minutes": "5",
        "prefixes-TOTAL_FORMS": "1",
        "prefixes-INITIAL_FORMS": "0",
        "prefixes-0-prefix": "teleport/",
        "prefixes-0-log_types": [TELEPORT],
        "prefixes-0-exclude": "",
        "verifications-TOTAL_FORMS": "0",
        "verifications-INITIAL_FORMS": "0",
    }
    return data | overrides


def test_the_change_form_is_the_transports_own_form_not_json(admin_client):
    source = SourceFactory(
        name="teleport-prod",
        config={"account_id": "123456789012", "bucket": "prod-logs", "discovery": "listing"},
    )
    page = admin_client.get(reverse("admin:sources_source_change", args=[source.pk]))
    html = page.content.decode()
    assert 'name="config"' not in html  # no raw JSON textarea
    assert "AWS S3 Bucket settings" in html
    for field in ["name", "account_id", "bucket", "discovery", "prefixes-0-prefix"]:
        assert f'name="{field}"' in html
    assert 'value="prod-logs"' in html
    sqs = SourceFactory(transport="sqs", config={"queue_url": "https://sqs.x/1/q"})
    html = admin_client.get(reverse("admin:sources_source_change", args=[sqs.pk])).content
    assert b'name="queue_url"' in html
    assert b'name="config"' not in html


def test_staff_admin_edit_records_history(admin_client, admin_user):
    source = SourceFactory(name="before")
    url = reverse("admin:sources_source_change", args=[source.pk])
    response = admin_client.post(url, s3_admin_post())
    assert response.status_code == 302, response.content.decode()[:3000]
    source.refresh_from_db()
    assert source.name == "after"
    assert source.config["bucket"] == "b-logs"
    assert source.config["prefixes"] == [
        {"prefix": "teleport/", "log_types": [TELEPORT], "exclude": []}
    ]
    assert source.log_types == [TELEPORT]
    change = AuditEntry.objects.for_object(source).get()
    assert change.via == "admin"
    assert change.changes["name"] == ["before", "after"]
    page = admin_client.post(url, s3_admin_post(account_id="1234", bucket="Bad_Bucket"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Correct the transport settings below." in html
    assert "An AWS account ID is exactly 12 digits" in html
    assert "is not a valid S3 bucket name" in html
    source.refresh_from_db()
    assert source.config["bucket"] == "b-logs"


def test_add_prefix_in_the_admin_shows_one_more_row_without_saving(admin_client):
    source = SourceFactory(name="teleport-prod")
    url = reverse("admin:sources_source_change", args=[source.pk])
    html = admin_client.post(url, s3_admin_post(add_prefix="1")).content.decode()
    assert 'name="prefixes-1-prefix"' in html
    source.refresh_from_db()
    assert source.name == "teleport-prod"


def test_sources_are_not_added_in_the_admin_but_by_the_wizard(admin_client):
    changelist = admin_client.get(reverse("admin:sources_source_changelist")).content.decode()
    assert reverse("admin:sources_source_add") not in changelist
    assert admin_client.get(reverse("admin:sources_source_add")).status_code == 403


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
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse(f"admin:events_{model}_add") not in index


def test_events_and_failures_are_read_only_in_the_admin(admin_client):
    event, failure = EventFactory(), FailureFactory()
    for model, obj in [("event", event), ("failure", failure)]:
        url = reverse(f"admin:events_{model}_change", args=[obj.pk])
        page = admin_client.get(url).content.decode()
        assert 'name="_save"' not in page
        assert admin_client.post(url, {}).status_code == 403
