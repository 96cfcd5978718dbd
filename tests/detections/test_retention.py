"""Alerts and rule matches go with their events: the retention task and `purge_events` delete
alerts whose last event is older than the retention, with their matches and comments."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from detections.models import Alert, AlertComment, Match
from events.models import Event
from events.tasks import purge_expired_events
from tests.factories import AlertFactory, EventFactory

pytestmark = pytest.mark.django_db


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def alerts(settings):
    settings.SLUICE_EVENT_RETENTION = timedelta(days=10)
    old = AlertFactory(first_event_time=days_ago(12), last_event_time=days_ago(11))
    AlertComment.objects.create(alert=old, body="seen")
    spanning = AlertFactory(
        first_event_time=days_ago(11),
        last_event_time=days_ago(9),
        event_count=2,
        events=[EventFactory(p_event_time=days_ago(11)), EventFactory(p_event_time=days_ago(9))],
    )
    recent = AlertFactory(first_event_time=days_ago(1))
    below_threshold = Match.objects.create(
        rule_id="Test.FailedLogins",
        p_row_id="old-unalerted",
        p_event_time=days_ago(11),
        p_log_type="Gravitational.TeleportAudit",
        dedup="x",
        dedup_key="k" * 32,
        title="x",
        severity="low",
        window_start=days_ago(11),
    )
    return {"old": old, "spanning": spanning, "recent": recent, "unalerted": below_threshold}


def test_retention_purges_alerts_whose_last_event_is_past_it_with_their_matches(alerts):
    purge_expired_events()

    assert set(Alert.objects.values_list("pk", flat=True)) == {
        alerts["spanning"].pk,
        alerts["recent"].pk,
    }
    assert not Match.objects.filter(alert_id=alerts["old"].pk).exists()
    assert not AlertComment.objects.exists()
    assert not Match.objects.filter(pk=alerts["unalerted"].pk).exists()
    # an alert that also holds newer events keeps all its matches (its older event is gone)
    assert Match.objects.filter(alert=alerts["spanning"]).count() == 2
    assert Match.objects.filter(alert=alerts["recent"]).count() == 1
    assert Event.objects.count() == 2


def test_purge_events_says_what_it_deleted_of_detections(alerts, capsys):
    call_command("purge_events", "--days", "10", "--batch", "1")

    out = capsys.readouterr().out
    assert "Deleted 1 alerts and 2 rule matches of those events" in out
    assert Alert.objects.count() == 2
