"""Indicator arrays answer `__has` on both PostgreSQL (text[] @>) and SQLite (json_each)."""

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

    assert list(Event.objects.filter(p_any_ip_addresses__has="10.0.0.1")) == [hit]


def test_has_treats_the_value_as_data_not_sql():
    EventFactory(p_any_usernames=["alice"])
    assert not Event.objects.filter(p_any_usernames__has="' OR 1=1 --").exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_has_is_answered_by_the_partial_gin_index():
    """The GIN indexes skip empty arrays; the lookup must repeat that predicate to use them."""
    EventFactory(p_any_ip_addresses=["10.0.0.1"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Event.objects.filter(p_any_ip_addresses__has="10.0.0.1").explain()
    assert re.search(r"Bitmap Index Scan on \S*p_any_ip_addresses\S*", plan), plan
