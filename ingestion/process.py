"""Reading one object (or one message of raw events) into the events store, exactly once.

The body is streamed (decompressed by magic bytes, split, classified) and written in batches, each
in its own transaction with its hourly stats. Row ids are deterministic, so a retry after a crash
re-reads the object and inserts only what is missing. The ledger row is marked done in the same
transaction as the last batch; only then may the caller delete the SQS message or move a checkpoint.

Compressed data that ends early or is corrupt is read up to the break: its events and failures are
stored, the break is one more failure, and the object is done (reading it again cannot get past
the break). A body the network cut short (fewer bytes than its Content-Length) is a read error
instead: the attempt fails in the GET_OBJECT stage and is retried.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import IO

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from detections import alerting
from detections.evaluation import evaluate_batch
from events.store import WriteResult, write_batch
from ingestion.health import add_hourly, clear_stage_error, mark_events_arrived, record_stage_error
from ingestion.models import BackfillRun, ObjectLedger, StageError
from logtypes.registry import classifier_for
from parsers import FailureKind, Origin, ParsedEvent, ParseFailure, parse_stream
from parsers.streams import SourceReadError
from sources.models import Source
from sources.transports.base import ObjectError, ObjectRef, Outcome

__all__ = ["ObjectError", "Outcome", "ingest_body", "ingest_object", "store_empty_message"]

log = logging.getLogger(__name__)
Heartbeat = Callable[[], None]
# parse_stream turns bad data (truncated or corrupt compressed streams included) into failures
# and every error reading the body (botocore's IncompleteReadError for a body shorter than its
# Content-Length, a reset connection) into SourceReadError; one of these escaping it is
# unexpected: the attempt fails and is retried like any other.
DATA_ERRORS = (OSError, EOFError, zlib.error, ValueError)


def stale() -> timedelta:
    """An object attempt silent this long (no batch committed) belonged to a dead worker."""
    return timedelta(seconds=django_settings.SLUICE_INGEST_STALE_SECONDS)


def backoff_seconds(attempt: int) -> int:
    """Before attempt `attempt` + 1 of an object: base * 2**(attempt-1) seconds."""
    return int(django_settings.SLUICE_INGEST_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1))


# --- one object -------------------------------------------------------------------------------
def ingest_object(
    source: Source,
    ref: ObjectRef,
    *,
    heartbeat: Heartbeat | None = None,
    force: bool = False,
    backfill_id: int | None = None,
) -> Outcome:
    """Read `ref` once: skipped when the ledger says done (unless `force`)."""
    transport, settings = source.transport_impl, source.settings
    log_types = transport.log_types_for(settings, ref.key, source.log_types)
    if log_types is None:
        return Outcome("excluded")
    ledger = _ledger_row(source, ref)
    if not _start_attempt(ledger, force=force):
        ledger.refresh_from_db()
        if ledger.status == ObjectLedger.Status.DONE:
            outcome = Outcome("skipped", events=ledger.events, bytes=ledger.bytes)
        elif ledger.status == ObjectLedger.Status.FAILED:
            outcome = Outcome("failed", error=ledger.error)
        else:  # another worker is reading it right now: settle the message later
            return Outcome("busy", retry_after=backoff_seconds(ledger.attempts or 1))
        _count_backfill(backfill_id, outcome)
        return outcome
    try:
        body, size = transport.open_object(source, settings, ref)
        clear_stage_error(source.pk, StageError.Stage.GET_OBJECT)
        outcome = _read_into_store(
            source,
            body,
            origin=Origin(str(source.pk), ref.key, ref.version),
            log_types=log_types,
            stream_type=settings.stream_type,
            envelope=settings.envelope,
            heartbeat=heartbeat,
            ledger=ledger,
            size=size,
        )
    except ObjectError as exc:
        outcome = _attempt_failed(source, ledger, exc)
    _count_backfill(backfill_id, outcome)
    return outcome


def _start_attempt(ledger: ObjectLedger, *, force: bool) -> bool:
    """Atomically take the object for one attempt; False when it is settled or being read.

    An attempt in progress touches `updated_at` after every batch; one silent for longer than
    SLUICE_INGEST_STALE_SECONDS belonged to a worker that died, and may be taken over.
    """
    now = timezone.now()
    rows = ObjectLedger.objects.filter(pk=ledger.pk)
    free = Q(finished_at__isnull=False) | Q(attempts=0) | Q(updated_at__lt=now - stale())
    if force:
        rows = rows.filter(free | ~Q(status=ObjectLedger.Status.PENDING))
    else:
        rows = rows.filter(free, status=ObjectLedger.Status.PENDING)
    return bool(
        rows.update(
            attempts=F("attempts") + 1,
            status=ObjectLedger.Status.PENDING,
            started_at=now,
            finished_at=None,
            updated_at=now,
        )
    )


def _ledger_row(source: Source, ref: ObjectRef) -> ObjectLedger:
    try:
        ledger, _ = ObjectLedger.objects.get_or_create(
            source=source,
            bucket=ref.bucket,
            key=ref.key,
            version=ref.version,
            defaults={"size": ref.size},
        )
    except IntegrityError:  # another worker created it first
        ledger = ObjectLedger.objects.get(
            source=source, bucket=ref.bucket, key=ref.key, version=ref.version
        )
    return ledger


def _read_into_store(
    source: Source,
    body: IO[bytes] | bytes,
    *,
    origin: Origin,
    log_types: Iterable[str],
    stream_type: str,
    envelope: str | None,
    heartbeat: Heartbeat | None,
    ledger: ObjectLedger | None,
    size: int,
) -> Outcome:
    try:
        classifier = classifier_for(tuple(log_types))
    except KeyError as exc:
        raise ObjectError(StageError.Stage.PARSE, f"unknown log type {exc}") from exc
    results = parse_stream(
        body,
        classifier=classifier,
        origin=origin,
        stream_type=stream_type,
        envelope=envelope,
        max_line_bytes=django_settings.SLUICE_MAX_LINE_BYTES,
        max_object_bytes=django_settings.SLUICE_MAX_OBJECT_BYTES,
    )
    total = WriteResult()
    events_seen = failures_seen = 0
    limit = django_settings.SLUICE_INGEST_BATCH_SIZE
    delay = django_settings.SLUICE_INGEST_BATCH_DELAY
    events: list[ParsedEvent] = []
    failures: list = []
    groups: set[str] = set()  # alert groups with new matches, grouped after each commit
    broken: ParseFailure | None = None  # the break of a truncated or corrupt compressed stream
    try:
        for result in results:
            if type(result) is ParsedEvent:
                events.append(result)
            elif result.kind == FailureKind.UNREADABLE:  # nothing was read: fail the attempt
                raise ObjectError(StageError.Stage.PARSE, f"{origin.object_key}: {result.error}")
            else:
                failures.append(result)
                if result.kind == FailureKind.STREAM_BREAK:
                    broken = result
            if len(events) + len(failures) >= limit:
                events_seen += len(events)
                failures_seen += len(failures)
                total += _store(source, origin, classifier.log_types, events, failures, groups)
                group_alerts(groups)
                events, failures = [], []
                if ledger is not None:
                    ObjectLedger.objects.filter(pk=ledger.pk).update(updated_at=timezone.now())
                if delay:
                    time.sleep(delay)
                if heartbeat:
                    heartbeat()
    except SourceReadError as exc:
        raise ObjectError(
            StageError.Stage.GET_OBJECT, f"reading {origin.object_key} failed: {exc}"
        ) from exc
    except DATA_ERRORS as exc:
        raise ObjectError(
            StageError.Stage.PARSE,
            f"cannot read {origin.object_key}: {type(exc).__name__}: {exc} "
            f"(after {events_seen + len(events)} events)",
        ) from exc
    events_seen += len(events)
    failures_seen += len(failures)
    with transaction.atomic():
        total += _store(
            source, origin, classifier.log_types, events, failures, groups, bytes_read=size
        )
        if ledger is not None:
            ObjectLedger.objects.filter(pk=ledger.pk).update(
                status=ObjectLedger.Status.DONE,
                error="",
                events=events_seen,
                failures=failures_seen,
                bytes=size,
                size=size,
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
    group_alerts(groups)
    clear_stage_error(source.pk, StageError.Stage.PARSE)
    if broken is not None:
        record_stage_error(
            source.pk,
            StageError.Stage.PARSE,
            _break_message(broken, events=events_seen, failures=failures_seen),
        )
    elif failures_seen:
        record_stage_error(
            source.pk,
            StageError.Stage.PARSE,
            f"{failures_seen} of {events_seen + failures_seen} lines of {origin.object_key} "
            "did not parse (see Failures)",
        )
    return Outcome(
        "done",
        events=events_seen,
        inserted=total.inserted,
        duplicates=total.duplicates,
        failures=failures_seen,
        bytes=size,
    )


def _break_message(broken: ParseFailure, *, events: int, failures: int) -> str:
    """The source's PARSE error for an object whose compressed data is truncated or corrupt."""
    return (
        f"{broken.error}. Kept {events} events and {failures} failed lines (the break is one of "
        "them); the object is done, since reading it again cannot get past the break."
    )


