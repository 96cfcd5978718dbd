"""The Log Sources table and a source's page: filters, sparkline, charts, settings, history."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from events.models import Event
from ingestion.models import ObjectLedger
from sources.models import HourlyStats, Source
from tests.factories import EventFactory, SourceFactory
from tests.sources.conftest import TELEPORT, s3_form_data

pytestmark = pytest.mark.django_db


def hour(hours_ago: int):
    return timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)


def test_table_filters_by_text_log_type_transport_and_health(viewer_client):
    SourceFactory(name="teleport-prod", health=Source.Health.HEALTHY)
    SourceFactory(
        name="ssh-bastion", transport="sqs", log_types=["Sluice.SSHAuth"], health="unhealthy"
    )
    url = reverse("sources:list")

    def names(**params) -> list[str]:
        page = viewer_client.get(url, params, headers={"HX-Request": "true"}).content.decode()
        assert page.lstrip().startswith('<div id="sources-table" hx-get="/sources/')
        return [n for n in ("teleport-prod", "ssh-bastion") if f'data-source="{n}"' in page]

    assert names() == ["teleport-prod", "ssh-bastion"]
    assert names(q="bastion") == ["ssh-bastion"]
    assert names(log_type=TELEPORT) == ["teleport-prod"]
    assert names(transport="sqs") == ["ssh-bastion"]
    assert names(health="healthy") == ["teleport-prod"]
    assert names(health="paused") == []
    full = viewer_client.get(url, {"q": "nothing"}).content.decode()
    assert "No source matches these filters" in full
    assert 'id="id_q"' in full


def test_table_counts_events_of_the_last_24_hours_with_a_sparkline(viewer_client):
    source = SourceFactory(name="teleport-prod")
    HourlyStats.objects.create(source=source, log_type=TELEPORT, hour=hour(1), events=1200)
    HourlyStats.objects.create(source=source, log_type=TELEPORT, hour=hour(3), events=34)
    HourlyStats.objects.create(source=source, log_type=TELEPORT, hour=hour(30), events=999)
    page = viewer_client.get(reverse("sources:list")).content.decode()
    assert '<span class="events-24h">1,234</span>' in page
    points = page.split('<polyline points="')[1].split('"')[0].split()
    assert len(points) == 24
    assert points[-2].endswith(",1.0")  # the peak hour reaches the top of the sparkline


def test_overview_charts_events_per_log_type_bytes_and_the_last_object(viewer_client):
    source = SourceFactory(name="teleport-prod", last_event_at=timezone.now())
    HourlyStats.objects.create(source=source, log_type=TELEPORT, hour=hour(2), events=500)
    HourlyStats.objects.create(source=source, log_type="", hour=hour(2), bytes=2048, failures=3)
    ObjectLedger.objects.create(
        source=source,
        bucket="b",
        key="teleport/x.json.gz",
        status="done",
        events=500,
        bytes=2048,
        finished_at=timezone.now(),
    )
    page = viewer_client.get(source.get_absolute_url()).content.decode()
    assert "Gravitational.TeleportAudit events" in page
    assert "total 500, peak 500/h" in page
    assert "Bytes read" in page
    assert "total 2.0\xa0KB" in page
    assert "Failed lines" in page
    assert "s3://b/teleport/x.json.gz" in page


def test_settings_edit_with_the_same_form_records_history(admin_client, admin_user):
    source = SourceFactory(name="teleport-prod", config={"bucket": "old"})
    url = reverse("sources:settings", args=[source.pk])
    bad = admin_client.post(url, s3_form_data(name="teleport-prod", account_id="12"))
    assert "exactly 12 digits" in bad.content.decode()
    source.refresh_from_db()
    assert source.config == {"bucket": "old"}

    data = s3_form_data(
        name="teleport-prod",
        **{"alarm-enabled": "on", "alarm-amount": "1", "alarm-unit": "days"},
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.config["bucket"] == "sluice-test-logs"
    assert source.alarm_minutes == 1440
    change = AuditEntry.objects.for_object(source).get()
    assert change.actor == admin_user
    assert change.changes["config.bucket"] == ["old", "sluice-test-logs"]
    history = admin_client.get(reverse("sources:history", args=[source.pk])).content.decode()
    assert "Changed" in history
    assert "config.bucket" in history
    assert admin_user.username in history


def test_pause_resume_and_verify_again(admin_client):
    source = SourceFactory(name="teleport-prod")
    admin_client.post(reverse("sources:pause", args=[source.pk]), {"paused": "1"})
    source.refresh_from_db()
    assert source.paused
    assert source.health == Source.Health.PAUSED
    assert "Resume" in admin_client.get(source.get_absolute_url()).content.decode()
    admin_client.post(reverse("sources:pause", args=[source.pk]), {"paused": "0"})
    source.refresh_from_db()
    assert not source.paused
    assert source.health == Source.Health.WAITING
    response = admin_client.post(reverse("sources:verify", args=[source.pk]))
    assert response["Location"] == reverse("sources:health", args=[source.pk])
    health = admin_client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every ' in health  # queued: the page polls until a worker finishes
    actions = list(
        AuditEntry.objects.for_object(source).values_list("action", flat=True).order_by("at", "id")
    )
    assert actions == ["paused", "resumed", "verified"]


def test_delete_needs_the_name_typed_and_keeps_events(admin_client):
    source = SourceFactory(name="teleport-prod")
    event = EventFactory(source=source)
    url = reverse("sources:delete", args=[source.pk])
    assert (
        "Type <strong>teleport-prod</strong> to confirm" in admin_client.get(url).content.decode()
    )
    assert admin_client.post(url, {"confirm_name": "teleport"}).status_code == 400
    assert Source.objects.filter(pk=source.pk).exists()
    response = admin_client.post(url, {"confirm_name": "teleport-prod"})
    assert response["Location"] == reverse("sources:list")
    assert not Source.objects.filter(pk=source.pk).exists()
    assert Event.objects.filter(pk=event.pk).exists()
    deleted = AuditEntry.objects.get(object_type="source", object_label="teleport-prod")
    assert deleted.action == "deleted"


def test_tabs_answer_htmx_with_the_panel_only(viewer_client):
    source = SourceFactory(name="teleport-prod")
    for name in ["detail", "health", "settings", "history"]:
        response = viewer_client.get(
            reverse(f"sources:{name}", args=[source.pk]),
            headers={"HX-Request": "true", "HX-Target": "tab-panel"},
        )
        assert response.content.decode().lstrip().startswith('<section id="tab-panel"'), name
