"""`python manage.py seed_events --events N [--days 30] [--seed S]`: generated events, fast."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from events.models import source_model
from events.seed import Throughput, seed_events


class Command(BaseCommand):
    help = (
        "Load N generated Teleport audit events (parsed by the real parser) into the events "
        "table: COPY from parallel workers on PostgreSQL, bulk inserts on SQLite."
    )

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, required=True, help="how many events")
        parser.add_argument("--days", type=float, default=30, help="spread over the last N days")
        parser.add_argument("--seed", type=int, default=0, help="generator seed")
        parser.add_argument("--source", default="", help="attach to the log source with this name")
        parser.add_argument("--workers", type=int, default=0, help="PostgreSQL worker processes")
        parser.add_argument(
            "--defer-indexes",
            action="store_true",
            help="PostgreSQL bulk load: drop the search indexes, COPY, rebuild them (much faster "
            "for millions of rows; searches are slow until the rebuild ends)",
        )

    def handle(self, *args, events: int, days: float, seed: int, source: str, **options):
        workers, defer_indexes = options["workers"], options["defer_indexes"]
        if events < 1:
            raise CommandError("--events must be at least 1")
        if days <= 0:
            raise CommandError("--days must be positive")
        source_id = None
        if source:
            found = source_model()._default_manager.filter(name=source).first()
            if found is None:
                raise CommandError(f"no log source named {source!r}")
            source_id = found.pk
        started = time.monotonic()
        written = seed_events(
            events,
            days=days,
            seed=seed,
            source_id=source_id,
            workers=workers or None,
            defer_indexes=defer_indexes,
            write=self.stdout.write,
            progress=Throughput(self.stdout.write),
        )
        elapsed = time.monotonic() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE events_event")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {written:,} events over {days:g} days in {elapsed:.1f}s "
                f"({written / max(elapsed, 1e-9):,.0f} events/s, {connection.vendor})"
            )
        )
