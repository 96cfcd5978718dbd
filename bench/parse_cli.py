"""Parser command line benchmark: `python bench/parse_cli.py [--lines N] [--runs R] [--before REF]`.

Writes N generated Teleport lines to a file, then times, as separate processes interleaved R
times, (1) the floor: read the lines, `orjson.loads` and `orjson.dumps` each, write them out;
(2) `python -m parsers parse --log-type Gravitational.TeleportAudit --failures f.jsonl lines.jsonl
> out.jsonl`; and with `--before REF` (3) the same command run from `git archive REF`. Each figure
is the child's CPU time (user + system, from wait4: a busy machine's run queue does not count);
medians of R runs; the ratio is CLI time / floor time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 5.0
LOG_TYPE = "Gravitational.TeleportAudit"
FLOOR = """
import sys, orjson
loads, dumps, write = orjson.loads, orjson.dumps, sys.stdout.buffer.write
with open(sys.argv[1], "rb") as lines:
    for line in lines:
        write(dumps(loads(line), option=orjson.OPT_APPEND_NEWLINE))
"""


def write_lines(path: Path, count: int, seed: int) -> int:
    from datetime import UTC, datetime

    from devtools.generate import generate_lines

    start = datetime(2024, 3, 1, tzinfo=UTC)
    size = 0
    with path.open("wb") as out:
        for raw in generate_lines(count, seed, start=start):
            out.write(raw + b"\n")
            size += len(raw) + 1
    return size


def cpu_seconds(argv: list[str], stdout: Path, cwd: Path) -> float:
    """User + system CPU seconds of one child process (its output to a file, as a user runs it)."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    with stdout.open("wb") as out:
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, cwd=cwd, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}): {stderr}")
    return usage.ru_utime + usage.ru_stime


def cli_argv(failures: Path, lines: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "parsers",
        "parse",
        "--log-type",
        LOG_TYPE,
        "--failures",
        str(failures),
        str(lines),
    ]


def checkout(ref: str, into: Path) -> Path:
    """The tree of `ref` (its parsers package) in a folder of its own."""
    archive = subprocess.run(
        ["git", "archive", ref, "parsers"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--lines", type=int, default=200_000)
    cli.add_argument("--runs", type=int, default=3)
    cli.add_argument("--seed", type=int, default=0)
    cli.add_argument("--before", help="git ref whose command line to time beside this one")
    args = cli.parse_args()

    with tempfile.TemporaryDirectory(prefix="sluice-parse-cli-") as tmp:
        tmp_path = Path(tmp)
        lines = tmp_path / "lines.jsonl"
        size = write_lines(lines, args.lines, args.seed)
        out, failures = tmp_path / "out.jsonl", tmp_path / "failures.jsonl"
        commands = {
            "floor": ([sys.executable, "-c", FLOOR, str(lines)], ROOT),
            "cli": (cli_argv(failures, lines), ROOT),
        }
        if args.before:
            before = checkout(args.before, tmp_path / "before")
            commands[f"cli at {args.before}"] = (cli_argv(failures, lines), before)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):  # interleaved: every command sees the same machine
            for name, (argv, cwd) in commands.items():
                times[name].append(cpu_seconds(argv, out, cwd))
        events = sum(1 for _ in out.open("rb"))
    floor = statistics.median(times["floor"])
    print(
        f"{args.lines:,} generated Teleport lines ({size / args.lines:.0f} bytes avg), "
        f"{events:,} events out; CPU seconds of each process, medians of {args.runs} "
        f"interleaved runs; Python {sys.version.split()[0]}"
    )
    print(f"{'command':<28} {'lines/s':>10} {'CPU s':>8} {'x floor':>8}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:<28} {args.lines / median:>10,.0f} {median:>8.2f} {median / floor:>7.2f}x")
    ratio = statistics.median(times["cli"]) / floor
    verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
    print("floor = read + orjson.loads + orjson.dumps + write per line (baseline of this run)")
    print(
        f"headline: the command line at {ratio:.2f}x the floor "
        f"(target <= {TARGET_RATIO}x: {verdict})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
