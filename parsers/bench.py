"""Parse benchmark: bare `orjson.loads` vs full parse + normalize + indicators, same lines, one run.

Prints lines/s for both, and their time ratio (median of several runs). Used by
`python -m parsers bench` and `bench/parse.py`.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from parsers.parser import Origin, ParsedEvent
from parsers.pipeline import PARSE_TIME_EVERY
from parsers.registry import default_registry

TARGET_RATE = 200_000
TARGET_RATIO = 3.5


def _time_it(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(
    lines: int = 200_000,
    runs: int = 5,
    seed: int = 0,
    log_type: str = "Gravitational.TeleportAudit",
) -> dict[str, float]:
    from parsers.generate import generate_lines

    start = datetime(2024, 3, 1, tzinfo=UTC)
    data = list(generate_lines(lines, seed, start=start))
    parser = default_registry().get(log_type).parser
    origin = Origin("bench", "teleport/logs/bench.json.gz", "etag-1")
    loads = orjson.loads

    def bare() -> None:
        for raw in data:
            loads(raw)

    def full() -> None:
        parse = parser.parse
        parse_time = datetime.now(UTC)
        events = 0
        # Batches like the workers: results of one batch are consumed, then dropped.
        for base in range(0, len(data), PARSE_TIME_EVERY):
            batch = [
                parse(raw, origin, base + i + 1, parse_time=parse_time)
                for i, raw in enumerate(data[base : base + PARSE_TIME_EVERY])
            ]
            events += sum(1 for r in batch if type(r) is ParsedEvent)
            parse_time = datetime.now(UTC)
        assert events == len(data), f"only {events} of {len(data)} lines parsed"

    gc.freeze()  # the corpus itself is long-lived: keep the collector off it
    try:
        bare_times, full_times = [], []
        for _ in range(runs):  # interleaved so both see the same machine conditions
            bare_times.append(_time_it(bare))
            full_times.append(_time_it(full))
    finally:
        gc.unfreeze()
    bare_s = statistics.median(bare_times)
    full_s = statistics.median(full_times)
    return {
        "lines": len(data),
        "bytes": sum(len(r) for r in data),
        "runs": runs,
        "orjson_lines_per_s": len(data) / bare_s,
        "parse_lines_per_s": len(data) / full_s,
        "ratio": full_s / bare_s,
    }


def report(result: dict[str, float]) -> str:
    ok_rate = result["parse_lines_per_s"] >= TARGET_RATE
    ok_ratio = result["ratio"] <= TARGET_RATIO
    return "\n".join(
        [
            f"lines: {result['lines']:,} ({result['bytes'] / result['lines']:.0f} bytes avg), "
            f"median of {result['runs']} runs, one core, Python {sys.version.split()[0]}",
            f"baseline orjson.loads:          {result['orjson_lines_per_s']:>12,.0f} lines/s",
            f"parse+normalize+indicators:     {result['parse_lines_per_s']:>12,.0f} lines/s"
            f"   (target >= {TARGET_RATE:,}: {'ok' if ok_rate else 'MISSED'})",
            f"ratio (parse time / orjson time): {result['ratio']:>10.2f}x"
            f"   (target <= {TARGET_RATIO}x: {'ok' if ok_ratio else 'MISSED'})",
        ]
    )


def main(lines: int = 200_000, runs: int = 5, seed: int = 0) -> int:
    print(report(run(lines=lines, runs=runs, seed=seed)))
    return 0
