"""The events table by day: partitions made on demand, exactly-once writes, wild timestamps kept,
retention by whole partitions, and the conversion of a table that already holds events."""

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from audit.models import ApiToken
from events.models import Event, EventMinuteCount, EventOrigin
from events.partitions import (
    DEFAULT_PARTITION,
    ensure_partitions,
    partition_name,
)
from events.retention import purge_expired
from events.store import write_batch
from parsers import ParsedEvent
from tests.factories import SourceFactory

NOW = datetime.now(UTC).replace(microsecond=0)  # reset as each test starts (conftest.py)
postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


def event(line: int, when: datetime, *, key: str = "k.json", user: str = "alice") -> ParsedEvent:
    """A parsed event whose row id derives from (object, line), like the parser's."""
    return ParsedEvent(
        row_id=hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + f"{line:08x}",
        log_type="Gravitational.TeleportAudit",
        event_time=when,
        parse_time=NOW,
        fields={"event": "user.login", "code": "T1000I", "user": user},
        extra={},
        indicators={"p_any_usernames": [user]},
        warnings=0,
        line=line,
    )


def write(events, key="k.json", source_id=None):
    return write_batch(events, [], source_id=source_id, object_key=key, object_version="")


def partition_of(row_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM events_event WHERE p_row_id = %s", [row_id]
        )
        return cursor.fetchone()[0]


def exists(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return cursor.fetchone()[0]


def minute_total() -> int:
    return sum(EventMinuteCount.objects.values_list("count", flat=True))


@postgresql_only
@pytest.mark.django_db
def test_the_writer_makes_the_day_partitions_its_batch_needs():
    two_days_ago, today = NOW - timedelta(days=2), NOW
    assert write([event(1, two_days_ago), event(2, today)]).inserted == 2

    assert partition_of(event(1, two_days_ago).row_id) == partition_name(two_days_ago.date())
    assert partition_of(event(2, today).row_id) == partition_name(today.date())
    assert minute_total() == 2


@pytest.mark.django_db
def test_a_line_written_again_with_another_time_is_still_a_duplicate():
    """No timestamp field: the event time is the parse time, so a re-read differs in time."""
    first = write([event(1, NOW - timedelta(hours=3)), event(2, NOW - timedelta(hours=3))])
    again = write([event(1, NOW), event(2, NOW - timedelta(days=1)), event(3, NOW)])

    assert (first.inserted, again.inserted, again.duplicates) == (2, 1, 2)
    assert sorted(Event.objects.values_list("line", flat=True)) == [1, 2, 3]


@pytest.mark.django_db
def test_the_same_row_twice_in_one_batch_is_stored_once():
    result = write([event(1, NOW), event(1, NOW - timedelta(minutes=5))])
    assert (result.inserted, result.duplicates) == (1, 1)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_object_store_each_line_once():
    batches = [
        [event(line, NOW - timedelta(minutes=writer + line)) for line in range(1, 201)]
        for writer in range(4)
    ]  # same lines, different times per writer (as parse-time fallbacks would be)
    start = threading.Barrier(len(batches))
    inserted, errors = [], []

    def run(batch):
        try:
            start.wait()
            inserted.append(write(batch).inserted)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(inserted) == Event.objects.count() == 200
    assert Event.objects.values("p_row_id").distinct().count() == 200
    assert minute_total() == 200


@pytest.mark.django_db
def test_wild_timestamps_are_kept_and_searchable(client, viewer):
    wild = [datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC), datetime(2099, 12, 31, 23, tzinfo=UTC)]
    assert write([event(1, wild[0], user="epoch"), event(2, wild[1], user="future")]).inserted == 2
    token = ApiToken.objects.issue(viewer, "tests")[1]

    for moment, user in zip(wild, ["epoch", "future"], strict=True):
        body = client.get(
            "/api/v1/events",
            {
                "start": (moment - timedelta(hours=1)).isoformat(),
                "end": (moment + timedelta(hours=1)).isoformat(),
                "q": f"user:{user}",
            },
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ).json()
        assert [row["user"] for row in body["results"]] == [user]
    if connection.vendor == "postgresql":
        assert {partition_of(event(n, wild[n - 1]).row_id) for n in (1, 2)} == {DEFAULT_PARTITION}


@postgresql_only
@pytest.mark.django_db
def test_rows_parked_in_the_default_partition_move_when_their_day_gets_one():
    in_five_days = NOW + timedelta(days=5)  # beyond tomorrow: no partition yet
    write([event(1, in_five_days)])
    assert partition_of(event(1, in_five_days).row_id) == DEFAULT_PARTITION

    created = ensure_partitions([in_five_days], now=in_five_days)

    assert created == [partition_name(in_five_days.date())]
    assert partition_of(event(1, in_five_days).row_id) == created[0]
    assert Event.objects.count() == minute_total() == 1


