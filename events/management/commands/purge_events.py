"""`manage.py purge_events [--days N]`: delete events older than the retention, in batches (and
what other apps keep about them: alerts and rule matches)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from events.retention import purge_expired, retention_cutoff


class Command(BaseCommand):
    help = "Delete events older than SLUICE_EVENT_RETENTION_DAYS (or --days), in small batches."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, default=None, help="override the retention")
        parser.add_argument("--batch", type=int, default=5000)

    def handle(self, *args, days, batch, **options):
        if days is not None and days <= 0:
            raise CommandError("--days must be positive")
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        cutoff = retention_cutoff(retention=timedelta(days=days) if days else None)
        deleted = purge_expired(cutoff, batch=batch, report=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(f"Deleted {deleted:,} events older than {cutoff:%Y-%m-%d %H:%M} UTC")
        )
