"""Rule benchmark: `python bench/rules.py [--events N] [--runs R] [--seed S] [--rules-dir DIR]`.

Generates N Teleport lines (devtools.generate), parses them (the baseline: parse + normalize +
indicators, as bench/parse.py's headline) and evaluates every built-in rule over the same
events, batch by batch as ingestion does; for reference also with dispatch turned off (every
rule called for every event). Events per CPU-second of one core (thread time), medians of R
interleaved rounds.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detections.core import Rule, RuleSet
from devtools.generate import generate_lines
from parsers.parser import Origin, ParsedEvent
from parsers.pipeline import PARSE_TIME_EVERY, gc_tuned
from parsers.registry import default_registry

LOG_TYPE = "Gravitational.TeleportAudit"
TARGET_RATE = 200_000
BATCH = PARSE_TIME_EVERY


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU seconds of this thread: one core's work, not the wait for a busy machine's CPU."""
    gc.collect()
    start = time.thread_time()
    fn()
    return time.thread_time() - start


def without_dispatch(ruleset: RuleSet) -> RuleSet:
    """The same rules, each called for every event of its log types."""
    return RuleSet(Rule(rule.meta, rule.module, None) for rule in ruleset.rules())


def run(events: int, runs: int, seed: int, rules_dirs: list[Path]) -> dict:
    lines = list(generate_lines(events, seed, start=datetime(2024, 3, 1, tzinfo=UTC)))
    parser = default_registry().get(LOG_TYPE).parser
    origin = Origin("bench", "teleport/logs/bench.json.gz", "etag-1")
    line_batches = [lines[i : i + BATCH] for i in range(0, len(lines), BATCH)]
    parsed = [parser.parse(raw, origin, n) for n, raw in enumerate(lines, 1)]
    dicts = [p.to_json_dict() for p in parsed if type(p) is ParsedEvent]
    if len(dicts) != len(lines):
        raise RuntimeError(f"only {len(dicts)} of {len(lines)} lines parsed")
    del parsed
    event_batches = [dicts[i : i + BATCH] for i in range(0, len(dicts), BATCH)]
    ruleset = RuleSet.load(rules_dirs)
    if ruleset.problems:
        raise RuntimeError("; ".join(ruleset.problems))
    plain = without_dispatch(ruleset)
    matches: Counter[str] = Counter()

    def parse() -> None:  # the baseline: batches of results kept, as a worker does
        line = 0
        for batch in line_batches:
            parse_time = datetime.now(UTC)
            results = [
                parser.parse(raw, origin, line := line + 1, parse_time=parse_time) for raw in batch
            ]
        del results

    def evaluate(rules: RuleSet, count: bool = False) -> Callable[[], None]:
        def go() -> None:
            for batch in event_batches:
                evaluation = rules.evaluate(LOG_TYPE, batch)
                if evaluation.failures:
                    raise RuntimeError(f"rule errors: {evaluation.failures[:3]}")
                if count:
                    matches.update(match.rule_id for _, match in evaluation.matches)

        return go

    evaluate(ruleset, count=True)()  # warm the dispatch tables once, and count the matches
    times: dict[str, list[float]] = {"parse": [], "rules": [], "no_dispatch": []}
    gc.freeze()  # the corpus is long-lived: keep the collector off it
    try:
        with gc_tuned():
            for _ in range(runs):  # interleaved so all see the same machine conditions
                times["parse"].append(cpu_seconds(parse))
                times["rules"].append(cpu_seconds(evaluate(ruleset)))
                times["no_dispatch"].append(cpu_seconds(evaluate(plain)))
    finally:
        gc.unfreeze()
    rates = {name: len(dicts) / statistics.median(ts) for name, ts in times.items()}
    return {
        "events": len(dicts),
        "rules": len(ruleset),
        "runs": runs,
        "rates": rates,
        "matches": matches,
    }


def report(result: dict) -> str:
    rates = result["rates"]
    ok = rates["rules"] >= TARGET_RATE
    share = rates["rules"] and rates["parse"] / rates["rules"]
    matches = result["matches"]
    lines = [
        f"events: {result['events']:,} generated Teleport events, {result['rules']} rules, "
        f"batches of {BATCH}, medians of {result['runs']} interleaved runs, "
        f"CPU time of one core, Python {sys.version.split()[0]}",
        f"{'stage':<48} {'events/s':>12}",
        f"{'parse + normalize + indicators (baseline)':<48} {rates['parse']:>12,.0f}",
        f"{'all rules, with dispatch (HEADLINE)':<48} {rates['rules']:>12,.0f}",
        f"{'all rules, every rule called for every event':<48} {rates['no_dispatch']:>12,.0f}",
        f"headline: {rates['rules']:,.0f} events/s (target >= {TARGET_RATE:,}: "
        f"{'ok' if ok else 'MISSED'}); the rules cost {share:.0%} of the parse time; "
        f"dispatch is {rates['rules'] / rates['no_dispatch']:.1f}x faster than calling every rule",
        f"matches per run: {sum(matches.values()):,} "
        f"({', '.join(f'{rule} {n:,}' for rule, n in matches.most_common())})",
    ]
    return "\n".join(lines)


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--events", type=int, default=200_000)
    cli.add_argument("--runs", type=int, default=5)
    cli.add_argument("--seed", type=int, default=0)
    cli.add_argument(
        "--rules-dir", type=Path, action="append", default=[], help="more rule folders"
    )
    args = cli.parse_args()
    print(report(run(args.events, args.runs, args.seed, args.rules_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
