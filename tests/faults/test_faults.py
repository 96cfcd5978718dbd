"""While generated events are ingested from S3 (notifications, and listing a second bucket) and SQS
(raw events) by the worker layout of `./run` (console/workers.py: receive, ingest and interactive
workers and beat), the whole layout is killed with SIGKILL, the receive worker is killed in the
middle of bucket listings, Redis and PostgreSQL are restarted, and every AWS call goes through a
proxy that throttles and drops connections. Afterwards nothing is lost, duplicated or left in a
queue."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field

import pytest
import redis
from django.db import connection
from django.db.utils import InterfaceError, OperationalError

from events.models import Event, Failure
from ingestion.models import ObjectLedger
from sources import runtime
from tests.layout import WORKERS

from .conftest import BUCKET, LISTING_BUCKET, REPORT, FaultConfig, FaultData

pytestmark = pytest.mark.e2e
LAYOUT = (*WORKERS, "beat")  # what ./run starts (the Procfile)
# Faults happen between these shares of the expected events, so they hit a running ingestion,
# each once ingestion has recovered from the one before (so each recovery is measured alone).
FIRST_FAULT, LAST_FAULT = 0.03, 0.9
VISIBILITY_SECONDS = 10
FAULT_ENV = {
    "SLUICE_SQS_VISIBILITY_SECONDS": str(VISIBILITY_SECONDS),
    "SLUICE_SQS_POLL_SECONDS": "10",
    "SLUICE_INGEST_RETRY_BASE_SECONDS": "1",
    # An attempt cut short by a fault counts (a worker killed by its object is how a poison object
    # shows). Twelve faults at random may land on one object more than the default 3 allows.
    "SLUICE_INGEST_MAX_ATTEMPTS": "5",
    "SLUICE_INGEST_BATCH_SIZE": "500",
    # A Redis restart loses the queued tasks of objects the lister handed out; the next listing
    # hands them out again once this has passed (300 s in production: here it would only make
    # the suite wait).
    "SLUICE_INGEST_DISPATCH_TIMEOUT_SECONDS": "60",
    # A listing pass hands out at most this many objects (1000 in production), so the listed
    # bucket takes a pass per beat tick for a while and kills land in passes handing objects out.
    "SLUICE_LIST_MAX_OBJECTS": "8",
}
# Each LIST request of the listed bucket takes this long (the proxy holds it), as a large
# bucket's pages do: a listing pass lasts long enough for a kill to land in it.
LIST_SECONDS = 2.0
RESUME_WITHIN = 60  # after each kill, new events are stored within this (when some are left)
LISTING_PASS_WAIT = 120  # a kill during a listing waits this long at most for a listing pass
# A lister killed mid-pass holds its source's lock and claim for 30 s; beat queues the next pass
# at its first tick after that (every 10 s), once the receive worker is back.
LISTING_RESUME_WITHIN = 60


@dataclass
class Fault:
    kind: str  # kill | list-kill | redis | postgres
    at_events: int
    injected_at: float = 0.0
    events_then: int = 0
    resumed_after: float | None = None
    listing_resumed_after: float | None = None  # list-kill: until another listing pass ran


@dataclass
class Plan:
    faults: list[Fault]  # kills of the layout, restarts: each when its share of events is stored
    listing_kills: list[Fault]  # each at the first listing pass once its share is stored
    done: list[Fault] = field(default_factory=list)

    @classmethod
    def random(cls, config: FaultConfig, expected: int) -> Plan:
        rng = random.Random(f"sluice-faults-plan:{config.seed}")

        def faults(kinds: list[str]) -> list[Fault]:
            drawn = [Fault(k, int(expected * rng.uniform(FIRST_FAULT, LAST_FAULT))) for k in kinds]
            return sorted(drawn, key=lambda fault: fault.at_events)

        return cls(
            faults(["kill"] * config.kills + ["redis", "postgres"]),
            faults(["list-kill"] * config.listing_kills),
        )

    @property
    def pending(self) -> list[Fault]:
        return self.faults + self.listing_kills


def stored_events() -> int | None:
    """The event count, or None while the database is away (the connection is then renewed)."""
    try:
        return Event.objects.count()
    except (OperationalError, InterfaceError):
        connection.close()
        return None


class Listing:
    """Whether a listing pass of the source is running: its Redis lock is held, by a pass that
    was not killed (a killed pass's lock stays until it expires)."""

    def __init__(self, source_id: int) -> None:
        self.key = f"sluice:lock:poll:{source_id}"  # every pass of a source holds this lock
        self.dead: set[bytes] = set()

    def token(self) -> bytes | None:
        try:
            return runtime.connection().get(self.key)
        except redis.RedisError:  # Redis is restarting
            return None

    def running(self) -> bool:
        token = self.token()
        return token is not None and token not in self.dead

    def killed(self) -> None:
        """The workers are about to be killed: whatever pass holds the lock now dies."""
        token = self.token()
        if token is not None:
            self.dead.add(token)


def queue_counts(sqs, queue_url: str) -> tuple[int, int]:
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def upload(data: FaultData, s3, sqs, queue_url: str) -> None:
    for key, body in data.objects:
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    for key, body in data.listed_objects:
        s3.put_object(Bucket=LISTING_BUCKET, Key=key, Body=body)
    for start in range(0, len(data.messages), 10):
        chunk = data.messages[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)],
        )


