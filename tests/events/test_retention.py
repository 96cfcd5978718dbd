"""Retention deletes events older than the setting, in batches, and nothing newer."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from events.models import Event
from events.tasks import purge_expired_events
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)  # reset as each test starts (conftest.py)


def test_purge_removes_only_events_past_retention(settings):
    settings.SLUICE_EVENT_RETENTION = timedelta(days=10)
    old = [EventFactory(p_event_time=NOW - timedelta(days=11, minutes=i)) for i in range(7)]
    kept = EventFactory(p_event_time=NOW - timedelta(days=9))
    assert purge_expired_events() == len(old)
    assert list(Event.objects.all()) == [kept]


def test_purge_command_works_in_small_batches(capsys):
    for i in range(5):
        EventFactory(p_event_time=NOW - timedelta(days=3, minutes=i))
    EventFactory(p_event_time=NOW)
    call_command("purge_events", "--days", "2", "--batch", "2")
    assert Event.objects.count() == 1
    assert "Deleted 5 events" in capsys.readouterr().out
