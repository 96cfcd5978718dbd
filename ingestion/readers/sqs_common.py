"""Receiving from and acknowledging to an SQS queue; shared by both queue-driven readers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingestion import conf


@dataclass(frozen=True)
class Message:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int = 1
    sent_at: float = 0.0  # Unix time SQS accepted the message (SentTimestamp)

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "receipt_handle": self.receipt_handle,
            "body": self.body,
            "receive_count": self.receive_count,
            "sent_at": self.sent_at,
        }


def receive_batch(client: Any, queue_url: str, *, wait: int) -> list[Message]:
    response = client.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=max(0, min(20, wait)),
        VisibilityTimeout=conf.visibility_seconds(),
        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
    )
    return [_message(m) for m in response.get("Messages", [])]


def _message(raw: dict[str, Any]) -> Message:
    attributes = raw.get("Attributes") or {}
    return Message(
        raw["MessageId"],
        raw["ReceiptHandle"],
        raw["Body"],
        int(attributes.get("ApproximateReceiveCount", 1)),
        int(attributes.get("SentTimestamp", 0)) / 1000,
    )


def receive_for(
    client: Any,
    queue_url: str,
    *,
    seconds: float,
    wait: int,
    until_empty: bool,
    on_receive: Callable[[list[Message]], None] | None = None,
    keep_going: Callable[[], bool] | None = None,
):
    """Batches of messages, long polling for up to `seconds` (or until the first empty receive,
    or until `keep_going()` says the workers have enough). `on_receive(batch)` is called after
    every receive, empty or not (a receiver renews its lock and notes its lag)."""
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (keep_going is not None and not keep_going()):
            return
        batch = receive_batch(client, queue_url, wait=min(wait, int(remaining)))
        if on_receive:
            on_receive(batch)
        if batch:
            yield batch
        elif until_empty:
            return


def delete(client: Any, queue_url: str, receipt_handles: list[str]) -> None:
    for start in range(0, len(receipt_handles), 10):
        chunk = receipt_handles[start : start + 10]
        client.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)],
        )


def postpone(client: Any, queue_url: str, receipt_handle: str, seconds: int) -> None:
    """Make the message visible again after `seconds` (backoff before the next attempt)."""
    client.change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, seconds)
    )


class VisibilityHeartbeat:
    """Called between batches: keeps a long object's message hidden while it is being read."""

    def __init__(self, client: Any, queue_url: str, receipt_handle: str) -> None:
        self.client = client
        self.queue_url = queue_url
        self.receipt_handle = receipt_handle
        self.timeout = conf.visibility_seconds()
        self.last = time.monotonic()

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self.last >= self.timeout / 3:
            postpone(self.client, self.queue_url, self.receipt_handle, self.timeout)
            self.last = now
