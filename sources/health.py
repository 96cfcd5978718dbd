"""Source health, decided and written here only (ingestion/health.py gathers the facts).

How it works
------------
`decide(facts)` is a pure function: the facts about one source in, (health, reason, rule) out.
The first rule that holds wins, in this order:

1. paused                 → Paused.
2. verification           → Unhealthy: the latest finished verification failed and no event has
                            been stored since it finished ("Bucket exists: ... does not exist").
3. no_worker              → Unhealthy: no live worker serves the receive or the ingest queue.
4. receive_error          → Unhealthy: receiving from the queue (or listing the bucket) fails.
5. stage_error            → Unhealthy: reading an object/message, parsing it or storing events
                            fails, and no event has been stored since. A parse "error" that only
                            says "N of M lines did not parse" is a data-quality warning, not a
                            broken pipeline: the source stays Healthy with it as the reason,
                            unless none of the lines parsed (N = M), which is broken.
6. backlog_unknown        → Unhealthy: the queue's backlog cannot be read (GetQueueAttributes).
7. receive_overdue        → Unhealthy: no receive (or listing) answered for RECEIVE_OVERDUE_FACTOR
                            times its period (queues: beat's 10 s + one receive pass; listing:
                            the source's interval), counted from the later of the last receive
                            and the last change of the source. When receivers are held back by a
                            full ingest queue (backpressure), only after BACKLOG_MAX_AGE.
8. backlog                → Unhealthy: the oldest work waited longer than BACKLOG_MAX_AGE: an
                            object pending in the ledger, or the oldest message of the last
                            receive.
9. drop_off               → Unhealthy: no data for the source's alarm_minutes.
10. waiting / ok          → Waiting for data (no event yet), else Healthy.

`ingestion.health.check_all()` (beat, every 30 s, on the interactive worker) gathers the facts
of every source (one GetQueueAttributes call per queue-driven source; AWS errors become a reason);
`write_checked` here writes the health and stores the backlog snapshot on the source, so pages
never call AWS.

Between two checks, events apply at once only what they prove (the next check re-decides
everything within 30 s): events arriving turn Waiting into Healthy, and Unhealthy into Healthy
when the rule was one that data disproves (drop-off, a failed verification, a stage error); a
verification's result; pausing and resuming.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sources.models import Source, VerificationRun
from sources.transports.base import Activity

# --- thresholds -------------------------------------------------------------------------------
BACKLOG_MAX_AGE = timedelta(minutes=5)  # older waiting work makes a source unhealthy
RECEIVE_OVERDUE_FACTOR = 3  # receiving not run for this many periods makes it unhealthy
WORKER_QUEUES = ("receive", "ingest")  # every source needs both
REASON_MAX_CHARS = 400
PARTIAL_PARSE = re.compile(r"^(\d+) of (\d+) lines\b")

Health = Source.Health


class Stage(StrEnum):
    """The stages of ingestion a stage error names (the values of ingestion's StageError.Stage)."""

    RECEIVE = "receive"
    GET_OBJECT = "get_object"
    PARSE = "parse"
    STORE = "store"


class Rule(StrEnum):
    """Which rule decided a source's health (stored as Source.health_rule)."""

    PAUSED = "paused"
    VERIFICATION = "verification"
    NO_WORKER = "no_worker"
    RECEIVE_ERROR = "receive_error"
    STAGE_ERROR = "stage_error"
    BACKLOG_UNKNOWN = "backlog_unknown"
    RECEIVE_OVERDUE = "receive_overdue"
    BACKLOG = "backlog"
    DROP_OFF = "drop_off"
    WAITING = "waiting"
    OK = "ok"


# Unhealthy for these reasons, a stored event proves the source works again ("" = set before
# rules were recorded: drop-off or a failed verification).
DISPROVED_BY_DATA = ("", Rule.DROP_OFF, Rule.VERIFICATION, Rule.STAGE_ERROR)


# --- the facts about one source ---------------------------------------------------------------
@dataclass(frozen=True)
class StageErrorFact:
    stage: str  # Stage (StageError.Stage)
    message: str
    at: datetime


@dataclass(frozen=True)
class FailedVerification:
    reason: str  # "<check name>: <message>" of the first failed check
    finished_at: datetime


@dataclass(frozen=True)
class Backlog:
    """What waited to be read for one source at a health check (stored as Source.backlog)."""

    queue: bool = False  # queue-driven (SQS counts apply); listing sources have no queue
    visible: int | None = None  # ApproximateNumberOfMessages
    in_flight: int | None = None  # ApproximateNumberOfMessagesNotVisible
    objects_pending: int = 0  # ledger rows pending (handed out, being read or retried)
    oldest_pending_at: datetime | None = None  # the pending row that moved least recently
    last_receive_at: datetime | None = None  # the last answered receive or listing request
    receive_lag: float | None = None  # seconds the oldest message of that receive had waited
    error: str = ""  # why the queue could not be measured
    measured_at: datetime | None = None

    def oldest_pending_age(self, now: datetime | None = None) -> timedelta | None:
        if self.oldest_pending_at is None:
            return None
        return max(timedelta(0), (now or timezone.now()) - self.oldest_pending_at)

    def oldest_age(self, now: datetime | None = None) -> timedelta | None:
        """The longest any work has waited: a pending object, or the last receive's lag."""
        ages = [self.oldest_pending_age(now)]
        if self.receive_lag is not None:
            ages.append(timedelta(seconds=self.receive_lag))
        ages = [age for age in ages if age is not None]
        return max(ages) if ages else None

    @property
    def summary(self) -> str:
        """One short line for tables: "12 visible, 3 in flight · 2 objects pending · oldest 6
        minutes"."""
        parts = []
        if self.queue:
            if self.visible is None:
                parts.append("queue not measured")
            else:
                parts.append(f"{self.visible} visible, {self.in_flight or 0} in flight")
        if self.objects_pending:
            s = "" if self.objects_pending == 1 else "s"
            parts.append(f"{self.objects_pending} object{s} pending")
        oldest = self.oldest_age()
        if oldest and oldest >= timedelta(seconds=1):
            parts.append(f"oldest {duration(oldest)}")
        if not self.queue and not self.objects_pending:
            return "nothing waiting"
        return " · ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "visible": self.visible,
            "in_flight": self.in_flight,
            "objects_pending": self.objects_pending,
            "oldest_pending_at": _iso(self.oldest_pending_at),
            "last_receive_at": _iso(self.last_receive_at),
            "receive_lag": self.receive_lag,
            "error": self.error,
            "measured_at": _iso(self.measured_at),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Backlog | None:
        """The stored snapshot; None when no health check has measured this source yet."""
        if not data:
            return None
        return cls(
            queue=bool(data.get("queue")),
            visible=data.get("visible"),
            in_flight=data.get("in_flight"),
            objects_pending=int(data.get("objects_pending") or 0),
            oldest_pending_at=_parse(data.get("oldest_pending_at")),
            last_receive_at=_parse(data.get("last_receive_at")),
            receive_lag=data.get("receive_lag"),
            error=data.get("error") or "",
            measured_at=_parse(data.get("measured_at")),
        )


@dataclass(frozen=True)
class SourceFacts:
    """Everything `decide` looks at for one source (gathered by `gather_facts`)."""

    now: datetime
    created_at: datetime
    changed_at: datetime | None = None  # settings or pause state last changed (updated_at)
    paused: bool = False
    last_event_at: datetime | None = None
    alarm_minutes: int | None = None
    activity: Activity = field(default_factory=Activity)  # how reasons name its stages
    receive_period: timedelta | None = timedelta(minutes=5)  # None: it does not receive (push)
    lists: bool = False  # its passes come round at an interval (a bucket listing)
    stage_errors: tuple[StageErrorFact, ...] = ()
    failed_verification: FailedVerification | None = None
    backlog: Backlog = field(default_factory=Backlog)
    receive_served: bool = True
    ingest_served: bool = True
    ingest_depth: int = 0  # tasks waiting in the ingest queue
    ingest_high_water: int = 40  # above it receivers hand out no more (backpressure)


class Verdict(NamedTuple):
    health: str
    reason: str
    rule: Rule


# --- the decision -----------------------------------------------------------------------------
def decide(facts: SourceFacts) -> Verdict:
    """The health of one source and the reason, in one sentence (see the module docstring)."""
    for rule in RULES:
        verdict = rule(facts)
        if verdict is not None:
            return verdict
    if facts.last_event_at is None:
        return Verdict(Health.WAITING, "", Rule.WAITING)
    return Verdict(Health.HEALTHY, _parse_warning(facts), Rule.OK)


PAUSED = Verdict(
    Health.PAUSED, "Paused: nothing is received or read until it is resumed.", Rule.PAUSED
)


def _paused(facts: SourceFacts) -> Verdict | None:
    return PAUSED if facts.paused else None


def _verification_failed(facts: SourceFacts) -> Verdict | None:
    failed = facts.failed_verification
    if failed is None or _data_since(facts, failed.finished_at):
        return None
    return Verdict(Health.UNHEALTHY, _clip(failed.reason), Rule.VERIFICATION)


def _no_worker(facts: SourceFacts) -> Verdict | None:
    served = {"receive": facts.receive_served, "ingest": facts.ingest_served}
    missing = [queue for queue in WORKER_QUEUES if not served[queue]]
    if not missing:
        return None
    if len(missing) == 1:
        reason = f"No worker serves the {missing[0]} queue: start one (./run starts them)."
    else:
        reason = f"No worker serves the {_and(missing)} queues: start them (./run starts them)."
    return Verdict(Health.UNHEALTHY, reason, Rule.NO_WORKER)


def _receive_failing(facts: SourceFacts) -> Verdict | None:
    error = _stage_error(facts, Stage.RECEIVE)
    if error is None:
        return None
    what = facts.activity.receiving
    return Verdict(Health.UNHEALTHY, _clip(f"{what} fails: {error.message}"), Rule.RECEIVE_ERROR)


def _object_stage_failing(facts: SourceFacts) -> Verdict | None:
    reading = facts.activity.reading
    what = {
        Stage.GET_OBJECT: reading,
        Stage.PARSE: "Parsing",
        Stage.STORE: "Storing events",
    }
    for stage, label in what.items():
        error = _stage_error(facts, stage)
        if error is None or _data_since(facts, error.at):
            continue
        if stage == Stage.PARSE and is_parse_warning(error.message):
            continue
        return Verdict(Health.UNHEALTHY, _clip(f"{label} fails: {error.message}"), Rule.STAGE_ERROR)
    return None


def _backlog_unknown(facts: SourceFacts) -> Verdict | None:
    if not (facts.backlog.queue and facts.backlog.error):
        return None
    reason = f"Cannot read the queue's backlog: {facts.backlog.error}"
    return Verdict(Health.UNHEALTHY, _clip(reason), Rule.BACKLOG_UNKNOWN)


def _receive_overdue(facts: SourceFacts) -> Verdict | None:
    backlog = facts.backlog
    if facts.receive_period is None:  # data is pushed: the drop-off alarm watches it
        return None
    since = _latest(backlog.last_receive_at, facts.changed_at, facts.created_at)
    silent = facts.now - since
    held_back = facts.ingest_depth >= facts.ingest_high_water
    limit = RECEIVE_OVERDUE_FACTOR * facts.receive_period
    if held_back:
        limit = max(limit, BACKLOG_MAX_AGE)
    if silent <= limit:
        return None
    if held_back:
        reason = (
            f"Receiving has been held back for {duration(silent)}: {facts.ingest_depth} tasks "
            "wait for the ingest workers, which are not keeping up (add ingest processes)."
        )
        return Verdict(Health.UNHEALTHY, reason, Rule.RECEIVE_OVERDUE)
    period = duration(facts.receive_period)
    if facts.lists:
        last = "listed" if backlog.last_receive_at else "listed since it was set up"
        reason = f"The bucket has not been {last} for {duration(silent)} (expected every {period})."
    else:
        last = "answered" if backlog.last_receive_at else "answered since it was set up"
        reason = f"No receive from the queue has {last} for {duration(silent)}"
        waiting = f"; {backlog.visible} messages wait in the queue" if backlog.visible else ""
        reason += f" (expected every {period}){waiting}."
    return Verdict(Health.UNHEALTHY, reason, Rule.RECEIVE_OVERDUE)


def _backlog_too_old(facts: SourceFacts) -> Verdict | None:
    backlog = facts.backlog
    pending_age = backlog.oldest_pending_age(facts.now) or timedelta(0)
    lag = timedelta(seconds=backlog.receive_lag or 0)
    if max(pending_age, lag) <= BACKLOG_MAX_AGE:
        return None
    if pending_age >= lag:
        n = backlog.objects_pending
        queued = f", with {facts.ingest_depth} tasks queued for the ingest workers"
        reason = (
            f"Backlog: {n} object{'' if n == 1 else 's'} wait to be read, the oldest for "
            f"{duration(pending_age)}{queued if facts.ingest_depth else ''}."
        )
    else:
        counts = (
            f" ({backlog.visible} visible, {backlog.in_flight or 0} in flight)"
            if backlog.visible is not None
            else ""
        )
        reason = (
            f"Backlog: messages waited {duration(lag)} in the queue before they were "
            f"received{counts}."
        )
    return Verdict(Health.UNHEALTHY, reason, Rule.BACKLOG)


def _drop_off(facts: SourceFacts) -> Verdict | None:
    minutes = facts.alarm_minutes
    if not minutes:
        return None
    since = facts.last_event_at or facts.created_at
    if facts.now - since <= timedelta(minutes=minutes):
        return None
    if facts.last_event_at:
        reason = f"No data for {minutes} minutes (last event {since:%Y-%m-%d %H:%M} UTC)."
    else:
        reason = f"No data received in the {minutes} minutes since the source was created."
    return Verdict(Health.UNHEALTHY, reason, Rule.DROP_OFF)


def drop_off(facts: SourceFacts) -> Verdict | None:
    """The drop-off alarm alone (system alerts raise it as an alert, destinations/system.py)."""
    return _drop_off(facts)


RULES = (
    _paused,
    _verification_failed,
    _no_worker,
    _receive_failing,
    _object_stage_failing,
    _backlog_unknown,
    _receive_overdue,
    _backlog_too_old,
    _drop_off,
)


def is_parse_warning(message: str) -> bool:
    """ "N of M lines ... did not parse" with N < M: some lines failed, the data still flows."""
    match = PARTIAL_PARSE.match(message)
    return bool(match) and int(match.group(1)) < int(match.group(2))


def _parse_warning(facts: SourceFacts) -> str:
    error = _stage_error(facts, Stage.PARSE)
    if error is not None and is_parse_warning(error.message):
        return _clip(error.message if error.message.endswith(".") else error.message + ".")
    return ""


def _stage_error(facts: SourceFacts, stage: str) -> StageErrorFact | None:
    return next((e for e in facts.stage_errors if e.stage == stage), None)


def _data_since(facts: SourceFacts, when: datetime) -> bool:
    return facts.last_event_at is not None and facts.last_event_at > when


def _latest(*moments: datetime | None) -> datetime:
    return max(m for m in moments if m is not None)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _clip(text: str) -> str:
    """One line, at most REASON_MAX_CHARS (AWS messages can be long)."""
    line = " ".join(text.split())
    return line if len(line) <= REASON_MAX_CHARS else line[: REASON_MAX_CHARS - 1] + "…"


def duration(span: timedelta) -> str:
    """ "45 s", "3 minutes", "5 hours", "2 days": how long, as a person says it."""
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} minutes"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} hours"
    return f"{seconds // 86400} days"


