"""Rules in the ingestion path: every batch the events store commits goes through the enabled
rules of its log types in the same transaction (ingestion/process.py calls `evaluate_batch`),
which stores the new matches ungrouped; ingestion groups them into alerts right after the commit
(detections/alerting.py `group`).

Exactly once: a match is unique on (rule, row id) and only matches not stored yet are inserted
and grouped into alerts, so an object read again (a retry, a reprocess, a backfill, ingest-file of
the same file) adds no match and changes no alert. A batch whose events were all stored before is
not evaluated at all.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F, JSONField
from django.utils import timezone

from detections import ruleset
from detections.models import Match, RuleError, dedup_key, severity_value
from parsers.parser import ParsedEvent
from parsers.timestamps import format_utc

_IN_CHUNK = 500  # below SQLite's host-parameter limit


@dataclass
class BatchResult:
    matches: int = 0  # new matches stored
    errors: int = 0  # rule errors raised by this batch
    groups: set[str] = field(default_factory=set)  # dedup keys of the new matches: to group


class EventView(Mapping[str, Any]):
    """What a rule sees: the normalized columns and the p_ fields rules read, as a view rather
    than a copy of each event (most events are only dispatched on one field, and p_event_time is
    formatted only when a rule reads it)."""

    __slots__ = ("_fields", "_p")

    def __init__(
        self, fields: Mapping[str, Any], *, log_type: str, row_id: str, event_time: datetime
    ) -> None:
        self._fields = fields
        self._p = (log_type, row_id, event_time)

    def _p_field(self, key: str) -> Any:
        log_type, row_id, event_time = self._p
        if key == "p_event_time":
            return format_utc(event_time)
        return row_id if key == "p_row_id" else log_type

    def __getitem__(self, key: str) -> Any:
        if key in P_FIELDS:
            return self._p_field(key)
        return self._fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        if key in P_FIELDS:
            return self._p_field(key)
        return self._fields.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in P_FIELDS or key in self._fields

    def __iter__(self) -> Iterator[str]:
        yield from (k for k in self._fields if k not in P_FIELDS)
        yield from P_FIELDS

    def __len__(self) -> int:
        return sum(1 for _ in self)


P_FIELDS = frozenset({"p_log_type", "p_row_id", "p_event_time"})


def view(event: ParsedEvent) -> EventView:
    return EventView(
        event.fields, log_type=event.log_type, row_id=event.row_id, event_time=event.event_time
    )


def evaluate_batch(events: Sequence[ParsedEvent], *, source_id: int | None) -> BatchResult:
    """Run the batch's events through the rules and store new matches (ungrouped) and errors.

    Call inside the transaction that stored the events, then `alerting.group(result.groups)`
    once it committed."""
    rules = ruleset.current()
    watched = _log_types(rules)
    by_log_type: dict[str, dict[str, ParsedEvent]] = defaultdict(dict)
    for event in events:
        if event.log_type in watched:
            by_log_type[event.log_type].setdefault(event.row_id, event)
    if not by_log_type:
        return BatchResult()
    settings = ruleset.overrides()
    found: list[Match] = []
    errors: list[tuple[str, str, ParsedEvent]] = []
    plain = not _dispatches_on_p_fields(rules)
    for log_type, unique in by_log_type.items():
        batch = list(unique.values())
        if plain:  # dispatch on the parser's dicts; a view only for events a rule applies to
            events_in = [e.fields for e in batch]
            wrap = lambda index, batch=batch: view(batch[index])  # noqa: E731
        else:
            events_in, wrap = [view(e) for e in batch], None
        evaluation = rules.evaluate(
            log_type,
            events_in,
            disabled=settings.disabled,
            enabled=settings.enabled,
            severity_overrides=settings.severity,
            wrap=wrap,
        )
        found.extend(_match_row(batch[i], m, source_id) for i, m in evaluation.matches)
        errors.extend((f.rule_id, f.message, batch[i]) for i, f in evaluation.failures)
    result = BatchResult(errors=len(errors))
    if errors:
        _record_errors(errors)
    fresh = _new(found)
    result.matches = len(fresh)
    _insert(fresh)
    result.groups = {m.dedup_key for m in fresh}
    return result


def _dispatches_on_p_fields(rules) -> bool:
    """Whether some rule's SLUICE_DISPATCH reads a p_ field (only the view has those)."""
    return any(rule.dispatch and P_FIELDS & rule.dispatch.keys() for rule in rules.rules())


