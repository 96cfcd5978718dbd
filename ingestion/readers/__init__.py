"""Transport readers keyed by how a source delivers: one module per transport, one registry entry.

Each reader makes one pass (`receive` from a queue or `list` a bucket) and hands the units of work
to `handle` — a Celery `.delay` in workers, a direct call in `manage.py ingest --once`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sources.models import Source

from . import s3_listing, s3_notifications, sqs_events

Handle = Callable[..., Any]


def discovery(source: Source) -> str:
    """ "notifications", "listing" or "sqs": how new data of this source is found."""
    if source.transport == Source.Transport.SQS:
        return "sqs"
    return "listing" if source.config.get("discovery") == "listing" else "notifications"


READERS = {
    "notifications": s3_notifications.receive,
    "sqs": sqs_events.receive,
    "listing": s3_listing.list_new_objects,
}
