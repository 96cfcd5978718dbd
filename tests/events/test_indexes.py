"""Which index answers which search (PostgreSQL): the plans of the search page's first page.

A partitioned index names its per-partition indexes itself (events_event_default_expr_idx3, ...),
so a plan is checked for the children of the index the test names."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from events.models import Event
from events.search import PAGE_SIZE, SearchState
from tests.factories import EventFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]

NOW = datetime.now(UTC)  # reset as each test starts (conftest.py)


def first_page_plan(q: str, range_: str = "7d") -> str:
    return SearchState(q=q, range=range_).events()[: PAGE_SIZE + 1].explain()


def partition_indexes(index: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [index],
        )
        return {row[0] for row in cursor.fetchall()} | {index}


def uses(plan: str, index: str) -> bool:
    """The plan scans `index` on some partition ("Index Scan using <child>", "Bitmap Index
    Scan on <child>")."""
    names = partition_indexes(index)
    return any(
        word in ("using", "on") and name in names
        for line in plan.splitlines()
        for word, name in zip(line.split(), line.split()[1:], strict=False)
    )


@pytest.fixture
def events():
    """3,000 events over the week, a few of them logins of alice (one in three failed), the
    rest session commands of other users and sessions; analyzed, so the planner knows that."""
    rows = []
    for n in range(3000):
        common = {"event": "session.command", "user": f"user-{n % 7}", "sid": f"s-{n // 50}"}
        rare = {"event": "user.login", "user": "alice", "success": n % 3 != 0, "sid": "s-alice"}
        rows.append(
            EventFactory.build(
                source=None,
                p_event_time=NOW - timedelta(minutes=n * 3),
                fields=rare if n % 100 == 0 else common,
            )
        )
    Event.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE events_event")


def test_failed_events_of_one_type_walk_the_failed_events_index(events):
    plan = first_page_plan("event:user.login success:false")
    assert uses(plan, "event_failed_time"), plan


def test_an_event_type_walks_the_event_index(events):
    plan = first_page_plan("event:user.login")
    assert uses(plan, "event_event_time"), plan
    assert not uses(plan, "event_failed_time"), plan  # it holds failed events only


def test_a_user_and_a_session_walk_their_indexes(events):
    plan = first_page_plan("user:alice")
    assert uses(plan, "event_user_time"), plan
    plan = first_page_plan("sid:s-alice")
    assert uses(plan, "event_sid_time"), plan


def test_the_table_has_no_index_for_code():
    """Dropped by migration 0008: it cost ingestion about as much as the row; `event:` and
    `success:` find the same events (bench/indexes.py --each, README Performance)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'events_event'")
        names = {row[0] for row in cursor.fetchall()}
    assert "event_failed_time" in names
    assert "event_login_time" in names  # a rare login must not walk the whole window
    assert "event_code_time" not in names
