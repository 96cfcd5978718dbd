"""`manage.py ingest-file SOURCE PATH...`: the same command as `ingest_file`."""

from sources.management.commands.ingest_file import Command

__all__ = ["Command"]
