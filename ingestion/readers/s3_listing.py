"""S3 by listing: each prefix is listed (paginated) from its checkpoint; new objects go to workers.

The ledger (bucket, key, ETag) says what was read. A prefix's checkpoint moves only past keys whose
ledger row is settled (done, or failed for good), so a crash never skips an object. S3 lists keys
in order, so this suits the usual time-ordered keys (Teleport writes .../YYYY/MM/DD/HH/...); an
object written later under a smaller key is found by "Backfill from date".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from ingestion import conf
from ingestion.clients import s3_client
from ingestion.health import clear_stage_error, record_stage_error
from ingestion.models import Checkpoint, ObjectLedger, StageError
from ingestion.notifications import ObjectRef
from ingestion.rules import PrefixRule, prefix_rules, rule_for_key
from sources.models import Source

IN_FLIGHT = timedelta(minutes=35)  # a dispatched object is not handed out again before this


def list_new_objects(
    source: Source, handle, *, limit: int | None = None, since: datetime | None = None
) -> int:
    """Hand unread objects to `handle(source_id, ref_dict)`; returns how many were handed out."""
    limit = limit or conf.list_max_objects()
    rules = prefix_rules(source.config, source.log_types)
    handed = 0
    try:
        for rule in sorted(rules, key=lambda r: r.prefix):
            handed += _list_prefix(source, rules, rule, handle, limit - handed)
            if handed >= limit:
                break
    except Exception as exc:
        record_stage_error(source.pk, StageError.Stage.RECEIVE, f"{type(exc).__name__}: {exc}")
        raise
    clear_stage_error(source.pk, StageError.Stage.RECEIVE)
    return handed


def _list_prefix(source: Source, rules, rule: PrefixRule, handle, limit: int) -> int:
    checkpoint, _ = Checkpoint.objects.get_or_create(source=source, prefix=rule.prefix)
    bucket = source.config["bucket"]
    settled_upto = checkpoint.start_after
    contiguous = True
    handed = 0
    for page in _pages(source, bucket, rule.prefix, checkpoint.start_after):
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
                if handed < limit and _due(row):
                    ref = _ref(bucket, obj)
                    _mark_dispatched(source, ref, row)
                    handle(source.pk, ref.as_dict())
                    handed += 1
            if contiguous and settled:
                settled_upto = key
            else:
                contiguous = False
        if handed >= limit:
            break
    if settled_upto != checkpoint.start_after:
        Checkpoint.objects.filter(pk=checkpoint.pk).update(
            start_after=settled_upto, updated_at=timezone.now()
        )
    return handed


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
    """Not yet handed out, or handed out long ago / failed an attempt and its backoff passed."""
    if row is None:
        return True
    age = timezone.now() - row.updated_at
    if row.attempts == 0 or row.finished_at is None:
        return age > IN_FLIGHT
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
