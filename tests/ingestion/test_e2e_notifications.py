"""End to end: objects land in a moto bucket, S3 notifies SQS, a real Celery worker reads them into
the events store. Exact counts of events and failures; the ledger, stats and health agree."""

import json

import pytest

from events.models import Event, Failure
from ingestion.models import ObjectLedger
from ingestion.tasks import poll_source
from sources.models import HourlyStats, Source
from tests.conftest import wait_until

from .conftest import BUCKET, good_lines, gz, queue_is_empty

pytestmark = pytest.mark.e2e

BAD = [b'{"event": "user.login", "time": ', b"this is not json", b"[1, 2, 3]"]


def drain(source, sqs, *, until, what: str) -> None:
    """Ask the worker for receive passes (one at a time) until the queue is empty and `until()`."""
    passes = []

    def settled() -> bool:
        if queue_is_empty(sqs, source.config["queue_url"]) and until():
            return True
        if not passes or passes[-1].ready():
            passes.append(poll_source.delay(source.pk))
        return False

    wait_until(settled, timeout=90, interval=0.5, what=what)


def test_objects_are_ingested_exactly_once_with_every_failed_line_kept(workers, s3_source, s3, sqs):
    workers.start()
    good = good_lines(120, seed=1)
    mixed_good = good_lines(40, seed=2)
    mixed = mixed_good[:20] + BAD + mixed_good[20:]
    s3.put_object(Bucket=BUCKET, Key="teleport/2026/11/27/10/good.json.gz", Body=gz(good))
    s3.put_object(Bucket=BUCKET, Key="teleport/2026/11/27/10/mixed.json", Body=b"\n".join(mixed))
    s3.put_object(
        Bucket=BUCKET,
        Key="teleport/2026/11/27/10/corrupt.json.gz",
        Body=gz(good_lines(50, seed=3))[:24] + b"\xffcorrupt" * 8,  # breaks before any line
    )
    s3.put_object(Bucket=BUCKET, Key="teleport/2026/11/27/10/skip.tmp", Body=gz(good))
    s3.put_object(Bucket=BUCKET, Key="elsewhere/other.json.gz", Body=gz(good))
    # S3 delivers at least once: the same notification again, and SNS-wrapped once more.
    messages = sqs.receive_message(QueueUrl=s3_source.config["queue_url"], MaxNumberOfMessages=10)
    for message in messages["Messages"]:
        body = message["Body"]
        sqs.send_message(QueueUrl=s3_source.config["queue_url"], MessageBody=body)
        sqs.send_message(
            QueueUrl=s3_source.config["queue_url"],
            MessageBody=json.dumps({"Type": "Notification", "Message": body}),
        )
        sqs.change_message_visibility(
            QueueUrl=s3_source.config["queue_url"],
            ReceiptHandle=message["ReceiptHandle"],
            VisibilityTimeout=0,
        )

    drain(
        s3_source,
        sqs,
        until=lambda: not ObjectLedger.objects.filter(status="pending").exists(),
        what="every notification to be settled",
    )

    assert Event.objects.filter(source=s3_source).count() == 120 + 40
    assert Event.objects.values("p_row_id").distinct().count() == 160
    assert Failure.objects.filter(source=s3_source).count() == 3 + 1  # the corrupt object: one
    mixed_failures = Failure.objects.filter(object_key__endswith="/mixed.json")
    assert sorted(f.raw_text for f in mixed_failures) == sorted(b.decode() for b in BAD)
    assert set(mixed_failures.values_list("line", flat=True)) == {21, 22, 23}
    broken = Failure.objects.get(object_key__endswith="/corrupt.json.gz")
    assert (broken.line, broken.offset, bytes(broken.raw)) == (1, 0, b"")
    assert broken.error.startswith("gzip data is corrupt at decompressed byte 0")
    ledger = {row.key.rsplit("/", 1)[-1]: row for row in ObjectLedger.objects.all()}
    assert set(ledger) == {"good.json.gz", "mixed.json", "corrupt.json.gz"}
    assert (ledger["good.json.gz"].status, ledger["good.json.gz"].events) == ("done", 120)
    assert (ledger["mixed.json"].events, ledger["mixed.json"].failures) == (40, 3)
    corrupt = ledger["corrupt.json.gz"]  # a retry cannot read past the damage: done at once
    assert (corrupt.status, corrupt.attempts, corrupt.events, corrupt.failures) == ("done", 1, 0, 1)
    # The source's parse stage shows the outcome of the object finished last, which depends on
    # the order the workers finish: test_truncated_objects checks the corrupt object's error.
    s3_source.refresh_from_db()
    assert s3_source.health == Source.Health.HEALTHY
    assert s3_source.last_event_at is not None
    stats = HourlyStats.objects.filter(source=s3_source)
    assert sum(stats.values_list("events", flat=True)) == Event.objects.count()
    assert sum(stats.values_list("failures", flat=True)) == 3 + 1
