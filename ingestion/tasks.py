"""Celery tasks: beat fans out a pass per source; one task per object or unit of work.

Transport-agnostic: each source's transport (sources/transports) says whether and how often it
needs a discovery pass (`passes`), makes one (`receive_pass`) and reads what it handed out
(`handle`); objects (S3 refs from listings, backfills and retries) go to `ingest_object_task`.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings as django_settings
from django.db.models import Q
from django.utils import timezone

from ingestion import health, locks, process
from ingestion.models import BackfillRun, ObjectLedger
from ingestion.work import SourceWork
from sources import runtime
from sources.models import Source
from sources.transports.base import ObjectRef, SettingsError

log = logging.getLogger(__name__)
OBJECT_TIME_LIMIT = 30 * 60
PASS_TIME_LIMIT = 15 * 60
BUSY_RETRIES = 20


def _active_sources():
    return Source.objects.filter(paused=False)


def _claim(source_id: int) -> str:
    """One pass per source queued or running (the claim), and one running (the lock)."""
    return f"poll:{source_id}"


def _policy(source: Source):
    try:
        return source.transport_impl.passes(source.settings)
    except (KeyError, SettingsError) as exc:
        log.warning("source %s gets no pass: %s", source.pk, exc)
        return None


# --- beat entry points (queue "interactive") --------------------------------------------------
@shared_task(time_limit=60, soft_time_limit=50)
def start_passes() -> int:
    """Every 10 s: a pass for every source whose transport needs one now and has none queued or
    running (a receive loop at once; a listing when its interval has come round, or at once when
    the last one stopped early)."""
    count = 0
    for source in _active_sources():
        policy = _policy(source)
        if policy is None:
            continue
        claim = _claim(source.pk)
        if policy.every_seconds and not locks.due(claim, policy.every_seconds):
            continue
        if locks.claim(claim, seconds=policy.claim_seconds):
            poll_source.delay(source.pk)
            count += 1
    return count


@shared_task(time_limit=120, soft_time_limit=100)
def check_health() -> dict[int, str]:
    """Every 30 s: each source's health from its data, backlog, errors and the workers."""
    return health.check_all()


# --- passes (queue "receive") -----------------------------------------------------------------
def ingest_has_room() -> bool:
    """Backpressure: receivers stop handing out work while the ingest queue is this deep, so
    a source with a large backlog leaves it in SQS (where health sees it) instead of in Redis,
    and other sources' work is not queued behind it."""
    return runtime.queue_depth("ingest") < django_settings.SLUICE_INGEST_HIGH_WATER


def celery_work(source: Source, on_progress=None) -> SourceWork:
    """Work whose units and objects go to the ingest workers."""
    return SourceWork(
        source,
        hand_out=lambda unit: ingest_unit.delay(source.pk, unit),
        hand_out_object=lambda ref: ingest_object_task.delay(source.pk, ref.as_dict()),
        on_progress=on_progress,
        keep_going=ingest_has_room,
    )


@shared_task(time_limit=PASS_TIME_LIMIT, soft_time_limit=PASS_TIME_LIMIT - 30)
def poll_source(source_id: int) -> int:
    """One pass of one source (a receive loop, a listing), one at a time per source; what it
    hands out is read in parallel by the ingest workers. Returns how much it handed out."""
    claim = _claim(source_id)
    source = Source.objects.get(pk=source_id)
    policy = None if source.paused else _policy(source)  # paused after this pass was queued
    if policy is None:
        locks.release_claim(claim)
        return 0
    with locks.held(claim, timeout=policy.lock_seconds) as renew:
        if not renew:
            # Another pass holds the source (perhaps a killed one, until its lock expires): this
            # pass is over, so beat may queue the next (a live holder claims again).
            locks.release_claim(claim)
            return 0
        # Running: the claim lives as long as the lock, so a killed pass's claim expires with its
        # lock and beat queues the next pass, instead of waiting for the queued-pass time.
        locks.extend_claim(claim, seconds=policy.lock_seconds)

        def on_progress(lag: float) -> None:
            renew()
            locks.extend_claim(claim, seconds=policy.lock_seconds)
            runtime.mark_received(source_id, lag=lag)

        try:
            result = source.transport_impl.receive_pass(
                source, source.settings, celery_work(source, on_progress)
            )
        finally:
            locks.release_claim(claim)
        if result.complete and policy.every_seconds:
            locks.mark_done(claim, policy.every_seconds)
        return result.handed


# --- units of work (queue "ingest") -----------------------------------------------------------
@shared_task(time_limit=OBJECT_TIME_LIMIT, soft_time_limit=OBJECT_TIME_LIMIT - 60)
def ingest_unit(source_id: int, unit: dict[str, Any]) -> dict[str, Any]:
    """Read one unit a pass handed out (a notification, a batch of messages)."""
    source = Source.objects.get(pk=source_id)
    return source.transport_impl.handle(source, source.settings, unit, celery_work(source))


@shared_task(bind=True, time_limit=OBJECT_TIME_LIMIT, soft_time_limit=OBJECT_TIME_LIMIT - 60)
def ingest_object_task(
    self, source_id: int, ref: dict[str, Any], backfill_id: int | None = None, force: bool = False
) -> dict[str, Any]:
    source = Source.objects.get(pk=source_id)
    outcome = process.ingest_object(source, ObjectRef(**ref), force=force, backfill_id=backfill_id)
    if outcome.status == "retry":
        attempts = self.request.retries + 1
        raise self.retry(
            countdown=process.backoff_seconds(attempts),
            max_retries=django_settings.SLUICE_INGEST_MAX_ATTEMPTS,
        )
    if outcome.status == "busy":  # another attempt is recent: it finishes, or goes stale by then
        raise self.retry(countdown=process.stale().total_seconds(), max_retries=BUSY_RETRIES)
    return {"status": outcome.status, "events": outcome.events, "failures": outcome.failures}


# --- console actions --------------------------------------------------------------------------
@shared_task(time_limit=PASS_TIME_LIMIT, soft_time_limit=PASS_TIME_LIMIT - 30)
def run_backfill(run_id: int) -> int:
    """List every object modified since the run's date and read those not read yet."""
    run = BackfillRun.objects.select_related("source").get(pk=run_id)
    source = run.source
    BackfillRun.objects.filter(pk=run_id).update(status=BackfillRun.Status.LISTING)
    try:
        refs = source.transport_impl.list_since(source, source.settings, run.since)
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
