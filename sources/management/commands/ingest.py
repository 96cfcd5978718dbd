"""`manage.py ingest SOURCE [--once]`: read a source in this process, without Celery.

One pass (`--once`, for cron or debugging) receives its queue until empty or lists its bucket and
reads every new object; without it the pass repeats every --interval seconds until interrupted.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from ingestion.notifications import ObjectRef
from ingestion.process import ingest_object
from ingestion.readers import discovery, s3_listing, s3_notifications, sqs_events
from sources.models import Source


def find_source(value: str) -> Source:
    source = Source.objects.filter(name=value).first()
    if source is None and value.isdigit():
        source = Source.objects.filter(pk=int(value)).first()
    if source is None:
        raise CommandError(f"no source named {value!r} (give its name or id)")
    return source


class Command(BaseCommand):
    help = "Read a source's new data into the events store in this process (no Celery needed)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help="source name or id")
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between passes")

    def handle(self, *args, source: str, once: bool, interval: float, **options) -> None:
        src = find_source(source)
        while True:
            self.one_pass(src)
            if once:
                return
            time.sleep(interval)
            src.refresh_from_db()

    def one_pass(self, source: Source) -> None:
        kind = discovery(source)
        totals = {"units": 0, "events": 0}

        def notification(source_id, queue_url, message):
            verdict = s3_notifications.handle_message(source, queue_url, message)
            totals["units"] += 1
            self.stdout.write(f"message {message['message_id']}: {verdict}")

        def messages(source_id, queue_url, batch):
            totals["events"] += sqs_events.handle_messages(source, queue_url, batch)
            totals["units"] += len(batch)

        def obj(source_id, ref):
            outcome = ingest_object(source, ObjectRef(**ref))
            totals["units"] += 1
            totals["events"] += outcome.events
            line = f"s3://{ref['bucket']}/{ref['key']}: {outcome.status}, {outcome.events} events"
            if outcome.failures:
                line += f", {outcome.failures} failed lines"
            if outcome.error:
                line += f" ({outcome.error})"
            self.stdout.write(line)

        if kind == "listing":
            s3_listing.list_new_objects(source, obj)
        elif kind == "sqs":
            sqs_events.receive(source, messages, seconds=3600, until_empty=True, wait=1)
        else:
            s3_notifications.receive(source, notification, seconds=3600, until_empty=True, wait=1)
        self.stdout.write(
            self.style.SUCCESS(f"{source.name}: {totals['units']} {_unit(kind)} read")
            + (f", {totals['events']} events" if totals["events"] else "")
        )


def _unit(kind: str) -> str:
    return {"listing": "objects", "sqs": "messages", "notifications": "notifications"}[kind]
