"""Health as written: hourly stats, what events prove at once, and `check_all` gathering the
facts of every source (the database, Redis and a real SQS queue on moto) every 30 s."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ingestion.health import add_hourly, check_all, mark_events_arrived
from ingestion.models import ObjectLedger
from sources import runtime, services, stats
from sources.models import HourlyStats, Source, VerificationRun
from tests.factories import SourceFactory

LISTING = {"account_id": "123456789012", "bucket": "b", "discovery": "listing"}


def minutes_ago(minutes: float):
    return timezone.now() - timedelta(minutes=minutes)


def set_up_minutes_ago(source: Source, minutes: float) -> None:
    Source.objects.filter(pk=source.pk).update(
        created_at=minutes_ago(minutes), updated_at=minutes_ago(minutes)
    )


@pytest.fixture
def alarmed_source(db):
    return SourceFactory(alarm_minutes=30, health=Source.Health.HEALTHY, config=LISTING)


# --- hourly stats -----------------------------------------------------------------------------
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
    assert stats.hourly_events([source.pk], hours=3, now=now)[source.pk] == [5, 0, 6]
    assert sum(HourlyStats.objects.values_list("failures", flat=True)) == 4


# --- what events prove at once ----------------------------------------------------------------
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


def test_data_after_a_drop_off_alarm_makes_the_source_healthy_again(alarmed_source):
    Source.objects.filter(pk=alarmed_source.pk).update(
        health=Source.Health.UNHEALTHY,
        health_reason="No data for 30 minutes",
        health_rule="drop_off",
    )

    mark_events_arrived(alarmed_source.pk)

    alarmed_source.refresh_from_db()
    assert (alarmed_source.health, alarmed_source.health_reason) == ("healthy", "")


def test_data_does_not_hide_a_problem_it_does_not_disprove(db):
    reason = "No worker serves the receive queue: start one (./run starts them)."
    source = SourceFactory(health=Source.Health.UNHEALTHY, health_reason=reason)
    Source.objects.filter(pk=source.pk).update(health_rule="no_worker")

    mark_events_arrived(source.pk)

    source.refresh_from_db()
    assert (source.health, source.health_reason) == ("unhealthy", reason)


def test_a_passing_verification_leaves_other_problems_to_the_health_check(db):
    from sources.health import verification_finished

    reason = "No worker serves the ingest queue: start one (./run starts them)."
    source = SourceFactory(health=Source.Health.UNHEALTHY, health_reason=reason)
    Source.objects.filter(pk=source.pk).update(health_rule="no_worker")
    run = VerificationRun.objects.create(
        source=source, transport="s3", config=source.config, status="passed"
    )

    verification_finished(run)

    source.refresh_from_db()
    assert source.health_reason == reason


def test_pausing_and_resuming_set_the_health_through_the_health_module(db):
    source = SourceFactory(health=Source.Health.UNHEALTHY, health_reason="Backlog: …")

    services.set_paused(source, True)
    source.refresh_from_db()
    assert (source.health, source.health_rule) == ("paused", "paused")
    assert source.health_reason == "Paused: nothing is received or read until it is resumed."

    services.set_paused(source, False)
    source.refresh_from_db()
    assert (source.health, source.health_reason) == ("waiting", "")


# --- check_all: the facts of every source -----------------------------------------------------
def test_the_drop_off_alarm_marks_a_silent_source_unhealthy_with_a_reason(
    alarmed_source, worker_registry
):
    worker_registry.announce_layout()
    runtime.mark_received(alarmed_source.pk)  # listed a moment ago: only the data is missing
    Source.objects.filter(pk=alarmed_source.pk).update(last_event_at=minutes_ago(45))

    reasons = check_all()

    alarmed_source.refresh_from_db()
    assert reasons == {alarmed_source.pk: alarmed_source.health_reason}
    assert alarmed_source.health == Source.Health.UNHEALTHY
    assert alarmed_source.health_reason.startswith("No data for 30 minutes (last event ")
    assert alarmed_source.health_rule == "drop_off"


def test_the_alarm_leaves_a_source_with_recent_data_alone(alarmed_source, worker_registry):
    worker_registry.announce_layout()
    runtime.mark_received(alarmed_source.pk)
    Source.objects.filter(pk=alarmed_source.pk).update(last_event_at=minutes_ago(5))

    assert check_all() == {}

    alarmed_source.refresh_from_db()
    assert (alarmed_source.health, alarmed_source.health_reason) == ("healthy", "")
    assert alarmed_source.health_checked_at is not None
    assert alarmed_source.backlog["queue"] is False
    assert alarmed_source.backlog["objects_pending"] == 0


def test_new_sources_get_the_drop_off_alarm_by_default(db):
    source = services.create_source(
        name="teleport-default", transport="s3", log_types=[], config=LISTING
    )
    assert source.alarm_minutes == 60
    assert SourceFactory().alarm_minutes == 60


def test_objects_pending_for_long_are_a_backlog_with_their_count_and_age(db, worker_registry):
    worker_registry.announce_layout()
    source = SourceFactory(config=LISTING, last_event_at=timezone.now())
    runtime.mark_received(source.pk)
    for key in ("a.json.gz", "b.json.gz"):
        ObjectLedger.objects.create(source=source, bucket="b", key=key)
    ObjectLedger.objects.filter(source=source, key="a.json.gz").update(updated_at=minutes_ago(9))

    check_all()

    source.refresh_from_db()
    assert source.health == Source.Health.UNHEALTHY
    assert source.health_reason == "Backlog: 2 objects wait to be read, the oldest for 9 minutes."
    assert source.backlog["objects_pending"] == 2


def test_paused_sources_are_measured_but_stay_paused(db, worker_registry):
    source = SourceFactory(config=LISTING, paused=True, health=Source.Health.PAUSED)

    check_all()

    source.refresh_from_db()
    assert source.health == Source.Health.PAUSED
    assert source.health_checked_at is not None


@pytest.mark.e2e
def test_a_queue_with_messages_and_no_receiver_is_unhealthy_with_its_backlog_stored(
    sqs_source, worker_registry
):
    source, sqs, queue_url = sqs_source
    for n in range(5):
        sqs.send_message(QueueUrl=queue_url, MessageBody=f'{{"n": {n}}}')
    taken = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=2, VisibilityTimeout=300)
    assert len(taken["Messages"]) == 2
    worker_registry.announce_layout()  # workers run, but nothing has received from this queue
    set_up_minutes_ago(source, 10)

    check_all()

    source.refresh_from_db()
    assert source.health == Source.Health.UNHEALTHY
    assert source.health_rule == "receive_overdue"
    assert source.health_reason.startswith(
        "No receive from the queue has answered since it was set up for 10 minutes"
    )
    assert source.health_reason.endswith("; 3 messages wait in the queue.")
    assert source.backlog["visible"] == 3
    assert source.backlog["in_flight"] == 2
    assert source.backlog["queue"] is True
    assert source.backlog["last_receive_at"] is None


@pytest.mark.e2e
def test_without_workers_the_reason_is_the_missing_workers_and_the_backlog_is_still_stored(
    sqs_source, worker_registry
):
    source, sqs, queue_url = sqs_source
    sqs.send_message(QueueUrl=queue_url, MessageBody="{}")

    assert check_all() == {
        source.pk: "No worker serves the receive and ingest queues: start them (./run starts them)."
    }

    source.refresh_from_db()
    assert source.health == Source.Health.UNHEALTHY
    assert source.backlog["visible"] == 1


@pytest.mark.e2e
def test_an_aws_error_becomes_the_reason_and_the_other_sources_are_still_checked(
    sqs_source, worker_registry
):
    source, _sqs, queue_url = sqs_source
    worker_registry.announce_layout()
    missing = SourceFactory(
        transport="sqs",
        config={"queue_url": queue_url.replace("teleport-events", "no-such-queue")},
    )

    reasons = check_all()

    missing.refresh_from_db()
    assert missing.health == Source.Health.UNHEALTHY
    assert missing.health_reason.startswith("Cannot read the queue's backlog: ")
    assert "exist" in missing.health_reason.lower()
    assert missing.backlog["visible"] is None
    assert reasons[missing.pk] == missing.health_reason
    source.refresh_from_db()
    assert source.health_checked_at is not None
    assert source.backlog["visible"] == 0


@pytest.mark.e2e
def test_in_the_real_layout_beat_checks_health_and_notices_a_dead_ingest_worker(
    sqs_source, workers
):
    """./run's processes with beat: events flow, the health check stores an empty backlog and a
    recent receive, and says Healthy; the ingest worker killed, it says which worker is missing."""
    from devtools.generate import generate_lines
    from events.models import Event
    from tests.conftest import wait_until
    from tests.layout import WORKERS

    source, sqs, queue_url = sqs_source
    for line in generate_lines(20, 5):
        sqs.send_message(QueueUrl=queue_url, MessageBody=line.decode())
    workers.start([*WORKERS, "beat"])

    def checked_after_data() -> Source | None:
        fresh = Source.objects.get(pk=source.pk)
        if not (fresh.last_event_at and fresh.health_checked_at and fresh.backlog):
            return None
        return fresh if fresh.health_checked_at > fresh.last_event_at else None

    fresh = wait_until(checked_after_data, timeout=120, what="a health check after the events")
    assert Event.objects.filter(source=source).count() == 20
    assert (fresh.health, fresh.health_reason) == ("healthy", "")
    assert (fresh.backlog["visible"], fresh.backlog["in_flight"]) == (0, 0)

    workers.kill(["ingest"])
    fresh = wait_until(
        lambda: (s := Source.objects.get(pk=source.pk)).health_rule == "no_worker" and s,
        timeout=120,
        what="the health check noticing the dead ingest worker",
    )
    assert fresh.health_reason == (
        "No worker serves the ingest queue: start one (./run starts them)."
    )


def test_one_lister_per_source_at_a_time(db, settings):
    from ingestion import locks
    from ingestion.tasks import poll_source

    source = SourceFactory(config={"bucket": "b", "discovery": "listing"})

    with locks.held(f"poll:{source.pk}", timeout=30) as mine:
        assert mine
        assert poll_source(source.pk) == 0  # another lister holds the lock: nothing listed
        with locks.held(f"poll:{source.pk}", timeout=30) as again:
            assert not again