def queues_sentence(unserved: list[str]) -> str:
    """The workers panel's status: which queues no live worker consumes, and what that means."""
    if not unserved:
        return "All queues are served."
    effects = {
        "receive": "queues are not received and buckets are not listed",
        "ingest": "objects and messages are not read",
        "interactive": "verifications will wait",
    }
    if len(unserved) == 1:
        return f"No worker serves the {unserved[0]} queue: {effects[unserved[0]]}."
    return f"No worker serves the {_and(unserved)} queues: start them (./run starts them)."


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def verification_reason(run: VerificationRun) -> str:
    first = run.failed_checks[0]
    return f"{first['name']}: {first['message']}"


# --- writing the verdict ---------------------------------------------------------------------
def write_checked(source: Source, verdict: Verdict, facts: SourceFacts) -> None:
    """Store the verdict and the backlog, unless the source was paused or resumed meanwhile."""
    Source.objects.filter(pk=source.pk, paused=facts.paused).update(
        health=verdict.health,
        health_reason=verdict.reason,
        health_rule=verdict.rule,
        backlog=facts.backlog.as_json(),
        health_checked_at=facts.now,
    )


def events_arrived(source_id: int, when: datetime | None = None) -> None:
    """Last event time; Waiting → Healthy, and Unhealthy → Healthy when data disproves the
    rule that decided it (called in the transaction that stored the events: one cheap UPDATE)."""
    when = when or timezone.now()
    Source.objects.filter(pk=source_id).update(last_event_at=when)
    Source.objects.filter(pk=source_id, paused=False).filter(
        Q(health=Health.WAITING) | Q(health=Health.UNHEALTHY, health_rule__in=DISPROVED_BY_DATA)
    ).update(health=Health.HEALTHY, health_reason="", health_rule=Rule.OK)


def verification_finished(run: VerificationRun) -> None:
    """A failed run makes its source Unhealthy with the first failure as the reason; a passing
    one clears a previous verification failure (other rules are the next check's)."""
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=run.source_id)
        if source.paused:
            return
        if run.failed_checks:
            verdict = Verdict(Health.UNHEALTHY, _clip(verification_reason(run)), Rule.VERIFICATION)
        elif source.health_rule in {Rule.VERIFICATION, ""} and source.health != Health.HEALTHY:
            verdict = _data_verdict(source)
        else:
            return
        _set(source, verdict)


def pause_changed(source: Source) -> None:
    """Paused → Paused; resumed → Healthy or Waiting until the next check looks at the rest."""
    _set(source, PAUSED if source.paused else _data_verdict(source))


def _data_verdict(source: Source) -> Verdict:
    if source.last_event_at is None:
        return Verdict(Health.WAITING, "", Rule.WAITING)
    return Verdict(Health.HEALTHY, "", Rule.OK)


def _set(source: Source, verdict: Verdict) -> None:
    source.health, source.health_reason, source.health_rule = verdict
    Source.objects.filter(pk=source.pk).update(
        health=verdict.health, health_reason=verdict.reason, health_rule=verdict.rule
    )
