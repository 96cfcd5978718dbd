"""seed_events: generated lines through the real parser into the events table (COPY on PG)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from events.models import Event
from events.seed import plan_chunks
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_events_loads_parsed_teleport_events_over_the_window(capsys):
    source = SourceFactory(name="demo")
    call_command("seed_events", "--events", "300", "--days", "2", "--seed", "3", "--source", "demo")
    assert Event.objects.count() == 300
    assert set(Event.objects.values_list("source_id", flat=True)) == {source.pk}
    times = Event.objects.values_list("p_event_time", flat=True)
    now = datetime.now(UTC)
    assert all(now - timedelta(days=2, minutes=1) <= t <= now for t in times)
    assert Event.objects.filter(fields__event="user.login").exists()
    assert any(event.p_any_ip_addresses for event in Event.objects.all())
    assert "Seeded 300 events" in capsys.readouterr().out


def test_seed_events_is_deterministic_per_seed():
    call_command("seed_events", "--events", "50", "--seed", "11")
    first = set(Event.objects.values_list("p_row_id", flat=True))
    Event.objects.all().delete()
    call_command("seed_events", "--events", "50", "--seed", "11")
    assert set(Event.objects.values_list("p_row_id", flat=True)) == first


@pytest.mark.parametrize("args", [["--events", "0"], ["--events", "5", "--source", "nope"]])
def test_seed_events_refuses_bad_arguments(args):
    with pytest.raises(CommandError):
        call_command("seed_events", *args)


def test_plan_chunks_covers_the_count_and_the_window():
    end = datetime(2026, 11, 27, tzinfo=UTC)
    chunks = plan_chunks(120_001, days=30, seed=1, end=end, source_id=None)
    assert sum(c.count for c in chunks) == 120_001
    assert chunks[0].start == end - timedelta(days=30)
    assert chunks[-1].start + chunks[-1].span == end
