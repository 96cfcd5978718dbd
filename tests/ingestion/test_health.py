"""Health: hourly stats, "Waiting for data" → "Healthy", the drop-off alarm."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ingestion.health import add_hourly, check_drop_off, mark_events_arrived, sparkline
from ingestion.models import HourlyStats
from sources.models import Source
from tests.factories import SourceFactory


def has_alarm_field() -> bool:
    return any(f.name == "alarm_minutes" for f in Source._meta.get_fields())


@pytest.fixture
def alarmed_source(db):
    if not has_alarm_field():
        pytest.skip("Source.alarm_minutes is not there yet (onboarding adds it)")
    return SourceFactory(alarm_minutes=30, health=Source.Health.HEALTHY)


def test_first_events_turn_waiting_into_healthy(db):
    source = SourceFactory(health=Source.Health.WAITING)

    mark_events_arrived(source.pk)

    source.refresh_from_db()
    assert source.health == Source.Health.HEALTHY
    assert source.last_event_at is not None


def test_a_paused_source_stays_paused_when_events_arrive(db):
    source = SourceFactory(health=Source.Health.PAUSED, paused=True)

    mark_events_arrived(source.pk)

    source.refresh_from_db()
    assert source.health == Source.Health.PAUSED


def test_hourly_stats_add_up_per_log_type_and_hour(db):
    source = SourceFactory()
    now = timezone.now()

    add_hourly(source.pk, events_by_log_type={"A": 3, "B": 1}, when=now)
    add_hourly(source.pk, events_by_log_type={"A": 2}, failures=4, bytes_read=100, when=now)
    add_hourly(source.pk, events_by_log_type={"A": 5}, when=now - timedelta(hours=2))

    assert (
        HourlyStats.objects.get(
            source=source, log_type="A", hour=now.replace(minute=0, second=0, microsecond=0)
        ).events
        == 5
    )
    assert sparkline(source.pk, hours=3, now=now) == [5, 0, 6]
    assert sum(HourlyStats.objects.values_list("failures", flat=True)) == 4


def test_the_drop_off_alarm_marks_a_silent_source_unhealthy_with_a_reason(alarmed_source):
    Source.objects.filter(pk=alarmed_source.pk).update(
        last_event_at=timezone.now() - timedelta(minutes=45)
    )

    assert check_drop_off() == [alarmed_source.pk]

    alarmed_source.refresh_from_db()
    assert alarmed_source.health == Source.Health.UNHEALTHY
    assert "No data for 30 minutes" in alarmed_source.health_reason


def test_the_alarm_leaves_a_source_with_recent_data_alone(alarmed_source):
    Source.objects.filter(pk=alarmed_source.pk).update(
        last_event_at=timezone.now() - timedelta(minutes=5)
    )

    assert check_drop_off() == []


def test_data_after_an_alarm_makes_the_source_healthy_again(alarmed_source):
    Source.objects.filter(pk=alarmed_source.pk).update(
        health=Source.Health.UNHEALTHY, health_reason="No data for 30 minutes"
    )

    mark_events_arrived(alarmed_source.pk)

    alarmed_source.refresh_from_db()
    assert (alarmed_source.health, alarmed_source.health_reason) == ("healthy", "")


def test_one_lister_per_source_at_a_time(db, settings):
    from ingestion import locks
    from ingestion.tasks import poll_source

    source = SourceFactory(config={"bucket": "b", "discovery": "listing"})

    with locks.held(f"poll:{source.pk}", timeout=30) as mine:
        assert mine
        assert poll_source(source.pk) == 0  # another lister holds the lock: nothing listed
        with locks.held(f"poll:{source.pk}", timeout=30) as again:
            assert not again
