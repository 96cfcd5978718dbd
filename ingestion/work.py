"""Ingestion's side of the transport contract (`sources.transports.base.Work`) for one source.

A transport discovers and reads work; everything it needs from ingestion goes through this object:
handing units and objects to the ingest workers (a Celery `.delay` in workers, a direct call in
`manage.py ingest --once`, a list in tests), reading objects and bodies into the events store
exactly once, the object ledger and listing checkpoints, stage errors, progress and backpressure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import IO, Any

from django.conf import settings as django_settings
from django.utils import timezone

from ingestion import process
from ingestion.health import clear_stage_error, record_stage_error
from ingestion.models import Checkpoint, ObjectLedger
from sources.models import Source
from sources.transports.base import LedgerEntry, ObjectRef, Outcome


def dispatch_timeout() -> timedelta:
    return timedelta(seconds=django_settings.SLUICE_INGEST_DISPATCH_TIMEOUT_SECONDS)


def is_due(row: ObjectLedger) -> bool:
    """A pending object worth handing out again: handed out and its task lost (never started
    within SLUICE_INGEST_DISPATCH_TIMEOUT_SECONDS); or its attempt went silent (a dead reader,
    SLUICE_INGEST_STALE_SECONDS); or an attempt failed and its backoff has passed."""
    age = timezone.now() - row.updated_at
    if row.finished_at is None:
        return age > (process.stale() if row.attempts else dispatch_timeout())
    return age.total_seconds() >= process.backoff_seconds(row.attempts)


class SourceWork:
    """What ingestion offers a transport working on `source` (see sources.transports.base.Work).

    hand_out(unit) and hand_out_object(ref) queue the work; on_progress(lag) is called on every
    `progress()` (a pass renews its lock there); keep_going() is the backpressure.
    """

    def __init__(
        self,
        source: Source,
        *,
        hand_out: Callable[[dict[str, Any]], Any],
        hand_out_object: Callable[[ObjectRef], Any],
        on_progress: Callable[[float], None] | None = None,
        keep_going: Callable[[], bool] | None = None,
        until_empty: bool = False,
    ) -> None:
        self.source = source
        self._hand_out = hand_out
        self._hand_out_object = hand_out_object
        self._on_progress = on_progress
        self._keep_going = keep_going
        self.until_empty = until_empty

    # --- handing out ---------------------------------------------------------------------------
    def hand_out(self, unit: dict[str, Any]) -> None:
        self._hand_out(unit)

    def hand_out_object(self, ref: ObjectRef) -> None:
        self._hand_out_object(ref)

    # --- reading into the store ----------------------------------------------------------------
    def read_object(
        self, ref: ObjectRef, *, heartbeat: Callable[[], None] | None = None
    ) -> Outcome:
        return process.ingest_object(self.source, ref, heartbeat=heartbeat)

    def read_body(
        self,
        body: IO[bytes] | bytes,
        *,
        origin_key: str,
        version: str,
        log_types=None,
        size: int | None = None,
        stream_type: str | None = None,
    ) -> Outcome:
        return process.ingest_body(
            self.source,
            body,
            object_key=origin_key,
            version=version,
            log_types=log_types,
            size=size,
            stream_type=stream_type,
        )

    def store_empty(self, *, origin_key: str, version: str) -> Outcome:
        return process.store_empty_message(self.source, object_key=origin_key, version=version)

    # --- the ledger and checkpoints --------------------------------------------------------------
    def ledger(self, refs: list[ObjectRef]) -> dict[tuple[str, str], LedgerEntry]:
        found: dict[tuple[str, str], LedgerEntry] = {}
        for bucket in {ref.bucket for ref in refs}:
            keys = [ref.key for ref in refs if ref.bucket == bucket]
            rows = ObjectLedger.objects.filter(source=self.source, bucket=bucket, key__in=keys)
            for row in rows:
                settled = row.status != ObjectLedger.Status.PENDING
                found[(row.key, row.version)] = LedgerEntry(
                    settled=settled, due=not settled and is_due(row)
                )
        return found

    def mark_dispatched(self, ref: ObjectRef) -> None:
        row, created = ObjectLedger.objects.get_or_create(
            source=self.source,
            bucket=ref.bucket,
            key=ref.key,
            version=ref.version,
            defaults={"size": ref.size},
        )
        if not created:
            ObjectLedger.objects.filter(pk=row.pk).update(updated_at=timezone.now())

    def checkpoint(self, prefix: str) -> str:
        checkpoint, _ = Checkpoint.objects.get_or_create(source=self.source, prefix=prefix)
        return checkpoint.start_after

    def move_checkpoint(self, prefix: str, start_after: str) -> None:
        Checkpoint.objects.filter(source=self.source, prefix=prefix).update(
            start_after=start_after, updated_at=timezone.now()
        )

    # --- health and progress -------------------------------------------------------------------
    def record_error(self, stage: str, message: str) -> None:
        record_stage_error(self.source.pk, stage, message)

    def clear_error(self, stage: str) -> None:
        clear_stage_error(self.source.pk, stage)

    def progress(self, *, lag: float = 0.0) -> None:
        if self._on_progress is not None:
            self._on_progress(lag)

    def keep_going(self) -> bool:
        return self._keep_going() if self._keep_going is not None else True
