"""Celery tasks: beat fans out per source; one task per object, message or message batch."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from ingestion import conf, health, locks, runtime
from ingestion.models import BackfillRun, ObjectLedger
from ingestion.notifications import ObjectRef
from ingestion.readers import READERS, discovery, s3_listing, s3_notifications, sqs_events
from ingestion.readers.sqs_common import Message
from sources.models import Source

log = logging.getLogger(__name__)
OBJECT_TIME_LIMIT = 30 * 60
LIST_LOCK_SECONDS = 30  # renewed after every page and every object handed out
LIST_TIME_LIMIT = 15 * 60
BUSY_RETRIES = 20


def _active_sources():
    return Source.objects.filter(paused=False)


# --- beat entry points (queue "interactive") --------------------------------------------------
@shared_task(time_limit=60, soft_time_limit=50)
def poll_queues() -> int:
    """Every 10 s: a receive pass for every queue-driven source without one queued or running."""
    count = 0
    for source in _active_sources():
        if discovery(source) not in {"notifications", "sqs"} or not source.config.get("queue_url"):
            continue
        if locks.claim(f"poll:{source.pk}", seconds=receive_claim_seconds()):
            poll_source.delay(source.pk)
            count += 1
    return count


@shared_task(time_limit=60, soft_time_limit=50)
def list_buckets() -> int:
    """Every 10 s: list the sources whose interval has come round (or whose pass stopped early)."""
    count = 0
    for source in _active_sources():
        if discovery(source) != "listing":
            continue
        interval = int(source.config.get("list_interval_minutes") or 5) * 60
        if locks.due(f"list:{source.pk}", interval) and locks.claim(
            f"list:{source.pk}", seconds=2 * LIST_LOCK_SECONDS
        ):
            list_source.delay(source.pk)
            count += 1
    return count


@shared_task(time_limit=120, soft_time_limit=100)
def check_health() -> dict[int, str]:
    """Every 30 s: each source's health from its data, backlog, errors and the workers."""
    return health.check_all()


# --- receiving and listing (queue "receive") --------------------------------------------------
def receive_lock_seconds() -> int:
    """The receiver lock outlives one long poll by a margin and is renewed after each receive,
    so a receiver killed mid-pass holds its source back for this long, not for the whole pass."""
    return 2 * conf.wait_seconds() + 10


def receive_claim_seconds() -> int:
    """A queued pass that has not started within this long is assumed lost (broker restart)."""
    return int(conf.poll_seconds()) + receive_lock_seconds() + 30


@shared_task(time_limit=5 * 60, soft_time_limit=4 * 60)
def poll_source(source_id: int) -> int:
    """One receiver per source at a time; the messages it hands out are read in parallel."""
    claim = f"poll:{source_id}"
    source = Source.objects.get(pk=source_id)
    if source.paused:  # paused after this pass was queued
        locks.release_claim(claim)
        return 0
    with locks.held(claim, timeout=receive_lock_seconds()) as renew:
        if not renew:
            # Another receiver holds the source (perhaps a killed one, until its lock expires):
            # this pass is over, so beat may queue the next (a live holder claims again).
            locks.release_claim(claim)
            return 0
        # Running: the claim lives as long as the lock, so a killed receiver's claim expires
        # with its lock and beat queues the next pass, instead of waiting for the queued time.
        locks.extend_claim(claim, seconds=receive_lock_seconds())

        def on_receive(batch: list[Message]) -> None:
            renew()
            locks.extend_claim(claim, seconds=receive_lock_seconds())
            runtime.mark_received(source_id, lag=oldest_age(batch))

        kind = discovery(source)
        task = ingest_messages if kind == "sqs" else ingest_notification
        try:
            return READERS[kind](
                source,
                lambda *args: task.delay(*args),
                on_receive=on_receive,
                keep_going=ingest_has_room,
            )
        finally:
            locks.release_claim(claim)


def oldest_age(batch: list[Message]) -> float:
    """Seconds the oldest message of a receive waited in its queue (0 for an empty receive)."""
    sent = [m.sent_at for m in batch if m.sent_at]
    return max(0.0, time.time() - min(sent)) if sent else 0.0


def ingest_has_room() -> bool:
    """Backpressure: receivers stop handing out work while the ingest queue is this deep, so
    a source with a large backlog leaves it in SQS (where health sees it) instead of in Redis,
    and other sources' work is not queued behind it."""
    return runtime.queue_depth("ingest") < conf.ingest_high_water()


