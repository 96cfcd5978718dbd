"""End to end, the layout `./run` starts (console/workers.py: the receive, ingest and interactive
workers and beat, nothing driven by the test) with two sources at once: an S3 bucket notifying an
SQS queue, and an SQS queue of raw events. Both are fed for FEED_SECONDS at a higher rate than
`./run --demo`'s feed, while a verification is started from the console's code path every
VERIFY_EVERY seconds. Every event arrives within ARRIVE_WITHIN of the feed stopping, once; every
verification finishes within VERIFY_WITHIN; nothing is left in either queue.

The figures (delay from upload to stored, verification durations) are printed, and quoted in the
assertion messages, so a run can be cited: `./test tests/ingestion/test_e2e_layout.py`.
"""

from __future__ import annotations

import gzip
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Max

from devtools.generate import generate_lines, generate_objects
from events.models import Event
from ingestion.models import ObjectLedger
from sources import services
from sources.models import Source, VerificationRun
from tests.conftest import wait_until
from tests.layout import WORKERS

from .conftest import BUCKET, WORKER_ENV, queue_is_empty

pytestmark = pytest.mark.e2e

FEED_SECONDS = 180  # how long both sources are fed; the whole test takes about a minute more
# demo_feed (./run --demo) adds at most 1,200 events an hour (business hours) and a tenth of that
# as raw events; this feed is far faster on both counts.
OBJECT_EVERY, EVENTS_PER_OBJECT = 3.0, 200
MESSAGE_EVERY, EVENTS_PER_MESSAGE = 1.0, 20
VERIFY_EVERY, VERIFY_WITHIN = 30.0, 30.0
ARRIVE_WITHIN = 60.0  # after the feed stops, every event is stored within this


@dataclass
class Feed:
    """What was sent and when (Unix time), and the verifications started meanwhile."""

    objects: dict[str, float] = field(default_factory=dict)  # key -> uploaded at
    object_events: int = 0
    messages: dict[str, float] = field(default_factory=dict)  # message id -> sent at
    verifications: list[VerificationRun] = field(default_factory=list)
    verify_seconds: dict[int, float] = field(default_factory=dict)  # run id -> queued to finished

    @property
    def expected(self) -> int:
        return self.object_events + EVENTS_PER_MESSAGE * len(self.messages)


def upload_object(s3, feed: Feed, seed: int) -> None:
    start = datetime.now(UTC) - timedelta(seconds=OBJECT_EVERY)
    objects = generate_objects(
        EVENTS_PER_OBJECT,
        seed,
        events_per_object=EVENTS_PER_OBJECT,
        start=start,
        span=timedelta(seconds=OBJECT_EVERY),
    )
    for key, body in objects:  # split in two when the span crosses an hour
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentEncoding="gzip")
        feed.objects[key] = time.time()
        feed.object_events += gzip.decompress(body).count(b"\n")


def send_message(sqs, queue_url: str, feed: Feed, seed: int) -> None:
    start = datetime.now(UTC) - timedelta(seconds=MESSAGE_EVERY)
    lines = generate_lines(
        EVENTS_PER_MESSAGE, seed, start=start, span=timedelta(seconds=MESSAGE_EVERY)
    )
    sent = sqs.send_message(QueueUrl=queue_url, MessageBody=b"\n".join(lines).decode())
    feed.messages[sent["MessageId"]] = time.time()


def start_verification(source: Source, feed: Feed) -> None:
    """As the source's "Verify" button does (sources.views.source_verify)."""
    feed.verifications.append(
        services.start_verification(transport=source.transport, config=source.config, source=source)
    )


def check_verifications(feed: Feed) -> None:
    """Note the duration of each run that finished; fail on one unfinished after VERIFY_WITHIN."""
    for run in feed.verifications:
        if run.pk in feed.verify_seconds:
            continue
        run.refresh_from_db()
        if run.done:
            feed.verify_seconds[run.pk] = (run.finished_at - run.created_at).total_seconds()
        elif (datetime.now(UTC) - run.created_at).total_seconds() > VERIFY_WITHIN:
            pytest.fail(
                f"verification #{run.pk} of source {run.source_id} still {run.status} "
                f"{VERIFY_WITHIN:.0f} s after it was queued ({figures(feed)})"
            )


def figures(feed: Feed, delays: dict[str, list[float]] | None = None) -> str:
    parts = [
        f"{len(feed.objects)} objects and {len(feed.messages)} messages, "
        f"{feed.expected:,} events in {FEED_SECONDS} s"
    ]
    for kind, seconds in (delays or {}).items():
        parts.append(
            f"{kind} upload to stored: median {statistics.median(seconds):.1f} s, "
            f"max {max(seconds):.1f} s"
        )
    if feed.verify_seconds:
        durations = sorted(feed.verify_seconds.values())
        parts.append(
            f"{len(durations)} verifications in " + ", ".join(f"{d:.1f}" for d in durations) + " s"
        )
    return "; ".join(parts)


