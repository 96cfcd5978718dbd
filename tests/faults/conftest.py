"""Fault-suite fixtures: the private services started by `bin/faults`, the flaky proxy, a source
listing a second bucket, and the generated data with what it should produce. Without `bin/faults`
the suite is skipped."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from devtools.generate import Breakage, generate_breakages, generate_lines, generate_objects
from sources import aws as aws_module
from tests.availability import unavailable
from tests.factories import SourceFactory
from tests.ingestion.conftest import (  # noqa: F401 - fixtures shared with the ingestion tests
    BUCKET,
    ingest_env,
    notified_bucket,
    s3,
    s3_source,
    sqs,
    sqs_source,
    workers,
)

from .proxy import FlakyProxy
from .services import ENV_PG_DIR, ENV_REDIS_DIR, PrivatePostgres, PrivateRedis

START = datetime(2026, 11, 27, tzinfo=UTC)
LINES_PER_OBJECT = 2000
LINES_PER_MESSAGE = 25
LISTING_BUCKET = "teleport-listed"
LISTED_OBJECTS = 24  # asked of the generator, which also splits at hours: about 40 objects
REPORT: list[str] = []  # the table, printed at the end of the run


@dataclass(frozen=True)
class FaultConfig:
    events: int
    kills: int
    seed: int
    malformed_rate: float
    throttle_share: float
    drop_share: float
    sqs_share: float  # of the events sent as raw SQS messages
    listing_share: float  # of the events in objects of the bucket read by listing
    listing_kills: int  # SIGKILLs of the receive worker during a listing pass

    @classmethod
    def from_env(cls) -> FaultConfig:
        env = os.environ.get
        return cls(
            events=int(env("SLUICE_FAULTS_EVENTS", "200000")),
            kills=int(env("SLUICE_FAULTS_KILLS", "10")),
            seed=int(env("SLUICE_FAULTS_SEED", "7")),
            malformed_rate=float(env("SLUICE_FAULTS_MALFORMED_RATE", "0.01")),
            throttle_share=float(env("SLUICE_FAULTS_THROTTLE_SHARE", "0.05")),
            drop_share=float(env("SLUICE_FAULTS_DROP_SHARE", "0.03")),
            sqs_share=float(env("SLUICE_FAULTS_SQS_SHARE", "0.1")),
            listing_share=float(env("SLUICE_FAULTS_LISTING_SHARE", "0.2")),
            listing_kills=int(env("SLUICE_FAULTS_LISTING_KILLS", "3")),
        )


@dataclass
class FaultData:
    """What was written: S3 objects (notified, and listed) and SQS message bodies, and the bad
    lines among them."""

    objects: list[tuple[str, bytes]] = field(default_factory=list)
    listed_objects: list[tuple[str, bytes]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    good: int = 0
    bad: list[bytes] = field(default_factory=list)


@dataclass
class Services:
    postgres: PrivatePostgres
    redis: PrivateRedis


@pytest.fixture(scope="session")
def private_services() -> Services:
    if not (os.environ.get(ENV_PG_DIR) and os.environ.get(ENV_REDIS_DIR)):
        unavailable("the fault suite runs on private PostgreSQL and Redis: run bin/faults")
    return Services(PrivatePostgres.from_env(), PrivateRedis.from_env())


@pytest.fixture(scope="session")
def fault_config() -> FaultConfig:
    return FaultConfig.from_env()


@pytest.fixture
def flaky_proxy(aws, fault_config) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(
        aws,
        throttle_share=fault_config.throttle_share,
        drop_share=fault_config.drop_share,
        seed=fault_config.seed,
    ).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _with_malformed_twins(
    clean: list[bytes], dirty: list[bytes], breakages: Iterator[Breakage | None], data: FaultData
) -> list[bytes]:
    """Every clean line, each followed by its malformed twin when the dirty stream broke it in
    a way the schema rejects."""
    lines = []
    for good, twin in zip(clean, dirty, strict=True):
        lines.append(good)
        data.good += 1
        breakage = next(breakages)
        if breakage is not None and breakage.rejected_by_schema:
            lines.append(twin)
            data.bad.append(twin)
    return lines


def _objects(
    count: int, seed: int, lines_per_object: int, rate: float, data: FaultData
) -> list[tuple[str, bytes]]:
    options = {"events_per_object": lines_per_object, "start": START}
    clean_objects = generate_objects(count, seed, **options)
    dirty_objects = generate_objects(count, seed, malformed_rate=rate, **options)
    breakages = generate_breakages(count, seed, start=START, malformed_rate=rate)
    objects = []
    for (key, clean), (dirty_key, dirty) in zip(clean_objects, dirty_objects, strict=True):
        assert key == dirty_key
        lines = _with_malformed_twins(
            gzip.decompress(clean).splitlines(),
            gzip.decompress(dirty).splitlines(),
            breakages,
            data,
        )
        objects.append((key, gzip.compress(b"\n".join(lines) + b"\n", compresslevel=1)))
    return objects


def build_fault_data(config: FaultConfig) -> FaultData:
    """`config.events` good events (deterministic), plus a malformed twin for about
    `malformed_rate` of them: lines the generator broke and the schema rejects. What ingestion
    must store is known from what was written, before any fault."""
    data = FaultData()
    sqs_events = int(config.events * config.sqs_share)
    listed_events = int(config.events * config.listing_share)
    s3_events = config.events - sqs_events - listed_events
    rate = config.malformed_rate
    data.objects = _objects(s3_events, config.seed, LINES_PER_OBJECT, rate, data)
    if listed_events:
        per_object = max(1, listed_events // LISTED_OBJECTS)
        data.listed_objects = _objects(listed_events, config.seed + 2, per_object, rate, data)
    seed = config.seed + 1
    clean_lines = list(generate_lines(sqs_events, seed, start=START))
    dirty_lines = list(generate_lines(sqs_events, seed, start=START, malformed_rate=rate))
    # an SQS body is text: a twin that is not UTF-8 cannot be sent, so it is not written at all
    breakages = iter(
        breakage if _is_utf8(line) else None
        for line, breakage in zip(
            dirty_lines,
            generate_breakages(sqs_events, seed, start=START, malformed_rate=rate),
            strict=True,
        )
    )
    for start in range(0, sqs_events, LINES_PER_MESSAGE):
        end = start + LINES_PER_MESSAGE
        lines = _with_malformed_twins(
            clean_lines[start:end], dirty_lines[start:end], breakages, data
        )
        data.messages.append(b"\n".join(lines).decode())
    return data


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.fixture(scope="session")
def fault_data(private_services, fault_config) -> FaultData:
    return build_fault_data(fault_config)


@pytest.fixture
def listing_source(aws):
    """A source listing a bucket of its own (no notifications) every minute."""
    aws_module.client("s3").create_bucket(Bucket=LISTING_BUCKET)
    return SourceFactory(
        name="teleport-listed",
        config={
            "account_id": "123456789012",
            "bucket": LISTING_BUCKET,
            "region": "us-east-1",
            "prefixes": [
                {"prefix": "teleport/", "log_types": ["Gravitational.TeleportAudit"], "exclude": []}
            ],
            "stream_type": "auto",
            "discovery": "listing",
            "list_interval_minutes": 1,
        },
    )


def pytest_terminal_summary(terminalreporter) -> None:
    if REPORT:
        terminalreporter.section("fault suite")
        for line in REPORT:
            terminalreporter.write_line(line)
