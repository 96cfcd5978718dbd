"""`python -m detections.core test [PATH...]` / `list [PATH...]`, without Django."""

import sys

from detections.core.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
