"""Custom log types benchmark: `python bench/custom_logs.py [--lines N] [--runs R]`.

1. `python -m parsers infer`'s engine over N generated Teleport lines, beside bare
   `orjson.loads` of the same lines (target: >= 50,000 lines/s).
2. The compiled csv, regex and fastmatch parsers (full parse + normalize) over N lines each,
   beside Python's own `csv` module / one `re` fullmatch of the same lines (target: >= 0.3x).

Lines per CPU-second of this thread (a busy machine's run queue does not count), medians of R
interleaved runs.
"""

import argparse
import csv
import gc
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from parsers import Origin, compile_schema, load_schema
from parsers.infer import Inference

ORIGIN = Origin("bench", "bench.log", "")
CSV_SCHEMA = """
schema: Custom.BenchCsv
parser:
  csv: {columns: [time, user, action, src_ip, port, bytes]}
fields:
  - {name: time, type: timestamp, timeFormats: [rfc3339], isEventTime: true}
  - {name: user, type: string}
  - {name: action, type: string}
  - {name: src_ip, type: string, indicators: [ip]}
  - {name: port, type: int}
  - {name: bytes, type: bigint}
"""
NGINX_PATTERN = (
    '%{remote_addr} - %{remote_user} [%{time_local}] "%{request}" %{status} '
    '%{body_bytes_sent} "%{http_referer}" "%{http_user_agent}"'
)
NGINX_REGEX = (
    r"(?P<remote_addr>\S+) - (?P<remote_user>\S+) \[(?P<time_local>[^\]]+)\] "
    r'"(?P<request>[^"]*)" (?P<status>\d+) (?P<body_bytes_sent>\d+) '
    r'"(?P<http_referer>[^"]*)" "(?P<http_user_agent>[^"]*)"'
)
NGINX_FIELDS = """
fields:
  - {name: remote_addr, type: string, indicators: [ip]}
  - {name: remote_user, type: string}
  - {name: time_local, type: timestamp, timeFormats: ["%d/%b/%Y:%H:%M:%S %z"], isEventTime: true}
  - {name: request, type: string}
  - {name: status, type: int}
  - {name: body_bytes_sent, type: bigint}
  - {name: http_referer, type: string}
  - {name: http_user_agent, type: string}
"""


def csv_lines(n: int) -> list[bytes]:
    return [
        f"2026-11-27T10:{i // 60 % 60:02d}:{i % 60:02d}Z,user{i % 50},"
        f"{('login', 'logout', 'exec')[i % 3]},10.0.{i % 256}.{i % 7},"
        f"{1024 + i % 999},{i * 7}".encode()
        for i in range(n)
    ]


def nginx_lines(n: int) -> list[bytes]:
    return [
        f"203.0.113.{i % 256} - {'-' if i % 3 else 'alice'} [27/Nov/2026:10:{i // 60 % 60:02d}:"
        f'{i % 60:02d} +0000] "GET /page/{i % 97} HTTP/1.1" {(200, 404, 500)[i % 3]} {i % 5000} '
        f'"-" "Mozilla/5.0 (X11; Linux x86_64) bench/{i % 13}"'.encode()
        for i in range(n)
    ]


def cpu_seconds(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.thread_time()
    fn()
    return time.thread_time() - start


def interleaved(runs: int, **jobs: Callable[[], object]) -> dict[str, float]:
    """Median CPU seconds of each job, runs interleaved so machine load hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(runs):
        for name, job in jobs.items():
            times[name].append(cpu_seconds(job))
    return {name: statistics.median(t) for name, t in times.items()}


def parse_all(parser, lines: list[bytes]) -> None:
    """As parse_stream calls it: one parse time per batch of lines."""
    parse = parser.parse
    now = datetime.now(UTC)
    for number, raw in enumerate(lines, 1):
        parse(raw, ORIGIN, number, parse_time=now)


def bench_infer(n: int, runs: int) -> None:
    from devtools.generate import generate_lines

    lines = list(generate_lines(n, 0))
    loads = orjson.loads

    def bare() -> None:
        for raw in lines:
            loads(raw)

    def infer() -> None:
        inference = Inference()
        for raw in lines:
            inference.add_record(raw)
        inference.to_yaml("Custom.Bench")

    t = interleaved(runs, bare=bare, infer=infer)
    rate, base = n / t["infer"], n / t["bare"]
    verdict = "ok" if rate >= 50_000 else "MISSED"
    print(
        f"infer, {n:,} Teleport lines: {rate:,.0f} lines/s (target >= 50,000: {verdict}); "
        f"bare orjson.loads {base:,.0f} lines/s; ratio {rate / base:.2f}x"
    )


def bench_text(n: int, runs: int) -> None:
    csv_data = csv_lines(n)
    csv_text = [raw.decode() for raw in csv_data]
    nginx_data = nginx_lines(n)
    nginx_text = [raw.decode() for raw in nginx_data]
    pattern = re.compile(NGINX_REGEX)
    parsers = {
        "csv": (compile_schema(load_schema(CSV_SCHEMA)), csv_data),
        "regex": (
            compile_schema(
                load_schema(
                    "schema: Custom.BenchRegex\nparser:\n  regex:\n    match:\n      - '"
                    + NGINX_REGEX.replace("'", "''")
                    + "'\n"
                    + NGINX_FIELDS
                )
            ),
            nginx_data,
        ),
        "fastmatch": (
            compile_schema(
                load_schema(
                    "schema: Custom.BenchFast\nparser:\n  fastmatch:\n    match:\n      - '"
                    + NGINX_PATTERN
                    + "'\n"
                    + NGINX_FIELDS
                )
            ),
            nginx_data,
        ),
    }
    baselines = {
        "csv": ("csv.reader", lambda: list(csv.reader(csv_text))),
        "regex": ("re fullmatch", lambda: [pattern.fullmatch(t).groupdict() for t in nginx_text]),
        "fastmatch": (
            "re fullmatch",
            lambda: [pattern.fullmatch(t).groupdict() for t in nginx_text],
        ),
    }
    for kind, (parser, data) in parsers.items():
        label, baseline = baselines[kind]
        text = csv_text if kind == "csv" else nginx_text
        t = interleaved(
            runs,
            base=baseline,
            full=lambda p=parser, d=data: parse_all(p, d),
            split=lambda p=parser, d=text: [p._split(line) for line in d],
        )
        rate, base, split = n / t["full"], n / t["base"], n / t["split"]
        ratio = rate / base
        verdict = "ok" if ratio >= 0.3 else "MISSED"
        print(
            f"{kind}, {n:,} lines: full parse {rate:,.0f} lines/s, {ratio:.2f}x {label} alone "
            f"({base:,.0f} lines/s; target >= 0.3x: {verdict}); cutting into values only "
            f"{split:,.0f} lines/s, {split / base:.2f}x"
        )


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--lines", type=int, default=100_000)
    cli.add_argument("--runs", type=int, default=5)
    args = cli.parse_args()
    bench_infer(args.lines, args.runs)
    bench_text(args.lines, args.runs)
