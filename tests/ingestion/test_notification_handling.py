"""One notification message, handled in-process against moto: delete, postpone, or leave it."""

import json

import pytest

from events.models import Event
from ingestion.models import ObjectLedger, StageError
from ingestion.tasks import celery_work
from sources.transports.aws import receive_batch

from .conftest import BUCKET, good_lines, gz, queue_is_empty

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_retries(settings):
    settings.SLUICE_INGEST_RETRY_BASE_SECONDS = 0
    settings.SLUICE_INGEST_MAX_ATTEMPTS = 2


def handle_message(source, queue_url, message) -> str:
    """What the ingest worker does with one notification: deleted, postponed or poison."""
    unit = {"queue_url": queue_url, "message": message}
    result = source.transport_impl.handle(source, source.settings, unit, celery_work(source))
    return result["verdict"]


def next_message(sqs, queue_url):
    (message,) = receive_batch(sqs, queue_url, wait=1)[:1]
    return message.as_dict()


def drop_test_event(sqs, queue_url):
    for message in receive_batch(sqs, queue_url, wait=1):
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message.receipt_handle)


def test_a_stored_object_deletes_its_message_and_a_repeat_is_skipped(s3_source, s3, sqs):
    queue_url = s3_source.config["queue_url"]
    drop_test_event(sqs, queue_url)
    s3.put_object(Bucket=BUCKET, Key="teleport/a.json.gz", Body=gz(good_lines(25, 4)))
    message = next_message(sqs, queue_url)

    assert handle_message(s3_source, queue_url, message) == "deleted"
    sqs.send_message(QueueUrl=queue_url, MessageBody=message["body"])
    again = next_message(sqs, queue_url)
    assert handle_message(s3_source, queue_url, again) == "deleted"

    assert Event.objects.count() == 25
    assert ObjectLedger.objects.get().attempts == 1
    assert queue_is_empty(sqs, queue_url)


def test_a_missing_object_is_retried_then_marked_failed(s3_source, sqs, fast_retries):
    queue_url = s3_source.config["queue_url"]
    drop_test_event(sqs, queue_url)
    record = {
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": BUCKET}, "object": {"key": "teleport/gone.json", "eTag": "e"}},
    }
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": [record]}))

    first = handle_message(s3_source, queue_url, next_message(sqs, queue_url))
    second = handle_message(s3_source, queue_url, next_message(sqs, queue_url))

    assert (first, second) == ("postponed", "deleted")
    row = ObjectLedger.objects.get()
    assert (row.status, row.attempts) == ("failed", 2)
    assert row.error.startswith("NoSuchKey")
    assert StageError.objects.get(source=s3_source, stage="get_object").message == row.error


def test_an_object_the_store_keeps_refusing_is_retried_then_marked_failed(
    s3_source, s3, sqs, fast_retries, monkeypatch
):
    def refuse(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("ingestion.process.write_batch", refuse)
    queue_url = s3_source.config["queue_url"]
    drop_test_event(sqs, queue_url)
    s3.put_object(Bucket=BUCKET, Key="teleport/b.json.gz", Body=gz(good_lines(5, 4)))

    first = handle_message(s3_source, queue_url, next_message(sqs, queue_url))
    second = handle_message(s3_source, queue_url, next_message(sqs, queue_url))

    assert (first, second) == ("postponed", "deleted")
    row = ObjectLedger.objects.get()
    assert (row.status, row.attempts) == ("failed", 2)
    assert row.error == "storing teleport/b.json.gz failed: RuntimeError: disk full"
    assert StageError.objects.get(source=s3_source, stage="store").message == row.error
    assert not Event.objects.exists()


def test_a_message_that_is_no_notification_is_left_for_the_redrive_policy(s3_source, sqs):
    queue_url = s3_source.config["queue_url"]
    drop_test_event(sqs, queue_url)
    sqs.send_message(QueueUrl=queue_url, MessageBody="hello")

    verdict = handle_message(s3_source, queue_url, next_message(sqs, queue_url))

    assert verdict == "poison"
    assert not queue_is_empty(sqs, queue_url)  # still there: maxReceiveCount moves it aside
    assert "not an S3 notification" in StageError.objects.get(stage="receive").message
