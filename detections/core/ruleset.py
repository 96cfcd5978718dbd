"""The rules of the built-in folder and the operator's folders, and evaluation of a batch.

Evaluation looks each event's rules up once, by log type and by the field the rules dispatch
on (Teleport's `event`): an event no rule can match costs one dict lookup, and the event
wrapper is only built when some rule applies.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from detections.core.event import PantherEvent
from detections.core.loader import load_folder
from detections.core.model import SEVERITIES, Evaluation, RuleFailure
from detections.core.rule import Rule, describe

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "rules"
MEMO_LIMIT = 4096  # dispatch keys remembered per table (the fields are event data: bounded)
TABLE_LIMIT = 64  # dispatch tables kept (one per log type and enabled set in practice)


class RuleSet:
    """Rules by id, in load order; `problems` lists the files that did not load."""

    def __init__(self, rules: Iterable[Rule] = (), problems: Iterable[str] = ()) -> None:
        self._rules: dict[str, Rule] = {}
        for rule in rules:
            self._rules[rule.rule_id] = rule
        self.problems: list[str] = list(problems)
        self._tables: dict[tuple[str, frozenset[str], frozenset[str]], _Dispatch] = {}

    @classmethod
    def load(cls, dirs: Iterable[Path | str] = (), *, include_builtin: bool = True) -> RuleSet:
        """The built-in rules (detections/rules/) and those of `dirs`, in that order; a rule
        of a later folder replaces an earlier one with the same RuleID. Never raises."""
        folders = [BUILTIN_DIR] if include_builtin else []
        folders += [Path(d) for d in dirs if str(d)]
        rules: list[Rule] = []
        problems: list[str] = []
        for folder in folders:
            loaded = load_folder(folder)
            rules += loaded.rules
            problems += loaded.problems
        return cls(rules, problems)

    def rules(self) -> list[Rule]:
        return list(self._rules.values())

    def get(self, rule_id: str) -> Rule | None:
        return self._rules.get(rule_id)

    def __len__(self) -> int:
        return len(self._rules)

    def log_types(self) -> list[str]:
        """Every log type some rule reads."""
        return sorted({t for rule in self._rules.values() for t in rule.meta.log_types})

    def active(
        self, log_type: str, *, disabled: Collection[str] = (), enabled: Collection[str] = ()
    ) -> list[Rule]:
        """The rules evaluate() runs for this log type: the YAML's Enabled, unless the rule id
        is in `disabled` (turned off) or `enabled` (turned on against the YAML)."""
        return list(self._table(log_type, disabled, enabled).rules)

    def evaluate(
        self,
        log_type: str,
        events: Sequence[Mapping[str, Any]],
        *,
        disabled: Collection[str] = (),
        severity_overrides: Mapping[str, str] | None = None,
        enabled: Collection[str] = (),
        wrap: Callable[[int], Mapping[str, Any]] | None = None,
    ) -> Evaluation:
        """Run the active rules of `log_type` over normalized events (the parser's dicts).

        Matches and failures carry the index of their event in `events`. A rule that raises
        is a failure for that event; the other rules, and later events, go on. `wrap(index)`,
        when given, is what the rules see of that event (e.g. with fields the dicts lack); the
        dispatch reads `events` themselves, so only events some rule applies to are wrapped.
        """
        table = self._table(log_type, disabled, enabled)
        result = Evaluation()
        if not table.rules:
            return result
        overrides = _overrides(severity_overrides)
        _run_here = _run if wrap is None else _wrapped(wrap)
        if not table.fields:
            for index, data in enumerate(events):
                _run_here(table.rules, index, data, overrides, result)
        elif len(table.fields) == 1:
            name = table.fields[0]
            memo = table.memo
            for index, data in enumerate(events):
                key = data.get(name)
                try:
                    rules = memo[key]
                except (KeyError, TypeError):
                    rules = table.resolve(key, data)
                if rules:
                    _run_here(rules, index, data, overrides, result)
        else:
            fields, memo = table.fields, table.memo
            for index, data in enumerate(events):
                key = tuple(map(data.get, fields))
                try:
                    rules = memo[key]
                except (KeyError, TypeError):
                    rules = table.resolve(key, data)
                if rules:
                    _run_here(rules, index, data, overrides, result)
        return result

    def _table(
        self, log_type: str, disabled: Collection[str], enabled: Collection[str]
    ) -> _Dispatch:
        key = (log_type, frozenset(disabled), frozenset(enabled))
        table = self._tables.get(key)
        if table is None:
            if len(self._tables) >= TABLE_LIMIT:
                self._tables.clear()
            rules = tuple(
                rule
                for rule in self._rules.values()
                if log_type in rule.meta.log_types
                and rule.rule_id not in key[1]
                and (rule.meta.enabled or rule.rule_id in key[2])
            )
            table = self._tables[key] = _Dispatch(rules)
        return table


class _Dispatch:
    """The active rules of one log type, and which of them each dispatch value reaches."""

    __slots__ = ("fields", "memo", "rules")

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self.fields = tuple(sorted({name for r in rules if r.dispatch for name in r.dispatch}))
        self.memo: dict[Any, tuple[Rule, ...]] = {}

    def resolve(self, key: Any, data: Mapping[str, Any]) -> tuple[Rule, ...]:
        rules = tuple(rule for rule in self.rules if rule.accepts(data))
        if len(self.memo) >= MEMO_LIMIT:
            self.memo.clear()  # many distinct values: start over rather than grow
        # an unhashable value (a list where a string was expected) is not remembered
        with suppress(TypeError):
            self.memo[key] = rules
        return rules


def _wrapped(wrap: Callable[[int], Mapping[str, Any]]) -> Callable[..., None]:
    """_run on what `wrap` makes of each event instead of the dispatched dict."""

    def run(rules, index, data, overrides, result) -> None:
        _run(rules, index, wrap(index), overrides, result)

    return run


def _run(
    rules: tuple[Rule, ...],
    index: int,
    data: Mapping[str, Any],
    overrides: Mapping[str, str],
    result: Evaluation,
) -> None:
    event = PantherEvent(data)
    for rule in rules:
        try:
            hit = rule.matches(event)
        except Exception as exc:
            result.failures.append((index, RuleFailure(rule.meta.rule_id, describe(exc))))
            continue
        if hit is True:
            match, failures = rule.build_match(event, overrides.get(rule.meta.rule_id))
            result.matches.append((index, match))
            result.failures += [(index, failure) for failure in failures]
        elif hit is not False:
            result.failures.append((index, rule.not_bool(hit)))


def _overrides(severity_overrides: Mapping[str, str] | None) -> dict[str, str]:
    """Valid severity overrides, upper case; an unknown level is ignored (the YAML's holds)."""
    if not severity_overrides:
        return {}
    return {
        rule_id: level.upper()
        for rule_id, level in severity_overrides.items()
        if isinstance(level, str) and level.upper() in SEVERITIES
    }
