"""System alerts: raised while a pipeline condition holds for a source, resolved when it clears,
routed to destinations like rule alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from destinations import system
from destinations.models import Delivery
from detections.models import Alert, RuleSetting
from ingestion.models import ObjectLedger
from sources.models import HourlyStats, Source, VerificationRun
from tests.factories import DestinationFactory, SourceFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)


def quiet_source(**kwargs) -> Source:
    """A source whose last event is 10 minutes old (its drop-off alarm: 15 minutes)."""
    source = SourceFactory(alarm_minutes=15, **kwargs)
    Source.objects.filter(pk=source.pk).update(
        created_at=NOW - timedelta(days=1), last_event_at=NOW - timedelta(minutes=10)
    )
    source.refresh_from_db()
    return source


def system_alerts(rule_id: str) -> list[tuple[str, str]]:
    return list(Alert.objects.filter(rule_id=rule_id).values_list("status", "title"))


def test_a_drop_off_is_raised_once_and_resolved_when_data_comes_back():
    source = quiet_source(name="teleport-prod")
    assert system.check(NOW) == {"raised": 0, "resolved": 0}

    later = NOW + timedelta(minutes=10)  # 20 minutes without data
    assert system.check(later) == {"raised": 1, "resolved": 0}
    assert system.check(later + timedelta(minutes=1)) == {"raised": 0, "resolved": 0}
    [alert] = Alert.objects.filter(rule_id="System.SourceDropOff")
    assert (alert.status, alert.severity, alert.title) == (
        "open",
        "high",
        "No data from teleport-prod",
    )
    assert alert.alert_context["source_id"] == source.pk
    assert "No data for 15 minutes" in alert.alert_context["reason"]

    Source.objects.filter(pk=source.pk).update(last_event_at=later)
    assert system.check(later + timedelta(minutes=2)) == {"raised": 0, "resolved": 1}
    assert system_alerts("System.SourceDropOff") == [("resolved", "No data from teleport-prod")]


def test_a_paused_source_raises_nothing():
    quiet_source(paused=True)
    assert system.check(NOW + timedelta(hours=1)) == {"raised": 0, "resolved": 0}


def test_a_failing_verification_is_raised_until_one_passes():
    source = quiet_source(name="s")
    VerificationRun.objects.create(
        source=source,
        transport="s3",
        status="failed",
        checks=[{"name": "Read objects", "ok": False, "message": "AccessDenied on GetObject"}],
    )
    system.check(NOW)
    [(status, title)] = system_alerts("System.VerificationFailing")
    assert (status, title) == ("open", "Verification of s fails")
    assert (
        "AccessDenied"
        in Alert.objects.get(rule_id="System.VerificationFailing").alert_context["reason"]
    )

    VerificationRun.objects.create(source=source, transport="s3", status="passed", checks=[])
    system.check(NOW)
    assert system_alerts("System.VerificationFailing") == [("resolved", "Verification of s fails")]


def test_objects_that_exhausted_their_retries():
    source = quiet_source(name="s")
    row = ObjectLedger.objects.create(
        source=source, key="k.json.gz", status="failed", attempts=3, error="not gzip data"
    )
    system.check(NOW)
    alert = Alert.objects.get(rule_id="System.ObjectsFailed")
    assert alert.alert_context["objects"] == 1
    assert alert.alert_context["last_error"] == "not gzip data"
    assert alert.severity == "medium"

    ObjectLedger.objects.filter(pk=row.pk).update(status="done")
    system.check(NOW)
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_a_failure_rate_over_the_threshold(settings):
    settings.SLUICE_SYSTEM_FAILURE_RATE = 0.05
    source = quiet_source(name="s")
    hour = NOW.replace(minute=0)
    HourlyStats.objects.create(source=source, hour=hour, events=900, failures=100)
    RuleSetting.objects.create(rule_id="System.FailureRate", severity="critical")
    system.check(NOW)
    alert = Alert.objects.get(rule_id="System.FailureRate")
    assert alert.title == "10% of the lines of s failed to parse"
    assert alert.severity == "critical"

    HourlyStats.objects.filter(source=source).update(events=9900)  # 1%
    system.check(NOW)
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_few_lines_are_not_a_rate():
    source = quiet_source()
    HourlyStats.objects.create(source=source, hour=NOW.replace(minute=0), events=5, failures=5)
    system.check(NOW)
    assert not Alert.objects.filter(rule_id="System.FailureRate").exists()


def test_system_alerts_are_routed_like_rule_alerts():
    ops = DestinationFactory(name="ops", rule_ids=["System.*"])
    rules_only = DestinationFactory(name="rules", rule_ids=["Teleport.*"])
    source = quiet_source()
    system.check(NOW + timedelta(minutes=10))
    Source.objects.filter(pk=source.pk).update(last_event_at=NOW + timedelta(minutes=10))
    system.check(NOW + timedelta(minutes=11))

    changes = list(Delivery.objects.filter(destination=ops).values_list("change", flat=True))
    assert sorted(changes) == ["resolve", "trigger"]
    assert not Delivery.objects.filter(destination=rules_only).exists()


def test_a_system_alert_opens_on_the_alerts_pages(viewer_client):
    quiet_source(name="teleport-prod")
    system.check(NOW + timedelta(minutes=10))
    alert = Alert.objects.get(rule_id="System.SourceDropOff")
    page = viewer_client.get(alert.get_absolute_url())
    assert page.status_code == 200
    assert "No data from teleport-prod" in page.content.decode()
    listing = viewer_client.get("/alerts/?rule_id=System.SourceDropOff")
    assert "No data from teleport-prod" in listing.content.decode()
