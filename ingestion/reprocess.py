""" "Reprocess failures": parse stored failed lines again with the current schemas.

A line that now parses gets the row id it would have had the first time (same origin and line),
is stored as an event, and its failure row is deleted in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from django.db import transaction

from events.models import Failure
from events.store import write_batch
from ingestion.health import add_hourly, mark_events_arrived
from ingestion.process import detect, group_alerts
from logtypes.registry import classifier_for
from parsers import Origin, ParsedEvent, ParseFailure
from sources.models import Source

CHUNK = 2000


@dataclass
class ReprocessResult:
    parsed: int = 0
    still_failing: int = 0


def reprocess_failures(source: Source) -> ReprocessResult:
    result = ReprocessResult()
    last_id = 0
    while True:
        chunk = list(Failure.objects.filter(source=source, pk__gt=last_id).order_by("pk")[:CHUNK])
        if not chunk:
            return result
        last_id = chunk[-1].pk
        chunk.sort(key=lambda f: (f.object_key, f.object_version))
        for (key, version), group in groupby(chunk, key=lambda f: (f.object_key, f.object_version)):
            _reprocess_object(source, key, version, list(group), result)


def _reprocess_object(source, key, version, failures, result: ReprocessResult) -> None:
    log_types = (failures[0].log_types or None) or (
        source.transport_impl.log_types_for(source.settings, key, source.log_types)
        or source.log_types
    )
    classifier = classifier_for(tuple(log_types))
    origin = Origin(str(source.pk), key, version)
    parsed: list[ParsedEvent] = []
    fixed_ids = []
    changed = []  # still failing, for another reason now: the failure says the current one
    for failure in failures:
        outcome = classifier.parse(bytes(failure.raw), origin, failure.line, offset=failure.offset)
        if type(outcome) is ParsedEvent:
            parsed.append(outcome)
            fixed_ids.append(failure.pk)
            continue
        result.still_failing += 1
        if type(outcome) is ParseFailure and outcome.error != failure.error:
            failure.error = outcome.error
            changed.append(failure)
    Failure.objects.bulk_update(changed, ["error"])
    if not parsed:
        return
    groups: set[str] = set()
    with transaction.atomic():
        written = write_batch(
            parsed, [], source_id=source.pk, object_key=key, object_version=version
        )
        Failure.objects.filter(pk__in=fixed_ids).delete()
        detect(parsed, written, groups, source_id=source.pk)
        add_hourly(source.pk, events_by_log_type=written.by_log_type)
        if written.inserted:
            mark_events_arrived(source.pk)
    group_alerts(groups)
    result.parsed += len(parsed)
