"""System alerts: conditions of the ingestion pipeline raised as alerts of a `System.*` rule
family (detections.Alert rows, so they are listed, triaged and routed like rule alerts), one open
alert per (condition, source), resolved automatically once the condition clears.

    System.SourceDropOff        no data for the source's alarm_minutes (its drop-off alarm)
    System.VerificationFailing  the source's last verification failed
    System.ObjectsFailed        objects that failed after every retry are waiting in the ledger
    System.FailureRate          more than SLUICE_SYSTEM_FAILURE_RATE of the lines of the last hour
                                failed to parse (with at least MIN_LINES lines)

Severity: as below, or a RuleSetting override of the rule id (Detections, or the admin site).
Beat runs check() every minute (destinations.check_system). Resolving or closing one by hand while
its condition holds raises a new one at the next check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from detections import services as triage_services
from detections.models import Alert, RuleSetting, dedup_key
from ingestion.models import ObjectLedger
from sources import health
from sources.models import HourlyStats, Source, VerificationRun

MIN_LINES = 100
OPEN = (Alert.Status.OPEN, Alert.Status.TRIAGED)


@dataclass(frozen=True)
class Finding:
    """A condition that holds for one source now."""

    title: str
    context: dict


@dataclass(frozen=True)
class SystemRule:
    rule_id: str
    severity: str
    runbook: str

    def find(self, source: Source, now: datetime) -> Finding | None:
        raise NotImplementedError


class DropOff(SystemRule):
    def find(self, source: Source, now: datetime) -> Finding | None:
        facts = health.SourceFacts(
            now=now,
            created_at=source.created_at,
            last_event_at=source.last_event_at,
            alarm_minutes=source.alarm_minutes,
        )
        verdict = health.drop_off(facts)
        if verdict is None:
            return None
        return Finding(f"No data from {source.name}", {"reason": verdict.reason})


class VerificationFailing(SystemRule):
    def find(self, source: Source, now: datetime) -> Finding | None:
        done = (VerificationRun.Status.PASSED, VerificationRun.Status.FAILED)
        last = source.verifications.filter(status__in=done).order_by("-created_at").first()
        if last is None or last.status != VerificationRun.Status.FAILED:
            return None
        reason = health.verification_reason(last)
        return Finding(f"Verification of {source.name} fails", {"reason": reason})


class ObjectsFailed(SystemRule):
    def find(self, source: Source, now: datetime) -> Finding | None:
        failed = ObjectLedger.objects.filter(source=source, status=ObjectLedger.Status.FAILED)
        count = failed.count()
        if not count:
            return None
        last = failed.order_by("-updated_at").first()
        return Finding(
            f"Objects of {source.name} failed after every retry",
            {"objects": count, "last_key": last.key, "last_error": last.error[:500]},
        )


class FailureRate(SystemRule):
    def find(self, source: Source, now: datetime) -> Finding | None:
        since = (now - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        totals = HourlyStats.objects.filter(source=source, hour__gte=since).aggregate(
            events=Sum("events"), failures=Sum("failures")
        )
        events, failures = totals["events"] or 0, totals["failures"] or 0
        lines = events + failures
        threshold = settings.SLUICE_SYSTEM_FAILURE_RATE
        if lines < MIN_LINES or failures / lines <= threshold:
            return None
        return Finding(
            f"{failures / lines:.0%} of the lines of {source.name} failed to parse",
            {"failures": failures, "lines": lines, "threshold": threshold},
        )


RULES: tuple[SystemRule, ...] = (
    DropOff(
        "System.SourceDropOff",
        "high",
        "Check that the log shipper still writes to the bucket or queue, and the source's "
        "Health tab.",
    ),
    VerificationFailing(
        "System.VerificationFailing",
        "high",
        "Open the source's settings, read the failed check, fix the permissions and verify again.",
    ),
    ObjectsFailed(
        "System.ObjectsFailed",
        "medium",
        "Open the source's ingestion panel: read each failed object's error, then retry it.",
    ),
    FailureRate(
        "System.FailureRate",
        "medium",
        "Search the source's failed lines: a changed log format needs a schema update.",
    ),
)


def check(now: datetime | None = None) -> dict[str, int]:
    """Raise, update or resolve every system alert; returns how many were raised and resolved."""
    now = now or timezone.now()
    overrides = dict(
        RuleSetting.objects.filter(rule_id__startswith="System.")
        .exclude(severity="")
        .values_list("rule_id", "severity")
    )
    counts = {"raised": 0, "resolved": 0}
    for source in Source.objects.filter(paused=False):
        for rule in RULES:
            outcome = _apply(rule, source, rule.find(source, now), now, overrides)
            if outcome:
                counts[outcome] += 1
    return counts


def dedup_for(source: Source) -> str:
    return f"source:{source.pk}"


def _apply(rule, source, finding: Finding | None, now, overrides) -> str | None:
    dedup = dedup_for(source)
    current = Alert.objects.filter(rule_id=rule.rule_id, dedup=dedup, status__in=OPEN).first()
    if finding is None:
        if current is None:
            return None
        triage_services.triage(current, actor=None, status=Alert.Status.RESOLVED)
        return "resolved"
    # the runbook rides in the context: the alert page reads Alert.runbook beside its rule's,
    # and a System.* rule has no rule file
    context = {
        "source_id": source.pk,
        "source": source.name,
        **finding.context,
        "runbook": rule.runbook,
    }
    if current is not None:
        if (current.title, current.alert_context) != (finding.title, context):
            current.title, current.alert_context, current.last_event_time = (
                finding.title,
                context,
                now,
            )
            current.save(update_fields=["title", "alert_context", "last_event_time", "updated_at"])
        return None
    with transaction.atomic():
        Alert.objects.create(
            rule_id=rule.rule_id,
            dedup=dedup,
            dedup_key=dedup_key(rule.rule_id, dedup),
            title=finding.title,
            severity=overrides.get(rule.rule_id, rule.severity),
            log_type=source.log_types[0] if source.log_types else "",
            first_event_time=now,
            last_event_time=now,
            event_count=0,
            alert_context=context,
        )
    return "raised"
