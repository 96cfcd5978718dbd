"""An SQS queue of raw events: each body holds one JSON object, JSON lines, or an SNS envelope.

Each message is its own origin (queue name + message id), so redelivered messages store nothing
twice; messages are deleted in one call after the batch is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ingestion import conf
from ingestion.clients import sqs_client
from ingestion.health import clear_stage_error, record_stage_error
from ingestion.models import StageError
from ingestion.notifications import unwrap_sns
from sources.models import Source

from .sqs_common import Message, delete, receive_for


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
    """Receive batches of messages and hand each batch to `handle(source_id, queue_url, [msgs])`."""
    queue_url = source.config.get("queue_url") or ""
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
            handle(source.pk, queue_url, [m.as_dict() for m in batch])
            count += len(batch)
    except Exception as exc:
        record_stage_error(source.pk, StageError.Stage.RECEIVE, f"{type(exc).__name__}: {exc}")
        raise
    clear_stage_error(source.pk, StageError.Stage.RECEIVE)
    return count


def queue_name(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


def handle_messages(source: Source, queue_url: str, messages: list[dict[str, Any]]) -> int:
    """Store the events of each message, then delete them all; returns events seen."""
    from ingestion.process import ingest_body, store_empty_message

    events = 0
    origin_key = f"sqs://{queue_name(queue_url)}"
    for message in messages:
        body = unwrap_sns(message["body"])
        data = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
        if not data.strip():
            store_empty_message(source, object_key=origin_key, version=message["message_id"])
            continue
        outcome = ingest_body(
            source,
            data,
            object_key=origin_key,
            version=message["message_id"],
            log_types=source.log_types,
        )
        events += outcome.events
    delete(sqs_client(source, queue_url), queue_url, [m["receipt_handle"] for m in messages])
    return events
