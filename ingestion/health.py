"""Source health, gathered here: the facts about every source (database, Redis, the transport's
queue) for the decision in sources/health.py, which also writes it; plus hourly stats and the
last error per stage.

`check_all()` (beat, every 30 s, on the interactive worker) gathers the facts of every source
(one GetQueueAttributes call per queue-driven source; AWS errors become a reason), has
sources.health decide and write the health and store the backlog snapshot on the source, so pages
never call AWS. The rules and their order are documented in sources/health.py.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from botocore.exceptions import BotoCoreError, ClientError
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings as django_settings
from django.db import DatabaseError
from django.db.models import Count, F, Min
from django.utils import timezone

from ingestion.models import ObjectLedger, StageError
from sources import runtime
from sources.health import (
    Backlog,
    FailedVerification,
    Health,
    SourceFacts,
    StageErrorFact,
    decide,
    events_arrived,
    verification_reason,
    write_checked,
)
from sources.models import HourlyStats, Source, VerificationRun
from sources.transports.base import PassPolicy, QueueCounts

log = logging.getLogger(__name__)
FAILURES_LOG_TYPE = ""  # hourly row that carries bytes and failures not tied to one log type
PASS_FANOUT_SECONDS = 10  # beat's start_passes period (console/settings.py)


# --- gathering the facts (I/O) ----------------------------------------------------------------
@dataclass(frozen=True)
class Workers:
    """The layout as Redis sees it at one check."""

    served: frozenset[str]
    ingest_depth: int


def current_workers() -> Workers:
    alive = runtime.workers()
    served = frozenset(queue for worker in alive for queue in worker.queues)
    return Workers(served=served, ingest_depth=runtime.queue_depth("ingest"))


def check_all(now: datetime | None = None) -> dict[int, str]:
    """Decide and write every source's health; returns {source id: reason} of those not
    Healthy. One source's failure is logged and does not stop the others."""
    now = now or timezone.now()
    try:
        workers = current_workers()
    except redis.RedisError as exc:
        log.warning("health check skipped: Redis does not answer (%s)", exc)
        return {}
    errors = _stage_errors_by_source()
    reasons = {}
    for source in Source.objects.all():
        try:
            facts = gather_facts(source, now, workers, errors.get(source.pk, ()))
            verdict = decide(facts)
            write_checked(source, verdict, facts)
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            log.exception("health check of source %s failed", source.pk)
            continue
        if verdict.health != Health.HEALTHY:
            reasons[source.pk] = verdict.reason or verdict.health
    return reasons


def gather_facts(
    source: Source,
    now: datetime,
    workers: Workers,
    stage_errors: tuple[StageErrorFact, ...] = (),
) -> SourceFacts:
    """Everything `decide` needs about `source`: the database, Redis and (for queue-driven
    sources) one GetQueueAttributes call."""
    transport = source.transport_impl
    settings = source.settings
    policy = transport.passes(settings)
    return SourceFacts(
        now=now,
        created_at=source.created_at,
        changed_at=source.updated_at,
        paused=source.paused,
        last_event_at=source.last_event_at,
        alarm_minutes=source.alarm_minutes,
        activity=transport.activity(settings),
        receive_period=receive_period(policy),
        lists=bool(policy and policy.every_seconds),
        stage_errors=stage_errors,
        failed_verification=_failed_verification(source),
        backlog=measure_backlog(source, now),
        receive_served="receive" in workers.served,
        ingest_served="ingest" in workers.served,
        ingest_depth=workers.ingest_depth,
        ingest_high_water=django_settings.SLUICE_INGEST_HIGH_WATER,
    )


def receive_period(policy: PassPolicy | None) -> timedelta | None:
    """How often the source is expected to receive: a pass at an interval, that interval; a
    receive loop, beat's fan-out plus one receive pass; no passes (pushed data), None."""
    if policy is None:
        return None
    if policy.every_seconds:
        return timedelta(seconds=policy.every_seconds)
    return timedelta(seconds=PASS_FANOUT_SECONDS + django_settings.SLUICE_SQS_POLL_SECONDS)


