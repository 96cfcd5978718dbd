"""`test` and `list` for rule folders, shared by `python -m detections.core` and
`python manage.py detections` (which adds the configured SLUICE_RULES_DIRS)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from detections.core.model import TestResult
from detections.core.rule import Rule
from detections.core.ruleset import BUILTIN_DIR, RuleSet

USAGE = "test [PATH ...] runs the rules' YAML Tests; list shows the rules"


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=USAGE)
    commands = parser.add_subparsers(dest="command", required=True)
    test = commands.add_parser(
        "test", help="run every rule's Tests (exit 1 on a failure or a rule that does not load)"
    )
    test.add_argument("paths", nargs="*", type=Path, help="rule folders (default: all rules)")
    test.add_argument("--filter", default="", help="only rules whose RuleID contains this")
    listing = commands.add_parser("list", help="list the rules with their settings")
    listing.add_argument("paths", nargs="*", type=Path, help="rule folders (default: all rules)")
    return parser


def main(
    argv: Sequence[str] | None,
    *,
    default_dirs: Sequence[Path] = (),
    prog: str = "python -m detections.core",
    out: TextIO | None = None,
) -> int:
    """Run a command; the exit status is returned. Without PATHs: the built-in rules and
    `default_dirs`; with PATHs: the rules of those folders only."""
    out = out or sys.stdout
    args = build_parser(prog).parse_args(argv)
    if args.paths:
        ruleset = RuleSet.load(args.paths, include_builtin=False)
    else:
        ruleset = RuleSet.load(default_dirs)
    if args.command == "list":
        return list_rules(ruleset, out)
    return run_rule_tests(ruleset, out, only=args.filter)


def list_rules(ruleset: RuleSet, out: TextIO) -> int:
    row = "{:<44} {:<8} {:<9} {:>9} {:>6}  {}"
    _say(out, row.format("RuleID", "Severity", "Enabled", "Threshold", "Dedup", "LogTypes"))
    for rule in ruleset.rules():
        meta = rule.meta
        _say(
            out,
            row.format(
                meta.rule_id,
                meta.severity,
                "yes" if meta.enabled else "no",
                meta.threshold,
                f"{meta.dedup_minutes}m",
                ", ".join(meta.log_types),
            ),
        )
    _print_problems(ruleset, out)
    _say(out, _count(len(ruleset), "rule"))
    return 1 if ruleset.problems else 0


def run_rule_tests(ruleset: RuleSet, out: TextIO, *, only: str = "") -> int:
    """One line per rule, the failed tests under it; a summary; 1 when anything failed."""
    rules = [rule for rule in ruleset.rules() if only in rule.rule_id]
    failed_rules = tests = failed_tests = 0
    for rule in rules:
        results = rule.run_tests()
        tests += len(results)
        failures = [result for result in results if not result.passed]
        failed_tests += len(failures)
        failed_rules += bool(failures)
        _say(out, _rule_line(rule, results, failures))
        for result in failures:
            _say(out, f"    {_failure_line(result)}")
    _print_problems(ruleset, out)
    _say(
        out,
        f"{_count(len(rules), 'rule')}: {len(rules) - failed_rules} passed, {failed_rules} failed; "
        f"{_count(tests, 'test')}: {tests - failed_tests} passed, {failed_tests} failed; "
        f"{len(ruleset.problems)} not loaded",
    )
    return 1 if failed_rules or ruleset.problems else 0


def _rule_line(rule: Rule, results: list[TestResult], failures: list[TestResult]) -> str:
    status = "FAIL" if failures else "PASS"
    where = _short(rule.meta.path) if rule.meta.path else ""
    counted = f"{len(results) - len(failures)}/{len(results)} tests"
    return f"[{status}] {rule.rule_id} ({counted}) {where}".rstrip()


def _failure_line(result: TestResult) -> str:
    if result.actual is None:
        return f"[ERROR] {result.name}: {result.error}"
    line = f"[FAIL] {result.name}: expected {_bool(result.expected)}, got {_bool(result.actual)}"
    return f"{line}: {result.error}" if result.error else line


def _print_problems(ruleset: RuleSet, out: TextIO) -> None:
    for problem in ruleset.problems:
        _say(out, f"[NOT LOADED] {problem}")


def _say(out: TextIO, line: str) -> None:
    out.write(line + "\n")  # one write per line: Django's OutputWrapper adds no second newline


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _short(path: Path) -> str:
    try:
        return str(path.relative_to(BUILTIN_DIR.parent.parent))
    except ValueError:
        return str(path)
