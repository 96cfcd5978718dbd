"""The rules every process evaluates: the built-in rules and SLUICE_RULES_DIRS, loaded once and
again when a file in a configured folder changes (checked at most every few seconds), and the
operators' settings (enabled, severity) from the database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from detections.core import RuleSet
from detections.models import RuleSetting

RECHECK_SECONDS = 5.0

_lock = threading.Lock()
_state: dict = {"ruleset": None, "stamp": None, "checked": 0.0}


def _files(dirs: list[Path]) -> Iterator[Path]:
    for folder in dirs:
        if folder.is_dir():
            yield from (p for p in folder.rglob("*") if p.suffix in {".yml", ".yaml", ".py"})


def _stamp(dirs: list[Path]) -> tuple:
    stamp = []
    for path in sorted(_files(dirs)):
        try:
            stamp.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            continue
    return tuple(stamp)


def current() -> RuleSet:
    """The loaded RuleSet; reloaded when a configured folder's files change."""
    dirs = list(settings.SLUICE_RULES_DIRS)
    now = time.monotonic()
    with _lock:
        if _state["ruleset"] is not None and now - _state["checked"] < RECHECK_SECONDS:
            return _state["ruleset"]
        stamp = (tuple(map(str, dirs)), _stamp(dirs))
        if _state["ruleset"] is None or stamp != _state["stamp"]:
            _state["ruleset"] = RuleSet.load(dirs)
            _state["stamp"] = stamp
        _state["checked"] = now
        return _state["ruleset"]


def reset() -> None:
    """Forget the loaded rules (tests that change SLUICE_RULES_DIRS)."""
    with _lock:
        _state.update(ruleset=None, stamp=None, checked=0.0)


@dataclass(frozen=True)
class Overrides:
    """The operators' settings as the engine takes them: rules an admin turned off, rules an
    admin turned on against their YAML's `Enabled: false`, and severity overrides."""

    disabled: frozenset[str] = frozenset()
    enabled: frozenset[str] = frozenset()
    severity: dict[str, str] = field(default_factory=dict)

    def is_enabled(self, rule) -> bool:
        rule_id = rule.meta.rule_id
        return rule_id not in self.disabled and (rule.meta.enabled or rule_id in self.enabled)


def overrides() -> Overrides:
    rows = list(RuleSetting.objects.all())
    return Overrides(
        disabled=frozenset(row.rule_id for row in rows if row.enabled is False),
        enabled=frozenset(row.rule_id for row in rows if row.enabled is True),
        severity={row.rule_id: row.severity.upper() for row in rows if row.severity},
    )


def find(rules: RuleSet, rule_id: str):
    """The rule with this id, or None."""
    try:
        return rules.get(rule_id)
    except KeyError:
        return None