@pytest.mark.django_db(transaction=True)  # as in production: the events were committed before
def test_retention_drops_whole_days_and_deletes_the_boundary_rows():
    cutoff = (NOW - timedelta(days=10)).replace(hour=12, minute=0, second=0)
    old_day = [event(n, cutoff - timedelta(days=2, minutes=n)) for n in range(1, 6)]
    boundary_before = [event(n, cutoff - timedelta(hours=1, minutes=n)) for n in range(6, 9)]
    boundary_after = [event(n, cutoff + timedelta(hours=1, minutes=n)) for n in range(9, 11)]
    recent = [event(11, NOW - timedelta(hours=1))]
    write(old_day + boundary_before + boundary_after + recent)
    write([event(1, cutoff - timedelta(days=3), key="gone.json")], key="gone.json")

    assert purge_expired(cutoff, batch=2) == 5 + 3 + 1

    kept = sorted(Event.objects.values_list("line", flat=True))
    assert kept == [9, 10, 11]
    assert EventOrigin.objects.count() == (1 if connection.vendor == "postgresql" else 0)
    if connection.vendor == "postgresql":
        assert minute_total() == 3
        assert not exists(partition_name((cutoff - timedelta(days=2)).date()))
        assert exists(partition_name(cutoff.date()))  # the boundary day stays


@postgresql_only
@pytest.mark.django_db
def test_a_partition_holding_todays_events_is_never_dropped():
    write([event(1, NOW)])
    assert purge_expired(NOW - timedelta(days=1)) == 0
    assert Event.objects.count() == 1
    assert exists(partition_name(NOW.date()))


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_seed_events_makes_its_partitions_and_rebuilds_deferred_indexes_on_each():
    from django.core.management import call_command

    call_command(
        "seed_events", "--events", "300", "--days", "3", "--workers", "2", "--defer-indexes"
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM events_event GROUP BY 1 ORDER BY 1"
        )
        per_partition = dict(cursor.fetchall())
        cursor.execute(
            "SELECT tablename, count(*) FROM pg_indexes WHERE tablename LIKE 'events_event%%' "
            "GROUP BY 1"
        )
        indexes = dict(cursor.fetchall())
    assert sum(per_partition.values()) == minute_total() == 300
    assert DEFAULT_PARTITION not in per_partition
    assert len(per_partition) >= 3  # three days (four when the window starts mid-day)
    assert {indexes[name] for name in per_partition} == {indexes["events_event"]}


@postgresql_only
@pytest.mark.django_db
def test_the_table_keeps_only_indexes_searches_use():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'events_event'")
        definitions = [row[0] for row in cursor.fetchall()]
    assert not [d for d in definitions if "pattern_ops" in d]  # ILIKE wildcards cannot use them
    gin = [d for d in definitions if "USING gin" in d]
    assert len(gin) == 1  # one index for every indicator kind (p_any)
    assert "(p_any)" in gin[0]
    assert "<> '{}'::text[]" in gin[0]  # partial: events without indicators are not indexed


# --- the conversion of an existing table (migration 0004) ---------------------------------------
@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_migration_partitions_a_table_that_already_holds_events():
    from django.db.migrations.executor import MigrationExecutor

    # after: the newest migration, so the writer's columns (p_any) exist
    before, after = [("events", "0003_minute_counts")], [("events", "0007_one_indicator_array")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    source = SourceFactory()
    times = [NOW - timedelta(days=d, minutes=d) for d in (0, 1, 5)] + [
        datetime(1999, 1, 1, tzinfo=UTC)
    ]
    with connection.cursor() as cursor:
        for line, moment in enumerate(times, start=1):
            cursor.execute(
                "INSERT INTO events_event (p_row_id, p_log_type, source_id, p_event_time, "
                "p_parse_time, fields, p_extra, object_key, object_version, line, "
                "p_any_ip_addresses, p_any_domain_names, p_any_trace_ids, p_any_usernames, "
                "p_any_emails, p_any_aws_arns, p_any_aws_account_ids, p_any_aws_instance_ids, "
                "p_any_aws_tags, p_any_md5_hashes, p_any_sha1_hashes, p_any_sha256_hashes) "
                "VALUES (%s, 'Gravitational.TeleportAudit', %s, %s, %s, '{}', '{}', 'old.json', "
                "'', %s, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')",
                [event(line, moment, key="old.json").row_id, source.pk, moment, moment, line],
            )
        cursor.execute("SELECT id FROM events_event ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)

    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'events_event'::regclass")
        assert cursor.fetchone()[0] == "p"
    assert sorted(Event.objects.values_list("id", flat=True)) == ids
    assert minute_total() == 4
    assert partition_of(event(1, times[0], key="old.json").row_id) == partition_name(
        times[0].date()
    )
    assert partition_of(event(4, times[3], key="old.json").row_id) == DEFAULT_PARTITION
    # the origin's time range came along: re-reading the old object, at other times, adds nothing
    again = [event(line, NOW, key="old.json") for line in range(1, 5)]
    result = write_batch(again, [], source_id=source.pk, object_key="old.json", object_version="")
    assert (result.inserted, result.duplicates) == (0, 4)
    fresh = write([event(1, NOW, key="new.json")], key="new.json")
    assert fresh.inserted == 1
    assert Event.objects.get(object_key="new.json").id > max(ids)

    executor = MigrationExecutor(connection)  # and back: a plain table with the same rows
    executor.migrate(before)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relkind, (SELECT count(*) FROM events_event) FROM pg_class "
            "WHERE oid = 'events_event'::regclass"
        )
        assert cursor.fetchone() == ("r", 5)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the rest of the suite needs the latest
    assert Event.objects.count() == minute_total() == 5
