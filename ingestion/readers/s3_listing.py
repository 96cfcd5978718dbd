"""S3 by listing: each prefix is listed (paginated) from its checkpoint; new objects go to workers.

The ledger (bucket, key, ETag) says what was read. A prefix's checkpoint moves only past keys whose
ledger row is settled (done, or failed for good), so a crash never skips an object. S3 lists keys
in order, so this suits the usual time-ordered keys (Teleport writes .../YYYY/MM/DD/HH/...); an
object written later under a smaller key is found by "Backfill from date".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from ingestion import conf
from ingestion.clients import s3_client
from ingestion.health import clear_stage_error, record_stage_error
from ingestion.models import Checkpoint, ObjectLedger, StageError
from ingestion.notifications import ObjectRef
from ingestion.rules import PrefixRule, prefix_rules, rule_for_key
from sources.models import Source


@dataclass(frozen=True)
class ListResult:
    handed: int  # objects handed to workers
    complete: bool  # every prefix listed to its end: the next pass can wait for the interval


class _Pass:
    """What one listing pass may still do: hand out `limit` objects while the workers keep up."""

    def __init__(self, limit: int, on_progress, keep_going) -> None:
        self.limit = limit
        self.handed = 0
        self.stopped = False
        self.on_progress = on_progress or (lambda: None)
        self.keep_going = keep_going or (lambda: True)

    def may_hand_out(self) -> bool:
        if self.handed >= self.limit or (self.handed % 10 == 0 and not self.keep_going()):
            self.stopped = True
        return not self.stopped


def list_new_objects(
    source: Source,
    handle,
    *,
    limit: int | None = None,
    on_progress: Callable[[], None] | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> ListResult:
    """Hand unread objects to `handle(source_id, ref_dict)`, calling `on_progress()` after each
    page and object (a lister renews its lock), until `limit` objects are handed out or
    `keep_going()` says the workers have enough."""
    budget = _Pass(limit or conf.list_max_objects(), on_progress, keep_going)
    rules = prefix_rules(source.config, source.log_types)
    try:
        for rule in sorted(rules, key=lambda r: r.prefix):
            _list_prefix(source, rules, rule, handle, budget)
            if budget.stopped:
                break
    except Exception as exc:
        record_stage_error(source.pk, StageError.Stage.RECEIVE, f"{type(exc).__name__}: {exc}")
        raise
    clear_stage_error(source.pk, StageError.Stage.RECEIVE)
    return ListResult(handed=budget.handed, complete=not budget.stopped)


def _list_prefix(source: Source, rules, rule: PrefixRule, handle, budget: _Pass) -> None:
    checkpoint, _ = Checkpoint.objects.get_or_create(source=source, prefix=rule.prefix)
    bucket = source.config["bucket"]
    settled_upto = checkpoint.start_after
    contiguous = True
    for page in _pages(source, bucket, rule.prefix, checkpoint.start_after):
        budget.on_progress()
        objects = [o for o in page if rule_for_key(rules, o["Key"]) is rule]
        ledger = _ledger_rows(source, bucket, objects)
        for obj in page:
            key = obj["Key"]
            row = ledger.get((key, _etag(obj)))
            if obj not in objects:
                settled = True  # excluded, or another (longer) prefix's object
            elif row is not None and row.status != ObjectLedger.Status.PENDING:
                settled = True
            else:
                settled = False
                if _due(row) and budget.may_hand_out():
                    ref = _ref(bucket, obj)
                    _mark_dispatched(source, ref, row)
                    handle(source.pk, ref.as_dict())
                    budget.handed += 1
                    budget.on_progress()
            if contiguous and settled:
                settled_upto = key
            else:
                contiguous = False
        if budget.stopped:
            break
    if settled_upto != checkpoint.start_after:
        Checkpoint.objects.filter(pk=checkpoint.pk).update(
            start_after=settled_upto, updated_at=timezone.now()
        )


def list_since(source: Source, since: datetime) -> list[ObjectRef]:
    """Every object under the source's prefixes modified at or after `since` (for backfills)."""
    rules = prefix_rules(source.config, source.log_types)
    bucket = source.config["bucket"]
    refs = []
    for prefix in sorted({r.prefix for r in rules}):
        for page in _pages(source, bucket, prefix, ""):
            for obj in page:
                if obj["LastModified"] >= since and rule_for_key(rules, obj["Key"]) is not None:
                    refs.append(_ref(bucket, obj))
    return refs


def _pages(source: Source, bucket: str, prefix: str, start_after: str):
    paginator = s3_client(source).get_paginator("list_objects_v2")
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if start_after:
        params["StartAfter"] = start_after
    for page in paginator.paginate(**params):
        yield page.get("Contents", [])


def _etag(obj: dict[str, Any]) -> str:
    return str(obj.get("ETag", "")).strip('"')


def _ref(bucket: str, obj: dict[str, Any]) -> ObjectRef:
    return ObjectRef(bucket=bucket, key=obj["Key"], version=_etag(obj), size=obj.get("Size"))


def _ledger_rows(source: Source, bucket: str, objects: list[dict]) -> dict[tuple[str, str], Any]:
    if not objects:
        return {}
    rows = ObjectLedger.objects.filter(
        source=source, bucket=bucket, key__in=[o["Key"] for o in objects]
    )
    return {(row.key, row.version): row for row in rows}


def _due(row: ObjectLedger | None) -> bool:
    """Not yet handed out; or handed out and its task lost (never started within
    `conf.dispatch_timeout()`); or its attempt went silent (a dead reader, `conf.stale()`);
    or an attempt failed and its backoff has passed."""
    if row is None:
        return True
    age = timezone.now() - row.updated_at
    if row.finished_at is None:
        return age > (conf.stale() if row.attempts else conf.dispatch_timeout())
    backoff = conf.retry_base_seconds() * 2 ** max(0, row.attempts - 1)
    return age.total_seconds() >= backoff


def _mark_dispatched(source: Source, ref: ObjectRef, row: ObjectLedger | None) -> None:
    if row is None:
        ObjectLedger.objects.get_or_create(
            source=source,
            bucket=ref.bucket,
            key=ref.key,
            version=ref.version,
            defaults={"size": ref.size},
        )
    else:
        ObjectLedger.objects.filter(pk=row.pk).update(updated_at=timezone.now())
