"""While generated events are ingested from S3 (notifications) and SQS (raw events), workers are
killed with SIGKILL, Redis and PostgreSQL are restarted, and every AWS call goes through a proxy
that throttles and drops connections. Afterwards nothing is lost, duplicated or left in a queue."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.db.utils import InterfaceError, OperationalError

from events.models import Event, Failure
from ingestion.models import ObjectLedger
from ingestion.tasks import poll_source

from .conftest import BUCKET, REPORT, FaultConfig, FaultData

pytestmark = pytest.mark.e2e
# Faults happen between these shares of the expected events, so they hit a running ingestion.
FIRST_FAULT, LAST_FAULT = 0.03, 0.9
VISIBILITY_SECONDS = 10
# Each source's receive pass holds a pool process while it long polls: two of the four read.
WORKER_CONCURRENCY = 4
FAULT_ENV = {
    "SLUICE_SQS_VISIBILITY_SECONDS": str(VISIBILITY_SECONDS),
    "SLUICE_SQS_POLL_SECONDS": "10",
    "SLUICE_INGEST_RETRY_BASE_SECONDS": "1",
    # An attempt cut short by a fault counts (a worker killed by its object is how a poison object
    # shows). Twelve faults at random may land on one object more than the default 3 allows.
    "SLUICE_INGEST_MAX_ATTEMPTS": "5",
    "SLUICE_INGEST_BATCH_SIZE": "500",
}


@dataclass
class Fault:
    kind: str  # kill | redis | postgres
    at_events: int
    injected_at: float = 0.0
    events_then: int = 0
    resumed_after: float | None = None


@dataclass
class Plan:
    faults: list[Fault]
    done: list[Fault] = field(default_factory=list)

    @classmethod
    def random(cls, config: FaultConfig, expected: int) -> Plan:
        rng = random.Random(f"sluice-faults-plan:{config.seed}")
        kinds = ["kill"] * config.kills + ["redis", "postgres"]
        faults = [
            Fault(kind, int(expected * rng.uniform(FIRST_FAULT, LAST_FAULT))) for kind in kinds
        ]
        return cls(sorted(faults, key=lambda fault: fault.at_events))


def stored_events() -> int | None:
    """The event count, or None while the database is away (the connection is then renewed)."""
    try:
        return Event.objects.count()
    except (OperationalError, InterfaceError):
        connection.close()
        return None


class Receivers:
    """Starts a receive pass per source whenever the last one finished, as beat would."""

    def __init__(self, source_ids: list[int]) -> None:
        self.pending: dict[int, tuple[float, object]] = {}
        self.source_ids = source_ids

    def drive(self) -> None:
        now = time.monotonic()
        for source_id in self.source_ids:
            sent = self.pending.get(source_id)
            try:
                if sent and now - sent[0] < 30 and not sent[1].ready():
                    continue
                self.pending[source_id] = (now, poll_source.delay(source_id))
            except Exception:  # noqa: S112 - Redis is restarting: try again on the next round
                continue


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
    s3,
    flaky_proxy,
    monkeypatch,
):
    events_source, sqs, events_queue = sqs_source
    notifications_queue = s3_source.config["queue_url"]
    for name, value in FAULT_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", flaky_proxy.url)  # the workers' AWS goes through it
    expected = fault_data.good
    plan = Plan.random(fault_config, expected)

    upload(fault_data, s3, sqs, events_queue)
    started = time.monotonic()
    workers.start(WORKER_CONCURRENCY)
    receivers = Receivers([s3_source.pk, events_source.pk])
    deadline = started + 300 + expected / 100  # bounded: far above a healthy run's time

    def inject(fault: Fault) -> None:
        time.sleep(random.Random(fault.at_events).uniform(0, 1))
        fault.events_then = stored_events() or fault.events_then
        fault.injected_at = time.monotonic()
        if fault.kind == "kill":
            workers.kill()
            workers.start(WORKER_CONCURRENCY)
        elif fault.kind == "redis":
            private_services.redis.restart()
        else:
            private_services.postgres.restart()

    def settled() -> bool:
        objects_done = ObjectLedger.objects.filter(
            source=s3_source, status=ObjectLedger.Status.DONE
        ).count()
        if objects_done < len(fault_data.objects):
            return False
        return queue_counts(sqs, notifications_queue) == (0, 0) and queue_counts(
            sqs, events_queue
        ) == (0, 0)

    last_seen = 0
    while True:
        now = time.monotonic()
        count = stored_events()
        if count is not None:
            for fault in plan.done:
                if fault.resumed_after is None and count > fault.events_then:
                    fault.resumed_after = now - fault.injected_at
            last_seen = count
        if plan.faults and last_seen >= plan.faults[0].at_events:
            fault = plan.faults.pop(0)
            inject(fault)
            plan.done.append(fault)
        receivers.drive()
        if not plan.faults and count is not None and count >= expected:
            try:
                if settled():
                    break
            except (OperationalError, InterfaceError):
                connection.close()
        if now > deadline:
            break
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    flaky_proxy.enabled = False

    stored = Event.objects.count()
    distinct = Event.objects.values("p_row_id").distinct().count()
    failures = sorted(bytes(raw) for raw in Failure.objects.values_list("raw", flat=True))
    ledger = ObjectLedger.objects.filter(source=s3_source)
    left = [
        queue_counts(sqs, notifications_queue),
        queue_counts(sqs, events_queue),
    ]
    REPORT.extend(
        report_table(
            fault_config,
            fault_data,
            plan,
            flaky_proxy.counts,
            stored=stored,
            distinct=distinct,
            failures=len(failures),
            failures_match=failures == sorted(fault_data.bad),
            left=sum(sum(pair) for pair in left),
            objects_done=ledger.filter(status=ObjectLedger.Status.DONE).count(),
            reread=ledger.filter(attempts__gt=1).count(),
            most_attempts=max(ledger.values_list("attempts", flat=True), default=0),
            elapsed=elapsed,
        )
    )

    assert not plan.faults, f"ingestion stalled before these faults: {plan.faults}"
    assert stored == expected
    assert distinct == stored
    assert failures == sorted(fault_data.bad)
    assert ledger.exclude(status=ObjectLedger.Status.DONE).count() == 0
    assert ledger.count() == len(fault_data.objects)
    assert left == [(0, 0), (0, 0)]


def _seconds(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "did not resume"
    if len(known) == 1:
        return f"ingestion resumed after {known[0]:.1f} s"
    return (
        f"ingestion resumed after {statistics.median(known):.1f} s median, {max(known):.1f} s max"
        + ("" if len(known) == len(values) else f" ({len(values) - len(known)} never)")
    )


def report_table(
    config: FaultConfig,
    data: FaultData,
    plan: Plan,
    proxy_counts,
    *,
    stored: int,
    distinct: int,
    failures: int,
    failures_match: bool,
    left: int,
    objects_done: int,
    reread: int,
    most_attempts: int,
    elapsed: float,
) -> list[str]:
    def resumed(kind: str) -> list[float | None]:
        return [f.resumed_after for f in plan.done if f.kind == kind]

    requests = sum(proxy_counts.values())
    kills = resumed("kill")
    rows = [
        "| fault | injected | outcome |",
        "|---|---|---|",
        f"| SIGKILL of the worker (main and pool processes), restarted at once | {len(kills)} "
        f"| {_seconds(kills)} |",
        "| Redis restart (no persistence: queued tasks, results and locks lost) "
        f"| {len(resumed('redis'))} | {_seconds(resumed('redis'))} |",
        "| PostgreSQL restart (`pg_ctl -m immediate`: crash and WAL recovery) "
        f"| {len(resumed('postgres'))} | {_seconds(resumed('postgres'))} |",
        f"| proxy: 503 SlowDown (S3) / 400 Throttling (SQS) | {proxy_counts['throttle']:,} of "
        f"{requests:,} AWS requests | retried by botocore |",
        f"| proxy: connection reset before forwarding | {proxy_counts['drop-before']:,} "
        "| retried by botocore |",
        "| proxy: connection reset after forwarding (answer lost, or body cut in half) "
        f"| {proxy_counts['drop-after']:,} | retried by botocore or by the next attempt |",
        "",
        "| check | expected | found |",
        "|---|---|---|",
        f"| events stored | {data.good:,} | {stored:,} |",
        f"| duplicate `p_row_id` | 0 | {stored - distinct:,} |",
        f"| failures stored with their raw line | {len(data.bad):,} | {failures:,}"
        f"{'' if failures_match else ' (raw lines differ)'} |",
        f"| S3 objects done in the ledger | {len(data.objects):,} | {objects_done:,} "
        f"({reread:,} read more than once, at most {most_attempts} times) |",
        f"| SQS messages left (visible + in flight, both queues) | 0 | {left:,} |",
        "",
        f"{config.events:,} events ({len(data.objects)} S3 objects, {len(data.messages)} SQS "
        f"messages, malformed rate {config.malformed_rate}), {config.kills} kills, proxy shares "
        f"{config.throttle_share} throttled / {config.drop_share} dropped, seed {config.seed}: "
        f"settled in {elapsed:.0f} s.",
    ]
    return rows