@shared_task(time_limit=LIST_TIME_LIMIT, soft_time_limit=LIST_TIME_LIMIT - 30)
def list_source(source_id: int) -> int:
    """One lister per source; objects go to `ingest_object_task` in parallel."""
    claim = f"list:{source_id}"
    source = Source.objects.get(pk=source_id)
    if source.paused:
        locks.release_claim(claim)
        return 0
    with locks.held(claim, timeout=LIST_LOCK_SECONDS) as renew:
        if not renew:
            locks.release_claim(claim)  # as in poll_source
            return 0
        locks.extend_claim(claim, seconds=LIST_LOCK_SECONDS)  # as long as the lock

        def on_progress() -> None:
            renew()
            locks.extend_claim(claim, seconds=LIST_LOCK_SECONDS)
            runtime.mark_received(source_id)

        try:
            result = s3_listing.list_new_objects(
                source,
                lambda sid, ref: ingest_object_task.delay(sid, ref),
                on_progress=on_progress,
                keep_going=ingest_has_room,
            )
        finally:
            locks.release_claim(claim)
        if result.complete:
            interval = int(source.config.get("list_interval_minutes") or 5) * 60
            locks.mark_done(claim, interval)
        return result.handed


# --- units of work ----------------------------------------------------------------------------
@shared_task(time_limit=OBJECT_TIME_LIMIT, soft_time_limit=OBJECT_TIME_LIMIT - 60)
def ingest_notification(source_id: int, queue_url: str, message: dict[str, Any]) -> str:
    source = Source.objects.get(pk=source_id)
    return s3_notifications.handle_message(source, queue_url, message)


@shared_task(time_limit=10 * 60, soft_time_limit=9 * 60)
def ingest_messages(source_id: int, queue_url: str, messages: list[dict[str, Any]]) -> int:
    source = Source.objects.get(pk=source_id)
    return sqs_events.handle_messages(source, queue_url, messages)


@shared_task(bind=True, time_limit=OBJECT_TIME_LIMIT, soft_time_limit=OBJECT_TIME_LIMIT - 60)
def ingest_object_task(
    self, source_id: int, ref: dict[str, Any], backfill_id: int | None = None, force: bool = False
) -> dict[str, Any]:
    from ingestion.process import ingest_object

    source = Source.objects.get(pk=source_id)
    outcome = ingest_object(source, ObjectRef(**ref), force=force, backfill_id=backfill_id)
    if outcome.status == "retry":
        attempts = self.request.retries + 1
        raise self.retry(
            countdown=s3_notifications.backoff_seconds(attempts), max_retries=conf.max_attempts()
        )
    if outcome.status == "busy":  # another attempt is recent: it finishes, or goes stale by then
        raise self.retry(countdown=conf.stale().total_seconds(), max_retries=BUSY_RETRIES)
    return {"status": outcome.status, "events": outcome.events, "failures": outcome.failures}


# --- console actions --------------------------------------------------------------------------
@shared_task(time_limit=LIST_TIME_LIMIT, soft_time_limit=LIST_TIME_LIMIT - 30)
def run_backfill(run_id: int) -> int:
    """List every prefix for objects modified since the run's date and read those not read yet."""
    run = BackfillRun.objects.select_related("source").get(pk=run_id)
    BackfillRun.objects.filter(pk=run_id).update(status=BackfillRun.Status.LISTING)
    try:
        refs = s3_listing.list_since(run.source, run.since)
    except Exception as exc:
        BackfillRun.objects.filter(pk=run_id).update(
            status=BackfillRun.Status.FAILED, error=str(exc), finished_at=timezone.now()
        )
        raise
    BackfillRun.objects.filter(pk=run_id).update(
        status=BackfillRun.Status.RUNNING if refs else BackfillRun.Status.DONE,
        objects_total=len(refs),
        finished_at=None if refs else timezone.now(),
    )
    for ref in refs:
        ingest_object_task.delay(run.source_id, ref.as_dict(), backfill_id=run_id)
    return len(refs)


@shared_task(time_limit=OBJECT_TIME_LIMIT)
def retry_object(ledger_id: int) -> None:
    """The console's "Retry": read a failed (or any) object again from the start."""
    row = ObjectLedger.objects.get(pk=ledger_id)
    ObjectLedger.objects.filter(pk=ledger_id).update(
        status=ObjectLedger.Status.PENDING, attempts=0, error=""
    )
    ref = ObjectRef(bucket=row.bucket, key=row.key, version=row.version, size=row.size)
    ingest_object_task.delay(row.source_id, ref.as_dict(), force=True)


@shared_task(time_limit=OBJECT_TIME_LIMIT)
def reprocess_failures_task(source_id: int) -> dict[str, int]:
    from ingestion.reprocess import reprocess_failures

    result = reprocess_failures(Source.objects.get(pk=source_id))
    return {"parsed": result.parsed, "still_failing": result.still_failing}


def failed_objects(source: Source):
    return ObjectLedger.objects.filter(source=source).filter(
        Q(status=ObjectLedger.Status.FAILED) | Q(status=ObjectLedger.Status.PENDING, attempts__gt=0)
    )
