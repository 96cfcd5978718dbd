"""An SQS queue of raw events: JSON objects, JSON lines and SNS envelopes, each stored once."""

import itertools
import json
import threading
import time

from django.core.management import call_command

from devtools.generate import generate_lines
from events.models import Event, Failure
from ingestion import locks
from ingestion.tasks import celery_work, poll_source
from sources.models import Source
from sources.transports.aws import receive_batch

from .conftest import queue_is_empty


def test_each_body_shape_is_read_and_the_messages_deleted(sqs_source):
    source, sqs, queue_url = sqs_source
    one, two, three, four = (line.decode() for line in generate_lines(4, 11))
    sqs.send_message(QueueUrl=queue_url, MessageBody=one)
    sqs.send_message(QueueUrl=queue_url, MessageBody="\n".join([two, "not json", three]))
    sqs.send_message(
        QueueUrl=queue_url, MessageBody=json.dumps({"Type": "Notification", "Message": four})
    )

    call_command("ingest", source.name, "--once")

    assert Event.objects.filter(source=source).count() == 4
    failure = Failure.objects.get(source=source)
    assert (failure.raw_text, failure.line) == ("not json", 2)
    assert failure.object_key == "sqs://teleport-events"
    assert queue_is_empty(sqs, queue_url)
    source.refresh_from_db()
    assert source.health == Source.Health.HEALTHY


def test_a_redelivered_message_stores_nothing_twice(sqs_source):
    source, sqs, queue_url = sqs_source
    sqs.send_message(QueueUrl=queue_url, MessageBody=next(iter(generate_lines(1, 12))).decode())
    batch = [m.as_dict() for m in receive_batch(sqs, queue_url, wait=1)]

    unit = {"queue_url": queue_url, "messages": batch}
    transport, work = source.transport_impl, celery_work(source)
    transport.handle(source, source.settings, unit, work)
    transport.handle(source, source.settings, unit, work)  # the worker died before deleting

    assert Event.objects.filter(source=source).count() == 1


def test_a_receiver_keeps_a_short_renewed_lock_so_a_killed_one_blocks_its_source_briefly(
    sqs_source, settings
):
    source, _, _ = sqs_source
    settings.SLUICE_SQS_WAIT_SECONDS = 1
    settings.SLUICE_SQS_POLL_SECONDS = 4  # a pass of several long polls
    key = f"sluice:lock:poll:{source.pk}"
    client = locks.connection()
    client.delete(key)
    ttls: list[int] = []
    stop = threading.Event()

    def sample_the_lock_ttl() -> None:
        while not stop.is_set():
            ttls.append(client.pttl(key))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample_the_lock_ttl)
    sampler.start()
    try:
        assert poll_source(source.pk) == 0  # the queue is empty: four empty long polls
    finally:
        stop.set()
        sampler.join()

    held = [ttl for ttl in ttls if ttl > 0]
    assert held
    assert max(held) <= 12_000  # 2 x the long poll + 10 s: a dead holder blocks only that long
    assert any(later > earlier for earlier, later in itertools.pairwise(held))  # renewed
    assert client.pttl(key) == -2  # released when the pass ends
