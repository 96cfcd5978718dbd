"""The S3 transport's typed settings, and its prefix rules: which log types an object carries
(the longest matching prefix rule, minus its exclusion globs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from sources.transports.aws import DEFAULT_REGION, AwsSettings
from sources.transports.base import Settings, SettingsError

DISCOVERY = ("notifications", "listing")


@dataclass(frozen=True)
class PrefixRule:
    prefix: str
    log_types: tuple[str, ...]  # empty: the source's log types
    exclude: tuple[str, ...] = ()

    def excludes(self, key: str) -> bool:
        """Exclusion filters match the whole key or its file name; `*` is the only wildcard."""
        name = key.rsplit("/", 1)[-1]
        return any(fnmatchcase(key, glob) or fnmatchcase(name, glob) for glob in self.exclude)

    def as_config(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "log_types": list(self.log_types),
            "exclude": list(self.exclude),
        }


@dataclass(frozen=True, kw_only=True)
class S3Settings(AwsSettings):
    account_id: str = ""
    bucket: str = ""
    kms_key_arn: str = ""
    prefixes: tuple[PrefixRule, ...] = ()
    discovery: str = "notifications"  # or "listing"
    queue_url: str = ""  # the notification queue (discovery "notifications")
    list_interval_minutes: int = 5

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.discovery not in DISCOVERY:
            raise SettingsError(
                f"discovery {self.discovery!r} is not one of {', '.join(DISCOVERY)}"
            )
        if not 1 <= self.list_interval_minutes <= 1440:
            raise SettingsError("list_interval_minutes is between 1 and 1440")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> S3Settings:
        try:
            return cls(
                **Settings.common(config),
                region=str(config.get("region") or DEFAULT_REGION),
                role_arn=str(config.get("role_arn") or ""),
                account_id=str(config.get("account_id") or ""),
                bucket=str(config.get("bucket") or ""),
                kms_key_arn=str(config.get("kms_key_arn") or ""),
                prefixes=tuple(_rule(item) for item in config.get("prefixes") or []),
                discovery="listing" if config.get("discovery") == "listing" else "notifications",
                queue_url=str(config.get("queue_url") or ""),
                list_interval_minutes=int(config.get("list_interval_minutes") or 5),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, SettingsError):
                raise
            raise SettingsError(f"S3 settings: {exc}") from exc

    @property
    def listing(self) -> bool:
        return self.discovery == "listing"

    @property
    def notifications(self) -> bool:
        """Found by S3 event notifications through a queue (and a queue is set)."""
        return self.discovery == "notifications" and bool(self.queue_url)

    @property
    def prefix_rows(self) -> tuple[PrefixRule, ...]:
        """The configured prefixes, or the whole bucket."""
        return self.prefixes or (PrefixRule("", ()),)

    def rules(self, default_log_types) -> list[PrefixRule]:
        """The rules with their log types filled in; without any, the whole bucket."""
        default = tuple(default_log_types)
        return [
            PrefixRule(rule.prefix, rule.log_types or default, rule.exclude)
            for rule in self.prefix_rows
        ]


def _rule(item: Any) -> PrefixRule:
    if not isinstance(item, Mapping):
        return PrefixRule(str(item), ())
    return PrefixRule(
        prefix=str(item.get("prefix") or ""),
        log_types=tuple(item.get("log_types") or ()),
        exclude=tuple(g for g in _lines(item.get("exclude")) if g),
    )


def _lines(value: Any) -> list[str]:
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines()]
    return [str(v) for v in value or []]


def rule_for_key(rules: list[PrefixRule], key: str) -> PrefixRule | None:
    """The longest prefix matching `key`, or None when no rule matches or its globs exclude it."""
    matching = [rule for rule in rules if key.startswith(rule.prefix)]
    if not matching:
        return None
    rule = max(matching, key=lambda r: len(r.prefix))
    return None if rule.excludes(key) else rule