def _stage_errors_by_source() -> dict[int, tuple[StageErrorFact, ...]]:
    found: dict[int, list[StageErrorFact]] = {}
    for error in StageError.objects.all():
        found.setdefault(error.source_id, []).append(
            StageErrorFact(stage=error.stage, message=error.message, at=error.at)
        )
    return {pk: tuple(errors) for pk, errors in found.items()}


def _failed_verification(source: Source) -> FailedVerification | None:
    done = [VerificationRun.Status.PASSED, VerificationRun.Status.FAILED]
    run = source.verifications.filter(status__in=done).order_by("-created_at", "-id").first()
    if run is None or not run.failed_checks:
        return None
    return FailedVerification(
        reason=verification_reason(run), finished_at=run.finished_at or run.created_at
    )


def measure_backlog(source: Source, now: datetime) -> Backlog:
    """The source's waiting work: its queue's counts (when it receives from one), pending ledger
    rows, and the last receive (Redis)."""
    pending = ObjectLedger.objects.filter(
        source=source, status=ObjectLedger.Status.PENDING
    ).aggregate(count=Count("id"), oldest=Min("updated_at"))
    received = runtime.last_received(source.pk)
    counts, error = queue_counts(source)
    return Backlog(
        queue=counts is not None or bool(error),
        visible=counts.visible if counts else None,
        in_flight=counts.in_flight if counts else None,
        objects_pending=pending["count"] or 0,
        oldest_pending_at=pending["oldest"],
        last_receive_at=datetime.fromtimestamp(received.at, UTC) if received else None,
        receive_lag=received.lag if received else None,
        error=error,
        measured_at=now,
    )


def queue_counts(source: Source) -> tuple[QueueCounts | None, str]:
    """The counts of the queue the source receives from (None when it has none), or the AWS
    error as text."""
    try:
        return source.transport_impl.queue_counts(source.settings), ""
    except ClientError as exc:
        detail = exc.response.get("Error", {})
        return None, f"{detail.get('Code', 'Error')}: {detail.get('Message') or exc}"
    except BotoCoreError as exc:
        return None, f"{type(exc).__name__}: {exc}"


# --- what events prove at once ----------------------------------------------------------------
def mark_events_arrived(source_id: int, when: datetime | None = None) -> None:
    """Last event time, and what it proves for the health (sources.health.events_arrived; called
    in the transaction that stored the events: one cheap UPDATE)."""
    events_arrived(source_id, when)


# --- stage errors and hourly stats ------------------------------------------------------------
def record_stage_error(source_id: int, stage: str, message: str) -> None:
    """Best effort: when the database itself is what failed, the log keeps the error."""
    log.warning("source %s, stage %s: %s", source_id, stage, message)
    try:
        StageError.objects.update_or_create(
            source_id=source_id,
            stage=stage,
            defaults={"message": message[:4000], "at": timezone.now()},
        )
    except DatabaseError:
        log.exception("could not record the %s error of source %s", stage, source_id)


def clear_stage_error(source_id: int, stage: str) -> None:
    StageError.objects.filter(source_id=source_id, stage=stage).delete()


def hour_of(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def add_hourly(
    source_id: int,
    *,
    events_by_log_type: Mapping[str, int] = {},
    failures: int = 0,
    bytes_read: int = 0,
    when: datetime | None = None,
) -> None:
    """Add counts to this hour's rows (call inside the transaction that stored them)."""
    hour = hour_of(when or timezone.now())
    for log_type, count in sorted(events_by_log_type.items()):  # one lock order for all workers
        if count:
            _increment(source_id, log_type, hour, events=count)
    if failures or bytes_read:
        _increment(source_id, FAILURES_LOG_TYPE, hour, failures=failures, bytes=bytes_read)


def _increment(source_id: int, log_type: str, hour: datetime, **deltas: int) -> None:
    stats, _ = HourlyStats.objects.get_or_create(source_id=source_id, log_type=log_type, hour=hour)
    HourlyStats.objects.filter(pk=stats.pk).update(
        **{name: F(name) + value for name, value in deltas.items()}
    )
