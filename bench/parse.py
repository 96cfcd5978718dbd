"""Parse benchmark: `python bench/parse.py [--lines N] [--runs R] [--seed S]`.

Prints bare orjson.loads lines/s, full parse + normalize + indicators lines/s over the same
generated Teleport lines, and their ratio (medians of R interleaved runs, one core).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.bench import main

if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--lines", type=int, default=200_000)
    cli.add_argument("--runs", type=int, default=5)
    cli.add_argument("--seed", type=int, default=0)
    args = cli.parse_args()
    sys.exit(main(lines=args.lines, runs=args.runs, seed=args.seed))
