"""The parse benchmark (devtools/bench.py), run as documented: `python bench/parse.py`."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_parse_runs_small():
    done = subprocess.run(
        [sys.executable, "bench/parse.py", "--lines", "2000", "--runs", "1"],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "baseline orjson.loads" in out
    assert "batches of 1024 results kept (HEADLINE)" in out
    assert "each result dropped at once (reference)" in out
    assert re.search(r"headline: [\d,]+ lines/s .*, [\d.]+x bare orjson.loads", out)


def test_the_worker_side_packages_do_not_import_devtools():
    code = (
        "import sys, parsers, parsers.__main__; "
        "assert not [m for m in sys.modules if m.startswith('devtools')], 'devtools imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