def test_ingestion_survives_kills_restarts_and_a_flaky_network(
    private_services,
    fault_config,
    fault_data,
    workers,
    s3_source,
    sqs_source,
    listing_source,
    s3,
    flaky_proxy,
    monkeypatch,
):
    _, sqs, events_queue = sqs_source
    notifications_queue = s3_source.config["queue_url"]
    for name, value in FAULT_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", flaky_proxy.url)  # the workers' AWS goes through it
    flaky_proxy.slow_listing = (LISTING_BUCKET, LIST_SECONDS)
    expected = fault_data.good
    plan = Plan.random(fault_config, expected)
    listing = Listing(listing_source.pk)

    upload(fault_data, s3, sqs, events_queue)
    started = time.monotonic()
    workers.start(LAYOUT)  # beat asks for receive passes and listings, as with ./run
    deadline = started + 300 + expected / 100  # bounded: far above a healthy run's time

    def inject(fault: Fault) -> None:
        if fault.kind == "kill":
            time.sleep(random.Random(fault.at_events).uniform(0, 1))
        fault.events_then = stored_events() or fault.events_then
        fault.injected_at = time.monotonic()
        if fault.kind == "kill":
            listing.killed()
            workers.kill()
            workers.start(LAYOUT)
        elif fault.kind == "list-kill":
            listing.killed()
            workers.kill(["receive"])
            workers.start(["receive"])
        elif fault.kind == "redis":
            private_services.redis.restart()
        else:
            private_services.postgres.restart()

    def settled() -> bool:
        sources = {s3_source: fault_data.objects, listing_source: fault_data.listed_objects}
        for source, objects in sources.items():
            done = ObjectLedger.objects.filter(source=source, status=ObjectLedger.Status.DONE)
            if done.count() < len(objects):
                return False
        return queue_counts(sqs, notifications_queue) == (0, 0) and queue_counts(
            sqs, events_queue
        ) == (0, 0)

    def listings_resumed(now: float) -> bool:
        """Every kill during a listing was followed by another listing pass (or waited long
        enough to say it was not)."""
        return all(
            f.listing_resumed_after is not None or now - f.injected_at > LISTING_RESUME_WITHIN
            for f in plan.done
            if f.kind == "list-kill"
        )

    def recovered(count: int) -> bool:
        """Ingestion resumed after every fault so far (or has nothing left to store), and a
        listing pass ran after every kill during a listing."""
        return all(
            (f.resumed_after is not None or count >= expected)
            and (f.kind != "list-kill" or f.listing_resumed_after is not None)
            for f in plan.done
        )

    last_seen = 0
    armed = None  # when the next kill during a listing began waiting for a listing pass
    while True:
        now = time.monotonic()
        count = stored_events()
        if count is not None:
            for fault in plan.done:
                if fault.resumed_after is None and count > fault.events_then:
                    fault.resumed_after = now - fault.injected_at
            last_seen = count
        lister = listing.running()
        for fault in plan.done:
            if fault.kind == "list-kill" and fault.listing_resumed_after is None and lister:
                fault.listing_resumed_after = now - fault.injected_at
        if not recovered(last_seen):
            armed = None  # each recovery is measured on its own: the next fault waits for it
        elif plan.faults and last_seen >= plan.faults[0].at_events:
            fault = plan.faults.pop(0)
            inject(fault)
            plan.done.append(fault)
        elif plan.listing_kills and last_seen >= plan.listing_kills[0].at_events:
            if lister:
                fault = plan.listing_kills.pop(0)
                inject(fault)
                plan.done.append(fault)
                armed = None
            elif armed is None:
                armed = now
            elif now - armed > LISTING_PASS_WAIT:
                waiting = plan.listing_kills[0]
                pytest.fail(f"no listing pass began within {LISTING_PASS_WAIT} s ({waiting})")
        if not plan.pending and count is not None and count >= expected:
            try:
                if settled() and listings_resumed(now):
                    break
            except (OperationalError, InterfaceError):
                connection.close()
        if now > deadline:
            break
        time.sleep(0.1 if armed is not None else 0.5)
    elapsed = time.monotonic() - started
    flaky_proxy.enabled = False
    flaky_proxy.slow_listing = None

    stored = Event.objects.count()
    distinct = Event.objects.values("p_row_id").distinct().count()
    failures = sorted(bytes(raw) for raw in Failure.objects.values_list("raw", flat=True))
    ledger = ObjectLedger.objects.filter(source=s3_source)
    listed = ObjectLedger.objects.filter(source=listing_source)
    left = [
        queue_counts(sqs, notifications_queue),
        queue_counts(sqs, events_queue),
    ]
    REPORT.extend(
        report_table(
            fault_config,
            fault_data,
            plan,
            flaky_proxy,
            expected=expected,
            stored=stored,
            distinct=distinct,
            failures=len(failures),
            failures_match=failures == sorted(fault_data.bad),
            left=sum(sum(pair) for pair in left),
            ledgers={"notifications": ledger, "listing": listed},
            elapsed=elapsed,
        )
    )

    assert not plan.pending, f"ingestion stalled before these faults: {plan.pending}"
    assert stored == expected
    assert distinct == stored
    assert failures == sorted(fault_data.bad)
    assert ledger.exclude(status=ObjectLedger.Status.DONE).count() == 0
    assert ledger.count() == len(fault_data.objects)
    assert listed.exclude(status=ObjectLedger.Status.DONE).count() == 0
    assert listed.count() == len(fault_data.listed_objects)
    assert left == [(0, 0), (0, 0)]
    for fault in plan.done:
        if fault.kind in {"kill", "list-kill"} and fault.events_then < expected:
            assert fault.resumed_after is not None, f"ingestion never resumed after {fault}"
            assert fault.resumed_after <= RESUME_WITHIN, f"ingestion resumed late after {fault}"
        if fault.kind == "list-kill":
            assert fault.listing_resumed_after is not None, f"no listing pass after {fault}"
            assert fault.listing_resumed_after <= LISTING_RESUME_WITHIN, f"listing late: {fault}"


