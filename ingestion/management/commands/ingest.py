"""`manage.py ingest SOURCE [--once]`: read a source in this process, without Celery.

One pass (`--once`, for cron or debugging) receives its queue until empty or lists its bucket and
reads every new object; without it the pass repeats every --interval seconds until interrupted.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ingestion.process import ingest_object
from ingestion.work import SourceWork
from sources.models import Source
from sources.transports.base import ObjectRef


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
        """The source's transport makes one pass; what it hands out is read here at once."""
        transport, settings = source.transport_impl, source.settings
        events = 0

        def unit(work_unit: dict[str, Any]) -> None:
            nonlocal events
            result = transport.handle(source, settings, work_unit, work)
            events += int(result.get("events") or 0)
            if "verdict" in result:
                self.stdout.write(f"message {result.get('message')}: {result['verdict']}")

        def obj(ref: ObjectRef) -> None:
            nonlocal events
            outcome = ingest_object(source, ref)
            events += outcome.events
            line = f"s3://{ref.bucket}/{ref.key}: {outcome.status}, {outcome.events} events"
            if outcome.failures:
                line += f", {outcome.failures} failed lines"
            if outcome.error:
                line += f" ({outcome.error})"
            self.stdout.write(line)

        work = SourceWork(source, hand_out=unit, hand_out_object=obj, until_empty=True)
        result = transport.receive_pass(source, settings, work)
        self.stdout.write(
            self.style.SUCCESS(f"{source.name}: {result.handed} {result.noun} read")
            + (f", {events} events" if events else "")
        )
