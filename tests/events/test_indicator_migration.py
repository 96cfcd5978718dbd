"""Migration 0007 carries the twelve p_any_* arrays into the one p_any array, and back."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from events.models import Event

BEFORE = [("events", "0006_drop_pattern_indexes")]
AFTER = [("events", "0007_one_indicator_array")]
WHEN = datetime(2026, 11, 30, 12, tzinfo=UTC)


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_existing_indicators_move_into_p_any_and_back():
    old_event = migrate(BEFORE).get_model("events", "Event")
    common = {"p_log_type": "T", "p_event_time": WHEN, "p_parse_time": WHEN}
    old_event.objects.create(
        p_row_id="a" * 32,
        p_any_ip_addresses=["10.0.0.1", "10.0.0.2"],
        p_any_usernames=["alice"],
        p_any_sha256_hashes=["ab" * 32],
        **common,
    )
    old_event.objects.create(p_row_id="b" * 32, **common)

    migrate(AFTER)
    first = Event.objects.get(p_row_id="a" * 32)
    assert first.p_any == ["ip:10.0.0.1", "ip:10.0.0.2", "username:alice", f"sha256:{'ab' * 32}"]
    assert first.p_any_ip_addresses == ["10.0.0.1", "10.0.0.2"]
    assert Event.objects.get(p_row_id="b" * 32).p_any == []
    assert list(Event.objects.filter(p_any__has="username:alice")) == [first]

    old_event = migrate(BEFORE).get_model("events", "Event")
    back = old_event.objects.get(p_row_id="a" * 32)
    assert back.p_any_ip_addresses == ["10.0.0.1", "10.0.0.2"]
    assert back.p_any_usernames == ["alice"]
    assert back.p_any_sha256_hashes == ["ab" * 32]
    assert back.p_any_domain_names == []
    migrate(AFTER)
