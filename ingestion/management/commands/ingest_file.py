"""`manage.py ingest_file SOURCE PATH...` (manage.py also takes `ingest-file`): load local files
through the same pipeline as S3 objects. A file's content hash is its version, so loading it again
adds nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ingestion.management.commands.ingest import find_source
from ingestion.process import ObjectError, ingest_body
from parsers import STREAM_TYPES


def content_version(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Load local log files (plain or gzip/zstd/bzip2) into the events store for a source."

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help="source name or id")
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--stream-type", choices=sorted(STREAM_TYPES), default=None)
        parser.add_argument(
            "--log-type", action="append", dest="log_types", help="restrict to these log types"
        )

    def handle(self, *args, source, paths, stream_type, log_types, **options) -> None:
        src = find_source(source)
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise CommandError(f"not a file: {', '.join(missing)}")
        failed = False
        for path in paths:
            try:
                with path.open("rb") as fh:
                    outcome = ingest_body(
                        src,
                        fh,
                        object_key=f"file://{path.resolve()}",
                        version=content_version(path),
                        stream_type=stream_type,
                        log_types=log_types or src.log_types,
                        size=path.stat().st_size,
                    )
            except ObjectError as exc:
                failed = True
                self.stderr.write(f"{path}: {exc.message}")
                continue
            self.stdout.write(
                f"{path}: {outcome.events} events ({outcome.inserted} new, "
                f"{outcome.duplicates} already stored), {outcome.failures} failed lines"
            )
        if failed:
            raise CommandError("some files could not be read")