def detect(
    events: list[ParsedEvent], written: WriteResult, groups: set[str], *, source_id: int
) -> None:
    """Run the rules over a batch just written, in its transaction (before the object counts as
    done), adding the alert groups of its new matches to `groups`. A batch that inserted nothing
    was evaluated when it was first stored."""
    if written.inserted and django_settings.SLUICE_DETECTIONS:
        groups |= evaluate_batch(events, source_id=source_id).groups


def group_alerts(groups: set[str]) -> None:
    """Group committed new matches into alerts, in a short transaction of their own (never
    holding the groups' locks while a batch is stored). On failure they wait for the beat sweep
    (detections.group_pending), as after a crash right after the commit."""
    if not groups:
        return
    try:
        alerting.group(groups)
    except Exception:
        log.exception("grouping %s alert groups failed; left to the sweep", len(groups))
    groups.clear()


def _store(
    source: Source,
    origin: Origin,
    log_types,
    events,
    failures,
    groups: set[str],
    *,
    bytes_read: int = 0,
) -> WriteResult:
    """One transaction: events and failures, their rule matches (grouped into alerts after the
    commit, by group_alerts), then this hour's stats, then the source row (always in this order,
    so concurrent workers on one source cannot deadlock)."""
    try:
        with transaction.atomic():
            result = write_batch(
                events,
                failures,
                source_id=source.pk,
                object_key=origin.object_key,
                object_version=origin.version,
                log_types=log_types,
            )
            detect(events, result, groups, source_id=source.pk)
            add_hourly(
                source.pk,
                events_by_log_type=result.by_log_type,
                failures=result.failures,
                bytes_read=bytes_read,
            )
            if result.inserted:
                mark_events_arrived(source.pk)
    except Exception as exc:
        # An attempt like any other: retried, then the object is marked failed (not re-read
        # forever). If the database itself is gone, recording that fails too and the exception
        # propagates; the stale attempt is then taken over once the database is back.
        raise ObjectError(
            StageError.Stage.STORE,
            f"storing {origin.object_key} failed: {type(exc).__name__}: {exc}",
        ) from exc
    return result


