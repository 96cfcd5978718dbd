"""Health as people read it: the backlog on the Log Sources table, the source's health panel, the
API's `backlog` and `health_reason`, and the drop-off alarm on by default in the wizard and API.
Pages read the snapshot the last health check stored: they never call AWS."""

import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import ApiToken
from sources.health import Backlog
from sources.models import Source
from tests.factories import SourceFactory
from tests.sources.conftest import s3_form_data, s3_payload

pytestmark = pytest.mark.django_db
API = "/api/v1/sources"
REASON = (
    "Backlog: messages waited 7 minutes in the queue before they were received "
    "(120 visible, 4 in flight)."
)


def checked_source(**fields) -> Source:
    """An SQS source as a health check left it: a backlog of 120 messages, 3 objects pending."""
    now = timezone.now()
    backlog = Backlog(
        queue=True,
        visible=120,
        in_flight=4,
        objects_pending=3,
        oldest_pending_at=now - timedelta(minutes=2),
        last_receive_at=now - timedelta(seconds=8),
        receive_lag=420.0,
        measured_at=now,
    )
    values = {
        "name": "ssh-bastion",
        "transport": "sqs",
        "config": {"queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/q"},
        "health": Source.Health.UNHEALTHY,
        "health_reason": REASON,
        "health_rule": "backlog",
        "health_checked_at": now,
        "backlog": backlog.as_json(),
    }
    return SourceFactory(**(values | fields))


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_table_shows_each_sources_backlog_in_one_line(viewer_client):
    checked_source()
    SourceFactory(name="teleport-new")  # not checked yet

    page = text(viewer_client.get(reverse("sources:list")).content.decode())

    assert "Backlog" in page
    assert "120 visible, 4 in flight · 3 objects pending · oldest 7 minutes" in page
    assert "not measured yet" in page


def test_the_health_tab_shows_the_reason_and_the_backlog(viewer_client):
    source = checked_source()

    page = text(viewer_client.get(reverse("sources:health", args=[source.pk])).content.decode())

    assert "Health now" in page
    assert REASON in page
    assert "Messages visible 120" in page
    assert "Messages in flight 4" in page
    assert "Objects pending 3" in page
    assert "Oldest waiting 7 minutes" in page
    assert "Last receive 8 seconds ago (its oldest message had waited 7 minutes)" in page
    assert "Health has not been checked" not in page


def test_a_listing_source_shows_no_queue_counts_and_its_last_listing(viewer_client):
    source = SourceFactory(
        health=Source.Health.HEALTHY,
        health_checked_at=timezone.now(),
        backlog=Backlog(last_receive_at=timezone.now(), measured_at=timezone.now()).as_json(),
    )

    page = text(viewer_client.get(reverse("sources:health", args=[source.pk])).content.decode())

    assert "Messages visible" not in page
    assert "Objects pending 0" in page
    assert "Oldest waiting nothing waits" in page
    assert "Last listing now" in page
    assert "Data arrives and every check holds." in page


def test_the_page_says_when_health_checks_stopped_running(viewer_client):
    source = checked_source(health_checked_at=timezone.now() - timedelta(minutes=20))

    page = text(viewer_client.get(reverse("sources:health", args=[source.pk])).content.decode())

    assert "Health has not been checked since 20 minutes ago" in page


def test_a_source_never_checked_says_its_backlog_is_not_measured_yet(viewer_client):
    source = SourceFactory()

    page = text(viewer_client.get(reverse("sources:health", args=[source.pk])).content.decode())
    overview = text(viewer_client.get(source.get_absolute_url()).content.decode())

    assert "The backlog has not been measured yet" in page
    assert "Backlog not measured yet" in overview


def test_the_overview_shows_the_backlog_in_one_line(viewer_client):
    source = checked_source()

    page = text(viewer_client.get(source.get_absolute_url()).content.decode())

    assert "Backlog 120 visible, 4 in flight · 3 objects pending · oldest 7 minutes" in page


# --- API --------------------------------------------------------------------------------------
def bearer(user) -> dict:
    return {"Authorization": f"Bearer {ApiToken.objects.issue(user, 'tests')[1]}"}


def test_the_api_gives_the_backlog_and_the_reason(client, viewer):
    source = checked_source()

    body = client.get(f"{API}/{source.pk}", headers=bearer(viewer)).json()

    assert body["health"] == "unhealthy"
    assert body["health_reason"] == REASON
    backlog = body["backlog"]
    assert (backlog["visible"], backlog["in_flight"], backlog["objects_pending"]) == (120, 4, 3)
    assert backlog["receive_lag_seconds"] == 420.0
    assert 419 < backlog["oldest_age_seconds"] < 480
    assert datetime.fromisoformat(backlog["measured_at"]).tzinfo is not None
    assert body["health_checked_at"]


def test_the_api_says_null_before_the_first_health_check(client, viewer):
    source = SourceFactory()

    body = client.get(f"{API}/{source.pk}", headers=bearer(viewer)).json()

    assert body["backlog"] is None
    assert body["health_checked_at"] is None


def test_the_openapi_schema_documents_backlog_and_health_reason(client):
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]

    source_out = schemas["SourceOut"]["properties"]
    assert {"backlog", "health_reason", "health_checked_at"} <= set(source_out)
    backlog = schemas["BacklogOut"]["properties"]
    assert {"visible", "in_flight", "objects_pending", "oldest_age_seconds"} <= set(backlog)
    assert "ApproximateNumberOfMessages" in backlog["visible"]["description"]


# --- the drop-off alarm on by default ---------------------------------------------------------
def test_a_source_created_through_the_api_has_the_alarm_on_unless_turned_off(client, admin_user):
    headers = bearer(admin_user)
    payload = {k: v for k, v in s3_payload().items() if k != "alarm_minutes"}

    default = client.post(API, payload, content_type="application/json", headers=headers)
    off = client.post(
        API,
        {**payload, "name": "teleport-quiet", "alarm_minutes": None},
        content_type="application/json",
        headers=headers,
    )

    assert default.status_code == 201, default.content
    assert default.json()["alarm_minutes"] == 60
    assert off.json()["alarm_minutes"] is None


def test_the_wizard_offers_the_alarm_ticked_at_one_hour(admin_client):
    from tests.sources.test_wizard_flow import configure_url, draft_of

    draft = draft_of(admin_client.post(configure_url("s3"), s3_form_data()))
    html = admin_client.get(reverse("sources:draft_finish", args=[draft])).content.decode()

    assert re.search(r'<input[^>]*name="enabled"[^>]*checked', html)
    assert re.search(r'<input[^>]*name="amount"[^>]*value="1"', html)
    assert re.search(r'<option value="hours" selected>', html)
