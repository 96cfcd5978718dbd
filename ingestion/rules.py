"""Which log types an object carries: the longest matching prefix rule, minus exclusion globs."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any


@dataclass(frozen=True)
class PrefixRule:
    prefix: str
    log_types: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    def excludes(self, key: str) -> bool:
        name = key.rsplit("/", 1)[-1]
        return any(fnmatchcase(key, glob) or fnmatchcase(name, glob) for glob in self.exclude)


def prefix_rules(config: dict[str, Any], default_log_types: list[str]) -> list[PrefixRule]:
    """The source's rules; a source without any reads the whole bucket with all its log types."""
    rules = [
        PrefixRule(
            prefix=str(item.get("prefix") or ""),
            log_types=tuple(item.get("log_types") or default_log_types),
            exclude=tuple(g for g in item.get("exclude") or [] if g),
        )
        for item in config.get("prefixes") or []
    ]
    return rules or [PrefixRule("", tuple(default_log_types))]


def rule_for_key(rules: list[PrefixRule], key: str) -> PrefixRule | None:
    """The longest prefix matching `key`, or None when no rule matches or its globs exclude it."""
    matching = [rule for rule in rules if key.startswith(rule.prefix)]
    if not matching:
        return None
    rule = max(matching, key=lambda r: len(r.prefix))
    return None if rule.excludes(key) else rule