def _log_types(rules) -> frozenset[str]:
    return frozenset(t for rule in rules.rules() for t in rule.meta.log_types)


def _match_row(event: ParsedEvent, match, source_id: int | None) -> Match:
    dedup = match.dedup or match.title or match.rule_id
    return Match(
        rule_id=match.rule_id,
        p_row_id=event.row_id,
        p_event_time=event.event_time,
        p_log_type=event.log_type,
        source_id=source_id,
        dedup=dedup,
        dedup_key=dedup_key(match.rule_id, dedup),
        title=match.title or match.rule_id,
        severity=severity_value(match.severity),
        alert_context=dict(match.alert_context or {}),
        runbook=match.runbook or "",
        reference=match.reference or "",
        destinations=list(match.destinations or []),
    )


def _new(found: list[Match]) -> list[Match]:
    """The matches not stored yet (one per rule and row id)."""
    if not found:
        return []
    row_ids = sorted({m.p_row_id for m in found})
    stored: set[tuple[str, str]] = set()
    for start in range(0, len(row_ids), _IN_CHUNK):
        chunk = row_ids[start : start + _IN_CHUNK]
        stored.update(Match.objects.filter(p_row_id__in=chunk).values_list("rule_id", "p_row_id"))
    fresh: dict[tuple[str, str], Match] = {}
    for match in found:
        key = (match.rule_id, match.p_row_id)
        if key not in stored:
            fresh.setdefault(key, match)
    # Concurrent writers of one object take turns on its origin lock (events/store.py), and
    # SQLite writes one transaction at a time, so nothing can insert these rows in between.
    return list(fresh.values())


def _insert(matches: list[Match]) -> None:
    """Insert new matches, ungrouped: a COPY on PostgreSQL (a bulk_create quotes every value in
    Python, the larger part of what detection cost a batch with many matches)."""
    if not matches:
        return
    if connection.vendor != "postgresql":
        Match.objects.bulk_create(matches, batch_size=1000)
        return
    now = timezone.now()
    fields = [f for f in Match._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f.column for f in fields)
    table = Match._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for match in matches:
            match.created_at = now
            copy.write_row([_copy_value(f, getattr(match, f.attname)) for f in fields])


def _copy_value(column, value):
    return json.dumps(value) if isinstance(column, JSONField) else value


def _record_errors(errors: list[tuple[str, str, ParsedEvent]]) -> None:
    counts = Counter((rule_id, message) for rule_id, message, _ in errors)
    last: dict[tuple[str, str], ParsedEvent] = {}
    for rule_id, message, event in errors:
        key = (rule_id, message)
        if key not in last or event.event_time >= last[key].event_time:
            last[key] = event
    now = timezone.now()
    for (rule_id, message), count in sorted(counts.items()):
        event = last[(rule_id, message)]
        key = dedup_key(rule_id, message)
        row, created = RuleError.objects.get_or_create(
            rule_id=rule_id,
            message_key=key,
            defaults={
                "message": message[:10000],
                "count": count,
                "last_row_id": event.row_id,
                "last_event_time": event.event_time,
            },
        )
        if not created:
            RuleError.objects.filter(pk=row.pk).update(
                count=F("count") + count,
                last_row_id=event.row_id,
                last_event_time=event.event_time,
                last_seen=now,
            )
