"""S3 event notifications from the source's SQS queue (plain, or SNS-wrapped with raw delivery off).

A message is deleted only after every object it names is settled (stored, or failed for good);
otherwise it is made visible again after a backoff, and a message that is not a notification at
all is left alone, so the queue's redrive policy (maxReceiveCount) moves poison messages aside.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_plus

import orjson

from sources.transports import aws
from sources.transports.base import RECEIVE, ObjectRef, PassResult, Work
from sources.transports.s3.settings import S3Settings, rule_for_key

log = logging.getLogger(__name__)


class NotANotification(ValueError):
    """The body is not an S3 event notification (the message is left for the redrive policy)."""


def parse_s3_notification(body: bytes | str) -> list[ObjectRef]:
    """Created objects named by an S3 notification; [] for s3:TestEvent and non-create events."""
    inner = aws.unwrap_sns(body)
    try:
        doc = orjson.loads(inner)
    except orjson.JSONDecodeError as exc:
        raise NotANotification(f"message body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise NotANotification("message body is not a JSON object")
    if doc.get("Event") == "s3:TestEvent":
        return []
    records = doc.get("Records")
    if not isinstance(records, list):
        raise NotANotification("message has no S3 event Records")
    refs = []
    for record in records:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3") or {}
        obj = s3.get("object") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = obj.get("key")
        if not bucket or key is None:
            raise NotANotification("S3 record without bucket name or object key")
        version_id = obj.get("versionId") or None
        etag = str(obj.get("eTag") or "").strip('"')
        refs.append(
            ObjectRef(
                bucket=bucket,
                key=unquote_plus(key),
                version=version_id or etag or str(obj.get("sequencer") or ""),
                version_id=version_id,
                size=obj.get("size"),
            )
        )
    return refs


def dedupe(refs: list[ObjectRef]) -> list[ObjectRef]:
    """One ref per object version (multipart uploads announce the same key twice)."""
    seen: dict[tuple[str, str, str], ObjectRef] = {}
    for ref in refs:
        seen.setdefault((ref.bucket, ref.key, ref.version), ref)
    return list(seen.values())


def _client(settings: S3Settings):
    return settings.client("sqs", region=settings.region or aws.region_of_queue(settings.queue_url))


def receive(source, settings: S3Settings, work: Work) -> PassResult:
    """Receive notification messages and hand each out as one unit."""
    queue_url = settings.queue_url
    if not queue_url:
        work.record_error(RECEIVE, "no notification queue configured")
        return PassResult(0, noun="notifications")

    def hand_out(batch: list[aws.Message]) -> int:
        for message in batch:
            work.hand_out({"queue_url": queue_url, "message": message.as_dict()})
        return len(batch)

    count = aws.receive_pass(_client(settings), queue_url, work, hand_out)
    return PassResult(count, noun="notifications")


def handle_message(source, settings: S3Settings, unit: dict[str, Any], work: Work) -> dict:
    """Ingest the objects one notification names: the message is deleted, postponed, or left
    (poison)."""
    queue_url = unit["queue_url"]
    msg = aws.Message(**unit["message"])
    client = _client(settings)
    try:
        refs = dedupe(parse_s3_notification(msg.body))
    except NotANotification as exc:
        work.record_error(
            RECEIVE,
            f"message {msg.message_id} is not an S3 notification ({exc}); left for the queue's "
            f"redrive policy (received {msg.receive_count} times)",
        )
        return _result(msg, "poison")
    rules = settings.rules(source.log_types)
    heartbeat = aws.VisibilityHeartbeat(client, queue_url, msg.receipt_handle)
    retry_after = None
    events = 0
    for ref in refs:
        if settings.bucket and ref.bucket != settings.bucket:
            continue
        if rule_for_key(rules, ref.key) is None:
            continue
        outcome = work.read_object(ref, heartbeat=heartbeat)
        events += outcome.events
        if not outcome.settled:
            retry_after = max(retry_after or 0, outcome.retry_after)
    if retry_after is not None:
        aws.postpone(client, queue_url, msg.receipt_handle, retry_after)
        return _result(msg, "postponed", events)
    aws.delete(client, queue_url, [msg.receipt_handle])
    return _result(msg, "deleted", events)


def _result(msg: aws.Message, verdict: str, events: int = 0) -> dict[str, Any]:
    return {"message": msg.message_id, "verdict": verdict, "events": events}
