"""On-demand runs of one rule, in a worker: its YAML tests, or a pass over stored events of a
bounded time range showing what would match (nothing is stored as a match, nothing alerted)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from detections import ruleset
from detections.evaluation import EventView
from detections.models import RuleRun
from events.models import Event

MAX_RANGE = timedelta(days=30)
MAX_EVENTS = 200_000  # a run reads at most this many events
MAX_SHOWN = 100  # matching events listed on the page
CHUNK = 2000


class RunError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The range of a stored-events run; RunError on the offending field."""
    end = end or timezone.now()
    start = start or end - timedelta(hours=24)
    if start >= end:
        raise RunError("start", "The start must be before the end.")
    if end - start > MAX_RANGE:
        raise RunError("start", f"At most {MAX_RANGE.days} days at a time.")
    return start, end


def execute(run: RuleRun) -> None:
    """Do the run and store its results (called by the `detections.run_rule` task)."""
    RuleRun.objects.filter(pk=run.pk).update(status=RuleRun.Status.RUNNING)
    try:
        rule = ruleset.find(ruleset.current(), run.rule_id)
        if rule is None:
            raise KeyError(run.rule_id)
        if run.kind == RuleRun.Kind.TESTS:
            _tests(run, rule)
        else:
            _events(run, rule)
    except Exception as exc:  # shown on the page; the worker goes on
        RuleRun.objects.filter(pk=run.pk).update(
            status=RuleRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )
        return
    RuleRun.objects.filter(pk=run.pk).update(status=RuleRun.Status.DONE, finished_at=timezone.now())


def _tests(run: RuleRun, rule) -> None:
    results = [
        {
            "name": r.name,
            "expected": r.expected,
            "actual": r.actual,
            "passed": r.passed,
            "error": r.error or "",
        }
        for r in rule.run_tests()
    ]
    RuleRun.objects.filter(pk=run.pk).update(
        results=results,
        total=len(results),
        processed=len(results),
        matched=sum(1 for r in results if r["passed"]),
    )


def _events(run: RuleRun, rule) -> None:
    rules = ruleset.current()
    others = frozenset(r.meta.rule_id for r in rules.rules() if r.meta.rule_id != run.rule_id)
    events = Event.objects.filter(
        p_log_type__in=list(rule.meta.log_types),
        p_event_time__gte=run.start,
        p_event_time__lt=run.end,
    ).order_by("p_event_time", "id")
    total = min(events.count(), MAX_EVENTS)
    RuleRun.objects.filter(pk=run.pk).update(total=total)
    shown: list[dict] = []
    processed = matched = 0
    last = None
    while processed < total:
        chunk_query = events
        if last is not None:
            chunk_query = events.filter(p_event_time__gte=last[0]).exclude(
                p_event_time=last[0], id__lte=last[1]
            )
        chunk = list(
            chunk_query.only("id", "p_row_id", "p_log_type", "p_event_time", "fields")[
                : min(CHUNK, total - processed)
            ]
        )
        if not chunk:
            break
        last = (chunk[-1].p_event_time, chunk[-1].id)
        for log_type in {e.p_log_type for e in chunk}:
            batch = [e for e in chunk if e.p_log_type == log_type]
            mappings = [
                EventView(e.fields, log_type=log_type, row_id=e.p_row_id, event_time=e.p_event_time)
                for e in batch
            ]
            evaluation = rules.evaluate(log_type, mappings, disabled=others, enabled=[run.rule_id])
            matched += len(evaluation.matches)
            for index, match in evaluation.matches:
                if len(shown) < MAX_SHOWN:
                    shown.append(_shown(batch[index], match))
        processed += len(chunk)
        RuleRun.objects.filter(pk=run.pk).update(
            processed=processed, matched=matched, results=shown
        )


def _shown(event: Event, match) -> dict:
    return {
        "p_row_id": event.p_row_id,
        "p_event_time": event.p_event_time.isoformat(),
        "title": match.title,
        "severity": str(match.severity).lower(),
        "event": event.fields.get("event", ""),
        "user": event.fields.get("user", ""),
    }
