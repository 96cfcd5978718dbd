"""S3 by listing: each prefix is listed (paginated) from its checkpoint; new objects go to workers.

The ledger (bucket, key, ETag) says what was read. A prefix's checkpoint moves only past keys whose
ledger entry is settled (done, or failed for good), so a crash never skips an object. S3 lists keys
in order, so this suits the usual time-ordered keys (Teleport writes .../YYYY/MM/DD/HH/...); an
object written later under a smaller key is found by "Backfill from date".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings as django_settings

from sources.transports.base import RECEIVE, ObjectRef, PassResult, Work
from sources.transports.s3.settings import PrefixRule, S3Settings, rule_for_key


class _Pass:
    """What one listing pass may still do: hand out `limit` objects while the workers keep up."""

    def __init__(self, limit: int, work: Work) -> None:
        self.limit = limit
        self.work = work
        self.handed = 0
        self.stopped = False

    def may_hand_out(self) -> bool:
        if self.handed >= self.limit or (self.handed % 10 == 0 and not self.work.keep_going()):
            self.stopped = True
        return not self.stopped


def list_new_objects(source, settings: S3Settings, work: Work) -> PassResult:
    """Hand unread objects to `work.hand_out_object`, reporting progress after each page and
    object (a lister renews its lock), until SLUICE_LIST_MAX_OBJECTS objects are handed out or
    `work.keep_going()` says the workers have enough."""
    budget = _Pass(int(django_settings.SLUICE_LIST_MAX_OBJECTS), work)
    rules = settings.rules(source.log_types)
    try:
        for rule in sorted(rules, key=lambda r: r.prefix):
            _list_prefix(settings, rules, rule, work, budget)
            if budget.stopped:
                break
    except Exception as exc:
        work.record_error(RECEIVE, f"{type(exc).__name__}: {exc}")
        raise
    work.clear_error(RECEIVE)
    return PassResult(handed=budget.handed, complete=not budget.stopped, noun="objects")


def _list_prefix(
    settings: S3Settings, rules: list[PrefixRule], rule: PrefixRule, work: Work, budget: _Pass
) -> None:
    start_after = work.checkpoint(rule.prefix)
    bucket = settings.bucket
    settled_upto = start_after
    contiguous = True
    for page in _pages(settings, rule.prefix, start_after):
        work.progress()
        ours = {o["Key"] for o in page if rule_for_key(rules, o["Key"]) is rule}
        ledger = work.ledger([_ref(bucket, o) for o in page if o["Key"] in ours])
        for obj in page:
            key = obj["Key"]
            entry = ledger.get((key, _etag(obj)))
            if key not in ours:
                settled = True  # excluded, or another (longer) prefix's object
            elif entry is not None and entry.settled:
                settled = True
            else:
                settled = False
                if (entry is None or entry.due) and budget.may_hand_out():
                    ref = _ref(bucket, obj)
                    work.mark_dispatched(ref)
                    work.hand_out_object(ref)
                    budget.handed += 1
                    work.progress()
            if contiguous and settled:
                settled_upto = key
            else:
                contiguous = False
        if budget.stopped:
            break
    if settled_upto != start_after:
        work.move_checkpoint(rule.prefix, settled_upto)


def list_since(source, settings: S3Settings, since: datetime) -> list[ObjectRef]:
    """Every object under the source's prefixes modified at or after `since` (for backfills)."""
    rules = settings.rules(source.log_types)
    refs = []
    for prefix in sorted({r.prefix for r in rules}):
        for page in _pages(settings, prefix, ""):
            for obj in page:
                if obj["LastModified"] >= since and rule_for_key(rules, obj["Key"]) is not None:
                    refs.append(_ref(settings.bucket, obj))
    return refs


def _pages(settings: S3Settings, prefix: str, start_after: str):
    paginator = settings.client("s3").get_paginator("list_objects_v2")
    params: dict[str, Any] = {"Bucket": settings.bucket, "Prefix": prefix}
    if start_after:
        params["StartAfter"] = start_after
    for page in paginator.paginate(**params):
        yield page.get("Contents", [])


def _etag(obj: dict[str, Any]) -> str:
    return str(obj.get("ETag", "")).strip('"')


def _ref(bucket: str, obj: dict[str, Any]) -> ObjectRef:
    return ObjectRef(bucket=bucket, key=obj["Key"], version=_etag(obj), size=obj.get("Size"))