def sent_and_stored(feed: Feed, s3_source: Source, events_source: Source) -> dict[str, list]:
    """(sent, stored) Unix times of every object and message. An object's ledger row is marked
    done in the transaction that commits its last events; a message has no ledger row, so its
    last event's parse time (a moment before that commit) stands for it."""
    objects = [
        (feed.objects[key], finished.timestamp())
        for key, finished in ObjectLedger.objects.filter(source=s3_source).values_list(
            "key", "finished_at"
        )
    ]
    parsed = (
        Event.objects.filter(source=events_source)
        .values("object_version")
        .annotate(last=Max("p_parse_time"))
    )
    messages = [(feed.messages[row["object_version"]], row["last"].timestamp()) for row in parsed]
    return {"object": objects, "message": messages}


def test_the_run_layout_ingests_two_fed_sources_while_verifications_stay_quick(
    workers, s3_source, sqs_source, s3, monkeypatch, capsys
):
    # The production defaults throughout (SQS waits and polls, visibility, staleness, retries):
    # none of them makes this test slower, since nothing fails.
    for name in WORKER_ENV:
        monkeypatch.delenv(name, raising=False)
    events_source, sqs, events_queue = sqs_source
    notifications_queue = s3_source.config["queue_url"]
    workers.start((*WORKERS, "beat"))

    feed = Feed()
    began = time.monotonic()
    next_object = next_message = began
    next_verify = began + VERIFY_EVERY / 2
    seed = 0
    sources = [s3_source, events_source]
    while (now := time.monotonic()) < began + FEED_SECONDS:
        if now >= next_message:
            send_message(sqs, events_queue, feed, seed := seed + 1)
            next_message += MESSAGE_EVERY
        if now >= next_object:
            upload_object(s3, feed, seed := seed + 1)
            next_object += OBJECT_EVERY
        if now >= next_verify:
            start_verification(sources[len(feed.verifications) % 2], feed)
            next_verify += VERIFY_EVERY
        check_verifications(feed)
        time.sleep(max(0.0, min(next_message, next_object, next_verify) - time.monotonic()))
    fed_at = time.time()

    while Event.objects.count() < feed.expected:  # every event within ARRIVE_WITHIN
        check_verifications(feed)
        if time.time() - fed_at > ARRIVE_WITHIN:
            pytest.fail(
                f"{Event.objects.count():,} of {feed.expected:,} events stored "
                f"{ARRIVE_WITHIN:.0f} s after the feed stopped ({figures(feed)})"
            )
        time.sleep(0.5)

    def verified() -> bool:
        check_verifications(feed)
        return len(feed.verify_seconds) == len(feed.verifications)

    wait_until(verified, timeout=VERIFY_WITHIN, what="the last verification")
    wait_until(
        lambda: queue_is_empty(sqs, notifications_queue) and queue_is_empty(sqs, events_queue),
        timeout=30,
        interval=0.5,
        what="both SQS queues to be empty",
    )

    times = sent_and_stored(feed, s3_source, events_source)
    delays = {kind: [stored - sent for sent, stored in pairs] for kind, pairs in times.items()}
    pairs = times["object"] + times["message"]
    last = max(stored for _, stored in pairs) - max(sent for sent, _ in pairs)
    summary = f"{figures(feed, delays)}; the last event stored {last:.1f} s after the last upload"
    with capsys.disabled():
        print(f"\n[e2e layout] {summary}")
    stored = Event.objects.count()
    assert stored == feed.expected, summary
    assert Event.objects.values("p_row_id").distinct().count() == stored, summary
    assert Event.objects.filter(source=s3_source).count() == feed.object_events, summary
    ledger = ObjectLedger.objects.filter(source=s3_source)
    assert ledger.count() == len(feed.objects), summary
    assert not ledger.exclude(status=ObjectLedger.Status.DONE).exists(), summary
    assert len(pairs) == len(feed.objects) + len(feed.messages), summary
    assert max(stored - sent for sent, stored in pairs) <= ARRIVE_WITHIN, summary
    assert len(feed.verifications) >= FEED_SECONDS // VERIFY_EVERY, summary
    assert max(feed.verify_seconds.values()) <= VERIFY_WITHIN, summary
    statuses = {run.status for run in VerificationRun.objects.all()}
    assert statuses == {VerificationRun.Status.PASSED}, summary