def _seconds(values: list[float | None], what: str = "ingestion resumed") -> str:
    known = [v for v in values if v is not None]
    if not values:
        return "-"
    if not known:
        return f"{what}: never"
    if len(known) == 1:
        return f"{what} after {known[0]:.1f} s"
    return f"{what} after {statistics.median(known):.1f} s median, {max(known):.1f} s max" + (
        "" if len(known) == len(values) else f" ({len(values) - len(known)} never)"
    )


def _objects_row(name: str, ledger, expected: int) -> str:
    done = ledger.filter(status=ObjectLedger.Status.DONE).count()
    reread = ledger.filter(attempts__gt=1).count()
    most = max(ledger.values_list("attempts", flat=True), default=0)
    return (
        f"| S3 objects done in the ledger ({name}) | {expected:,} | {done:,} "
        f"({reread:,} read more than once, at most {most} times) |"
    )


def report_table(
    config: FaultConfig,
    data: FaultData,
    plan: Plan,
    proxy,
    *,
    expected: int,
    stored: int,
    distinct: int,
    failures: int,
    failures_match: bool,
    left: int,
    ledgers: dict,
    elapsed: float,
) -> list[str]:
    def resumed(kind: str) -> list[float | None]:
        """After each fault of `kind` that left events to store."""
        return [f.resumed_after for f in plan.done if f.kind == kind and f.events_then < expected]

    def injected(kind: str) -> str:
        count = sum(1 for f in plan.done if f.kind == kind)
        late = count - len(resumed(kind))
        return f"{count}" + (f" ({late} after every event was stored)" if late else "")

    proxy_counts = proxy.counts
    requests = sum(proxy_counts.values())
    listing_kills = [f.listing_resumed_after for f in plan.done if f.kind == "list-kill"]
    rows = [
        "| fault | injected | outcome |",
        "|---|---|---|",
        "| SIGKILL of the whole layout (receive, ingest and interactive workers with their pool "
        f"processes, and beat), restarted at once | {injected('kill')} "
        f"| {_seconds(resumed('kill'))} |",
        "| SIGKILL of the receive worker in the middle of a listing pass (the listing source's "
        f"lock held), restarted at once | {injected('list-kill')} "
        f"| {_seconds(resumed('list-kill'))}; "
        f"{_seconds(listing_kills, 'the next listing pass began')} |",
        "| Redis restart (no persistence: queued tasks, results and locks lost) "
        f"| {injected('redis')} | {_seconds(resumed('redis'))} |",
        "| PostgreSQL restart (`pg_ctl -m immediate`: crash and WAL recovery) "
        f"| {injected('postgres')} | {_seconds(resumed('postgres'))} |",
        f"| proxy: 503 SlowDown (S3) / 400 Throttling (SQS) | {proxy_counts['throttle']:,} of "
        f"{requests:,} AWS requests | retried by botocore |",
        f"| proxy: connection reset before forwarding | {proxy_counts['drop-before']:,} "
        "| retried by botocore |",
        "| proxy: connection reset after forwarding (answer lost, or body cut in half) "
        f"| {proxy_counts['drop-after']:,} | retried by botocore or by the next attempt |",
        f"| proxy: LIST of the listed bucket held {LIST_SECONDS:.0f} s | {proxy.slowed:,} "
        "| (so that kills land in listing passes) |",
        "",
        "| check | expected | found |",
        "|---|---|---|",
        f"| events stored | {data.good:,} | {stored:,} |",
        f"| duplicate `p_row_id` | 0 | {stored - distinct:,} |",
        f"| failures stored with their raw line | {len(data.bad):,} | {failures:,}"
        f"{'' if failures_match else ' (raw lines differ)'} |",
        _objects_row("notifications source", ledgers["notifications"], len(data.objects)),
        _objects_row("listing source", ledgers["listing"], len(data.listed_objects)),
        f"| SQS messages left (visible + in flight, both queues) | 0 | {left:,} |",
        "",
        f"{config.events:,} events ({len(data.objects)} S3 objects by notifications, "
        f"{len(data.listed_objects)} by listing, {len(data.messages)} SQS messages, malformed "
        f"rate {config.malformed_rate}), {config.kills} kills of the layout and "
        f"{config.listing_kills} of the receive worker during listings, proxy shares "
        f"{config.throttle_share} throttled / {config.drop_share} dropped, seed {config.seed}: "
        f"settled in {elapsed:.0f} s.",
    ]
    return rows