def _attempt_failed(source: Source, ledger: ObjectLedger, exc: ObjectError) -> Outcome:
    record_stage_error(source.pk, exc.stage, exc.message)
    ledger.refresh_from_db(fields=["attempts"])
    final = ledger.attempts >= django_settings.SLUICE_INGEST_MAX_ATTEMPTS
    ObjectLedger.objects.filter(pk=ledger.pk).update(
        status=ObjectLedger.Status.FAILED if final else ObjectLedger.Status.PENDING,
        error=exc.message,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    log.warning("source %s: %s (attempt %s)", source.pk, exc.message, ledger.attempts)
    if final:
        return Outcome("failed", error=exc.message)
    return Outcome("retry", error=exc.message, retry_after=backoff_seconds(ledger.attempts))


def _count_backfill(backfill_id: int | None, outcome: Outcome) -> None:
    if backfill_id is None or outcome.status == "retry":
        return
    BackfillRun.objects.filter(pk=backfill_id).update(
        objects_done=F("objects_done") + 1,
        events=F("events") + outcome.events,
        bytes=F("bytes") + outcome.bytes,
        errors=F("errors") + (1 if outcome.status == "failed" else 0),
    )
    BackfillRun.objects.filter(
        pk=backfill_id,
        status=BackfillRun.Status.RUNNING,
        objects_done__gte=F("objects_total"),
    ).update(status=BackfillRun.Status.DONE, finished_at=timezone.now())


# --- raw events and local files ---------------------------------------------------------------
def store_empty_message(source: Source, *, object_key: str, version: str) -> Outcome:
    """A message with no content (empty, blank, or an SNS envelope of nothing): one failure, so
    it is counted like any unreadable line instead of vanishing when the message is deleted."""
    failure = ParseFailure(1, 0, f"empty message ({object_key}, message {version})", b"")
    result = _store(
        source, Origin(str(source.pk), object_key, version), source.log_types, [], [failure], set()
    )
    return Outcome("done", failures=result.failures)


def ingest_body(
    source: Source,
    body: IO[bytes] | bytes,
    *,
    object_key: str,
    version: str,
    stream_type: str | None = None,
    log_types: Iterable[str] | None = None,
    heartbeat: Heartbeat | None = None,
    size: int | None = None,
) -> Outcome:
    """Read a body that is not an S3 object (a message, a push, a local file): no ledger row."""
    settings = source.settings
    if log_types is None:
        log_types = (
            source.transport_impl.log_types_for(settings, object_key, source.log_types)
            or source.log_types
        )
    if size is None:
        size = len(body) if isinstance(body, bytes | bytearray) else 0
    return _read_into_store(
        source,
        body,
        origin=Origin(str(source.pk), object_key, version),
        log_types=log_types,
        stream_type=stream_type or settings.stream_type,
        envelope=settings.envelope,
        heartbeat=heartbeat,
        ledger=None,
        size=size,
    )
