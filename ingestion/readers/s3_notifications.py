"""S3 event notifications from the source's SQS queue (plain, or SNS-wrapped with raw delivery off).

A message is deleted only after every object it names is settled (stored, or failed for good);
otherwise it is made visible again after a backoff, and a message that is not a notification at
all is left alone, so the queue's redrive policy (maxReceiveCount) moves poison messages aside.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ingestion import conf
from ingestion.clients import sqs_client
from ingestion.health import clear_stage_error, record_stage_error
from ingestion.models import StageError
from ingestion.notifications import NotANotification, ObjectRef, dedupe, parse_s3_notification
from sources.models import Source

from .sqs_common import Message, VisibilityHeartbeat, delete, postpone, receive_for

log = logging.getLogger(__name__)


def receive(
    source: Source,
    handle,
    *,
    seconds: float | None = None,
    until_empty: bool = False,
    wait: int | None = None,
    on_receive: Callable[[list[Message]], None] | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> int:
    """Receive notification messages and hand each to `handle(source_id, queue_url, message)`."""
    queue_url = source.config.get("queue_url") or ""
    if not queue_url:
        record_stage_error(source.pk, StageError.Stage.RECEIVE, "no notification queue configured")
        return 0
    client = sqs_client(source, queue_url)
    count = 0
    try:
        for batch in receive_for(
            client,
            queue_url,
            seconds=conf.poll_seconds() if seconds is None else seconds,
            until_empty=until_empty,
            wait=conf.wait_seconds() if wait is None else wait,
            on_receive=on_receive,
            keep_going=keep_going,
        ):
            for message in batch:
                handle(source.pk, queue_url, message.as_dict())
                count += 1
    except Exception as exc:
        record_stage_error(source.pk, StageError.Stage.RECEIVE, f"{type(exc).__name__}: {exc}")
        raise
    clear_stage_error(source.pk, StageError.Stage.RECEIVE)
    return count


def handle_message(source: Source, queue_url: str, message: dict[str, Any]) -> str:
    """Ingest the objects one notification names; returns deleted | postponed | poison."""
    from ingestion.process import ingest_object
    from ingestion.rules import prefix_rules, rule_for_key

    msg = Message(**message)
    client = sqs_client(source, queue_url)
    try:
        refs = dedupe(parse_s3_notification(msg.body))
    except NotANotification as exc:
        record_stage_error(
            source.pk,
            StageError.Stage.RECEIVE,
            f"message {msg.message_id} is not an S3 notification ({exc}); left for the queue's "
            f"redrive policy (received {msg.receive_count} times)",
        )
        return "poison"
    rules = prefix_rules(source.config, source.log_types)
    bucket = source.config.get("bucket")
    heartbeat = VisibilityHeartbeat(client, queue_url, msg.receipt_handle)
    worst_attempt = 0
    for ref in refs:
        if bucket and ref.bucket != bucket:
            continue
        if rule_for_key(rules, ref.key) is None:
            continue
        outcome = ingest_object(source, ref, heartbeat=heartbeat)
        if not outcome.settled:
            worst_attempt = max(worst_attempt, _attempts(source, ref))
    if worst_attempt:
        postpone(client, queue_url, msg.receipt_handle, backoff_seconds(worst_attempt))
        return "postponed"
    delete(client, queue_url, [msg.receipt_handle])
    return "deleted"


def _attempts(source: Source, ref: ObjectRef) -> int:
    from ingestion.models import ObjectLedger

    return (
        ObjectLedger.objects.filter(
            source=source, bucket=ref.bucket, key=ref.key, version=ref.version
        )
        .values_list("attempts", flat=True)
        .first()
        or 1
    )


def backoff_seconds(attempt: int) -> int:
    return int(conf.retry_base_seconds() * 2 ** max(0, attempt - 1))
