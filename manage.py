#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Other spellings of commands (the README's `ingest-file` is the command `ingest_file`).
COMMAND_ALIASES = {"ingest-file": "ingest_file"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    if len(argv) > 1:
        argv[1] = COMMAND_ALIASES.get(argv[1], argv[1])
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
