"""The parse benchmark (devtools/bench.py), run as documented: `python bench/parse.py`."""

import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

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


@pytest.fixture
def http_server():
    """Answers 200 on any path, 500 on paths holding 'fail' (warm-up requests included)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(500 if "fail" in self.path else 200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_search_bench_counts_every_failed_request_and_raises(http_server):
    sys.path.insert(0, str(ROOT / "bench"))
    import search

    assert len(search.measure_http(http_server, "/rows", "c", "t", runs=8, clients=2)) == 8
    with pytest.raises(search.RequestErrors) as failed:
        search.measure_http(http_server, "/fail", "c", "t", runs=8, clients=2)
    assert len(failed.value.errors) == 10  # 2 warm-up + 8 measured: none ignored
    assert failed.value.errors[0].startswith("warm-up: HTTP 500")
