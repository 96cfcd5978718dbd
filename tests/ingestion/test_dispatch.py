"""Beat's fan-outs and the receivers: one pass per source queued or running, listings that stop
when the workers have enough, and receivers that leave a backlog in SQS rather than in Redis."""

import pytest
from celery.app.task import Task

from ingestion import locks, tasks
from ingestion.models import Checkpoint, ObjectLedger
from ingestion.work import SourceWork
from sources import runtime
from sources.models import Source
from tests.factories import SourceFactory

from .conftest import BUCKET, good_lines, gz


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, tuple]]:
    """Tasks sent to the broker, by name and arguments (nothing runs)."""
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(
        Task, "apply_async", lambda self, args=(), *a, **kw: sent.append((self.name, tuple(args)))
    )
    runtime.connection().flushdb()
    return sent


@pytest.fixture
def listing_source(db, s3):
    s3.create_bucket(Bucket=BUCKET)
    return SourceFactory(
        config={
            "account_id": "123456789012",
            "bucket": BUCKET,
            "region": "us-east-1",
            "prefixes": [{"prefix": "teleport/", "log_types": ["Gravitational.TeleportAudit"]}],
            "discovery": "listing",
            "list_interval_minutes": 5,
        }
    )


def list_pass(source: Source, handed: list[str], **work):
    """One listing pass by the source's transport, the keys it hands out appended to `handed`."""
    work = SourceWork(
        source,
        hand_out=lambda unit: None,
        hand_out_object=lambda ref: handed.append(ref.key),
        **work,
    )
    return source.transport_impl.receive_pass(source, source.settings, work)


def put_objects(s3, count: int) -> list[str]:
    keys = [f"teleport/2026/11/27/10/{n:04d}.json.gz" for n in range(count)]
    for n, key in enumerate(keys):
        s3.put_object(Bucket=BUCKET, Key=key, Body=gz(good_lines(3, n)))
    return keys


def queue_source(**config) -> Source:
    return SourceFactory(
        transport="sqs",
        config={"queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/q", **config},
    )


def test_beat_queues_one_receive_pass_per_source_until_that_pass_has_run(db, queued):
    first, second = queue_source(), queue_source()

    assert tasks.start_passes() == 2
    assert tasks.start_passes() == 0  # both passes are still queued: nothing more is sent
    poll = "ingestion.tasks.poll_source"
    assert sorted(queued) == sorted([(poll, (first.pk,)), (poll, (second.pk,))])

    locks.release_claim(f"poll:{first.pk}")  # what poll_source does when its pass ends
    assert tasks.start_passes() == 1
    assert queued[-1] == ("ingestion.tasks.poll_source", (first.pk,))


def test_a_paused_source_gets_no_receive_pass(db, queued):
    queue_source()
    Source.objects.update(paused=True)

    assert tasks.start_passes() == 0
    assert queued == []


def test_a_finished_receive_pass_releases_its_claim_so_beat_can_queue_the_next(
    sqs_source, queued, ingest_env
):
    source, _, _ = sqs_source
    assert tasks.start_passes() == 1

    tasks.poll_source.run(source.pk)  # an empty queue: the pass ends after its long polls

    assert tasks.start_passes() == 1


def test_receivers_stop_handing_out_work_while_the_ingest_queue_is_full(db, settings):
    settings.SLUICE_INGEST_HIGH_WATER = 3
    client = runtime.connection()
    client.delete("ingest")
    assert tasks.ingest_has_room()

    client.rpush("ingest", *[b"{}"] * 3)

    assert not tasks.ingest_has_room()
    client.delete("ingest")


def test_a_listing_hands_out_every_new_object_once_and_says_it_reached_the_end(listing_source, s3):
    keys = put_objects(s3, 4)
    handed: list[str] = []

    result = list_pass(listing_source, handed)
    again = list_pass(listing_source, handed)

    assert (result.handed, result.complete) == (4, True)
    assert (again.handed, again.complete) == (0, True)  # dispatched, not yet due again
    assert handed == keys
    assert ObjectLedger.objects.filter(source=listing_source).count() == 4


def test_a_listing_stops_when_the_workers_have_enough_and_the_next_pass_resumes(listing_source, s3):
    keys = put_objects(s3, 25)
    handed: list[str] = []
    room = iter([True, False])  # asked before the 1st and the 11th object

    first = list_pass(listing_source, handed, keep_going=lambda: next(room, False))
    second = list_pass(listing_source, handed)

    assert (first.handed, first.complete) == (10, False)
    assert (second.handed, second.complete) == (15, True)
    assert handed == keys


def test_a_listing_reports_progress_for_every_page_and_object(listing_source, s3):
    put_objects(s3, 3)
    calls = []

    list_pass(listing_source, [], on_progress=lambda lag: calls.append(1))

    assert len(calls) == 1 + 3  # one page, three objects: a lister renews its lock that often


def test_an_object_whose_reader_went_silent_is_handed_out_again(listing_source, s3, settings):
    settings.SLUICE_INGEST_STALE_SECONDS = 0
    [key] = put_objects(s3, 1)
    list_pass(listing_source, [])
    ObjectLedger.objects.update(attempts=1)  # a worker started reading it, then died

    handed = []
    list_pass(listing_source, handed)

    assert handed == [key]


def test_an_object_dispatched_but_never_started_waits_for_the_dispatch_timeout(
    listing_source, s3, settings
):
    [key] = put_objects(s3, 1)
    list_pass(listing_source, [])
    handed = []

    list_pass(listing_source, handed)
    assert handed == []  # its task is probably still queued

    settings.SLUICE_INGEST_DISPATCH_TIMEOUT_SECONDS = 0
    list_pass(listing_source, handed)
    assert handed == [key]  # the task was lost (a broker restart): hand it out again


def test_a_complete_listing_is_not_due_again_before_its_interval(listing_source, s3, queued):
    put_objects(s3, 2)
    assert tasks.start_passes() == 1
    assert tasks.start_passes() == 0  # queued: not twice

    tasks.poll_source.run(listing_source.pk)  # lists to the end

    assert tasks.start_passes() == 0  # complete: the next pass waits for list_interval_minutes
    assert Checkpoint.objects.filter(source=listing_source).exists()


def test_an_incomplete_listing_is_due_again_at_once(listing_source, s3, queued, settings):
    put_objects(s3, 3)
    settings.SLUICE_LIST_MAX_OBJECTS = 2
    assert tasks.start_passes() == 1

    tasks.poll_source.run(listing_source.pk)  # stops after 2 of 3 objects

    assert tasks.start_passes() == 1


def test_a_pass_queued_before_its_source_was_paused_receives_nothing(sqs_source, queued):
    source, sqs, queue_url = sqs_source
    sqs.send_message(QueueUrl=queue_url, MessageBody=good_lines(1)[0].decode())
    assert tasks.start_passes() == 1
    Source.objects.filter(pk=source.pk).update(paused=True)

    assert tasks.poll_source.run(source.pk) == 0

    assert queued == [("ingestion.tasks.poll_source", (source.pk,))]  # no ingest task
    assert tasks.start_passes() == 0
