"""The indicator array (p_any) answers `__has` on both PostgreSQL (text[] @>) and SQLite
(json_each); the per-kind p_any_* lists are read from it."""

import re

import pytest
from django.db import connection

from events.models import Event
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


def test_indicator_values_round_trip():
    event = EventFactory(p_any_ip_addresses=["10.0.0.1", "2001:db8::1"])
    event.refresh_from_db()
    assert event.p_any_ip_addresses == ["10.0.0.1", "2001:db8::1"]


def test_has_finds_events_holding_the_value_and_only_those():
    hit = EventFactory(p_any_ip_addresses=["10.0.0.1", "10.0.0.2"])
    EventFactory(p_any_ip_addresses=["10.0.0.10"])
    EventFactory(p_any_ip_addresses=[])

    assert list(Event.objects.filter(p_any__has="ip:10.0.0.1")) == [hit]


def test_has_treats_the_value_as_data_not_sql():
    EventFactory(p_any_usernames=["alice"])
    assert not Event.objects.filter(p_any__has="username:' OR 1=1 --").exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_has_is_answered_by_the_partial_gin_index():
    """The GIN index skips empty arrays; the lookup must repeat that predicate to use it."""
    EventFactory(p_any_ip_addresses=["10.0.0.1"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Event.objects.filter(p_any__has="ip:10.0.0.1").explain()
    assert re.search(r"Bitmap Index Scan on \S*p_any\S*", plan), plan


def test_each_kind_reads_its_own_entries():
    event = EventFactory(
        p_any_ip_addresses=["10.0.0.1"],
        p_any_usernames=["alice", "ip:not-an-ip"],
        p_any_trace_ids=["t-1"],
    )
    event.refresh_from_db()
    assert event.p_any == ["ip:10.0.0.1", "trace_id:t-1", "username:alice", "username:ip:not-an-ip"]
    assert event.p_any_usernames == ["alice", "ip:not-an-ip"]
    assert event.p_any_ip_addresses == ["10.0.0.1"]
    assert event.p_any_domain_names == []
