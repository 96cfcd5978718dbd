"""A loaded rule: its metadata, its module's functions, one event in → a match or not."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from types import ModuleType
from typing import Any

from detections.core.event import PantherEvent, thaw
from detections.core.model import MAX_TEXT, SEVERITIES, Match, RuleFailure, RuleMeta, TestResult

# Optional functions of a rule module besides `rule`, in the order Panther calls them.
OPTIONAL_FUNCTIONS = (
    "title",
    "dedup",
    "severity",
    "alert_context",
    "runbook",
    "reference",
    "destinations",
)
DISPATCH_NAME = "SLUICE_DISPATCH"
GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class FieldFilter:
    """The values one field must hold for a rule to run: exact text, or shell patterns."""

    values: frozenset[str]
    patterns: tuple[str, ...] = ()

    @classmethod
    def of(cls, values: Iterable[str]) -> FieldFilter:
        values = set(values)
        patterns = {v for v in values if GLOB_CHARACTERS & set(v)}
        return cls(frozenset(values - patterns), tuple(sorted(patterns)))

    def admits(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        return value in self.values or any(fnmatchcase(value, p) for p in self.patterns)


def describe(exc: BaseException) -> str:
    """An exception as `Type: text` (`KeyError: 'x'`), the message a rule error is kept by."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Rule:
    """One rule: `meta` (the YAML) and the functions of its .py.

    `dispatch` is the rule's optional `SLUICE_DISPATCH = {"field": [values...], ...}` promise:
    the rule can only match events whose every listed field holds one of its values (text, or
    a shell pattern such as "user*"), so the rule set skips every other event without calling
    it. None: the rule sees every event of its log types.
    """

    __slots__ = ("_functions", "dispatch", "matches", "meta", "module")

    def __init__(
        self,
        meta: RuleMeta,
        module: ModuleType,
        dispatch: Mapping[str, FieldFilter] | None = None,
    ) -> None:
        self.meta = meta
        self.module = module
        self.matches: Callable[[PantherEvent], Any] = module.rule
        self.dispatch = dispatch
        self._functions: dict[str, Callable[[PantherEvent], Any]] = {
            name: fn for name in OPTIONAL_FUNCTIONS if callable(fn := getattr(module, name, None))
        }

    @property
    def rule_id(self) -> str:
        return self.meta.rule_id

    def __repr__(self) -> str:
        return f"Rule({self.meta.rule_id!r})"

    def has(self, function: str) -> bool:
        """Whether the module defines this optional function (title, dedup, ...)."""
        return function in self._functions

    def accepts(self, data: Mapping[str, Any]) -> bool:
        """Whether `dispatch` lets this event through (always, without a dispatch)."""
        if self.dispatch is None:
            return True
        return all(field.admits(data.get(name)) for name, field in self.dispatch.items())

    # -- one event -----------------------------------------------------------------------------

    def check(self, event: PantherEvent) -> tuple[bool, RuleFailure | None]:
        """rule(event): (matched, None), or (False, the failure) when it raised or returned a
        non-bool (Panther requires a bool)."""
        try:
            result = self.matches(event)
        except Exception as exc:
            return False, RuleFailure(self.meta.rule_id, describe(exc))
        if result is True or result is False:
            return result, None
        return False, self.not_bool(result)

    def not_bool(self, result: object) -> RuleFailure:
        """The failure for rule() returning something else than a bool."""
        message = f"TypeError: rule() returned {type(result).__name__}, expected bool"
        return RuleFailure(self.meta.rule_id, message)

    def build_match(
        self, event: PantherEvent, severity: str | None = None
    ) -> tuple[Match, list[RuleFailure]]:
        """The match for an event rule() accepted, with the failures of the other functions
        (each failed part takes its default). `severity`: the console's override of the
        YAML severity; a per-event severity() still wins, as in Panther."""
        failures: list[RuleFailure] = []
        call = self._caller(event, failures)
        meta = self.meta
        title = _text(call("title", str)) or meta.display_name or meta.rule_id
        dedup = _text(call("dedup", str)) or (title if self.has("title") else meta.rule_id)
        base = severity or meta.severity
        level = call("severity", str)
        level = level.upper() if level else "DEFAULT"
        if level not in SEVERITIES:
            if level != "DEFAULT":
                message = f"ValueError: severity() returned {level!r}, not one of {SEVERITIES}"
                failures.append(RuleFailure(meta.rule_id, message, "severity"))
            level = base
        context = self._context(call("alert_context", Mapping), failures)
        destinations = call("destinations", list | tuple)
        match = Match(
            rule_id=meta.rule_id,
            title=title,
            dedup=dedup,
            severity=level,
            alert_context=context,
            runbook=call("runbook", str) or meta.runbook,
            reference=call("reference", str) or meta.reference,
            destinations=[str(d) for d in destinations] if destinations is not None else None,
        )
        return match, failures

    def _context(self, context: Mapping | None, failures: list[RuleFailure]) -> dict[str, Any]:
        """The alert context as plain JSON data; {} (and a failure) when it cannot be."""
        if not context:
            return {}
        try:
            return thaw(context)
        except Exception as exc:  # e.g. RecursionError on a context that contains itself
            failures.append(RuleFailure(self.meta.rule_id, describe(exc), "alert_context"))
            return {}

    def _caller(
        self, event: PantherEvent, failures: list[RuleFailure]
    ) -> Callable[[str, Any], Any]:
        def call(name: str, kind: Any) -> Any:
            fn = self._functions.get(name)
            if fn is None:
                return None
            try:
                value = fn(event)
            except Exception as exc:
                failures.append(RuleFailure(self.meta.rule_id, describe(exc), name))
                return None
            if value is not None and not isinstance(value, kind):
                message = f"TypeError: {name}() returned {type(value).__name__}"
                failures.append(RuleFailure(self.meta.rule_id, message, name))
                return None
            return value

        return call

    # -- the YAML tests ------------------------------------------------------------------------

    def run_tests(self) -> list[TestResult]:
        """Run every YAML test as `panther_analysis_tool test` does: rule() must give the
        expected result, and on a match the other functions must not fail. A test event that
        rule() matches but SLUICE_DISPATCH would skip fails too (the promise is wrong)."""
        return [self._run_test(test.name, test.expected, test.log) for test in self.meta.tests]

    def _run_test(self, name: str, expected: bool, log: Mapping[str, Any]) -> TestResult:
        event = PantherEvent(log)
        actual, failure = self.check(event)
        if failure is not None:
            return TestResult(name, expected, None, False, failure.message)
        error = None
        if actual:
            _, failures = self.build_match(event)
            if failures:
                error = "; ".join(f"{f.function}(): {f.message}" for f in failures)
            elif not self.accepts(log):
                error = f"{DISPATCH_NAME} skips this event, but rule() matches it"
        return TestResult(name, expected, actual, actual == expected and error is None, error)


def _text(value: str | None) -> str:
    return value[:MAX_TEXT] if value else ""
