"""`python manage.py detections test [PATH...]` and `python manage.py detections list`."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from detections.core.cli import USAGE, main


class Command(BaseCommand):
    help = (
        f"Detection rules: {USAGE}. Without PATHs: the built-in rules and SLUICE_RULES_DIRS; "
        "with PATHs: the rules of those folders only. Exits 1 when a test fails or a rule does "
        "not load."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("args", nargs=argparse.REMAINDER, help="test [PATH...] | list")

    def handle(self, *args: str, **options: Any) -> None:
        status = main(
            list(args),
            default_dirs=settings.SLUICE_RULES_DIRS,
            prog="python manage.py detections",
            out=self.stdout,
        )
        if status:
            raise CommandError("some rules failed their tests or did not load", returncode=status)
