"""The engine's value types: a rule's metadata and tests, matches, failures, test results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")
DEFAULT_THRESHOLD = 1
DEFAULT_DEDUP_MINUTES = 60
MAX_TEXT = 1000  # Panther cuts titles and dedup strings at 1000 characters


@dataclass(frozen=True, slots=True)
class RuleTest:
    """One YAML `Tests` entry: an event and whether the rule must match it."""

    name: str
    expected: bool
    log: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """What a rule's .yml says (Panther keys, normalized: severity upper case, tuples)."""

    rule_id: str
    display_name: str
    enabled: bool
    log_types: tuple[str, ...]
    severity: str
    threshold: int = DEFAULT_THRESHOLD
    dedup_minutes: int = DEFAULT_DEDUP_MINUTES
    tags: tuple[str, ...] = ()
    reports: dict[str, list[str]] = field(default_factory=dict)
    description: str = ""
    runbook: str = ""
    reference: str = ""
    tests: list[RuleTest] = field(default_factory=list)
    path: Path | None = None  # the .yml
    summary_attributes: tuple[str, ...] = ()


@dataclass(slots=True)
class Match:
    """A rule matched one event: what the alert needs from that event."""

    rule_id: str
    title: str
    dedup: str
    severity: str
    alert_context: dict[str, Any]
    runbook: str
    reference: str
    destinations: list[str] | None


@dataclass(frozen=True, slots=True)
class RuleFailure:
    """A rule function raised (or returned the wrong type) on one event.

    `message` is the exception as `Type: text`; `function` names which of the rule's
    functions failed (`rule`, `title`, `dedup`, ...). A failure in `rule` means no match;
    one in another function still gives the match, with that part's default.
    """

    rule_id: str
    message: str
    function: str = "rule"


@dataclass(slots=True)
class Evaluation:
    """Matches and failures of one batch, each with the index of its event in the batch."""

    matches: list[tuple[int, Match]] = field(default_factory=list)
    failures: list[tuple[int, RuleFailure]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TestResult:
    """One YAML test of a rule: `actual` is None when the rule raised (`error` says why)."""

    __test__ = False  # not a pytest test class

    name: str
    expected: bool
    actual: bool | None
    passed: bool
    error: str | None = None
