"""Ingestion fixtures: a bucket with S3 → SQS notifications on moto, a source reading it, and
the worker layout of `./run` that can be started, killed with SIGKILL and started again."""

import gzip
import json
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from devtools.generate import generate_lines
from sources import aws as aws_module
from tests.conftest import ROOT, worker_env
from tests.factories import SourceFactory
from tests.layout import Layout

BUCKET = "teleport-audit"
# Short waits and backoffs so end-to-end tests take seconds; production keeps the defaults.
WORKER_ENV = {
    "SLUICE_SQS_WAIT_SECONDS": "1",
    "SLUICE_SQS_POLL_SECONDS": "2",
    "SLUICE_SQS_VISIBILITY_SECONDS": "6",
    "SLUICE_INGEST_RETRY_BASE_SECONDS": "0",
    "SLUICE_INGEST_MAX_ATTEMPTS": "2",
    "SLUICE_INGEST_STALE_SECONDS": "3",
}


def good_lines(count: int, seed: int = 1) -> list[bytes]:
    return list(generate_lines(count, seed))


def gz(lines: list[bytes]) -> bytes:
    return gzip.compress(b"\n".join(lines) + b"\n", compresslevel=1)


@pytest.fixture
def ingest_env(monkeypatch, settings):
    """The short knobs for worker subprocesses (their environment) and for this process."""
    for name, value in WORKER_ENV.items():
        monkeypatch.setenv(name, value)
        setattr(settings, name, int(value))
    return WORKER_ENV


@pytest.fixture
def s3(aws):
    return aws_module.client("s3")


@pytest.fixture
def sqs(aws):
    return aws_module.client("sqs")


@pytest.fixture
def notified_bucket(s3, sqs) -> str:
    """A bucket sending ObjectCreated notifications to a queue; the s3:TestEvent is queued too."""
    s3.create_bucket(Bucket=BUCKET)
    queue_url = sqs.create_queue(QueueName="teleport-notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    return queue_url


@pytest.fixture
def s3_source(notified_bucket):
    return SourceFactory(
        name="teleport-prod",
        config={
            "account_id": "123456789012",
            "bucket": BUCKET,
            "region": "us-east-1",
            "prefixes": [
                {
                    "prefix": "teleport/",
                    "log_types": ["Gravitational.TeleportAudit"],
                    "exclude": ["*.tmp"],
                }
            ],
            "stream_type": "auto",
            "discovery": "notifications",
            "queue_url": notified_bucket,
            "list_interval_minutes": 5,
        },
    )


@pytest.fixture
def sqs_source(db, sqs):
    """A source reading raw events from its own queue: (source, sqs client, queue url)."""
    queue_url = sqs.create_queue(QueueName="teleport-events")["QueueUrl"]
    source = SourceFactory(
        transport="sqs",
        config={"queue_url": queue_url, "region": "us-east-1", "stream_type": "auto"},
    )
    return source, sqs, queue_url


def queue_is_empty(sqs, queue_url: str) -> bool:
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        attrs["ApproximateNumberOfMessages"] == "0"
        and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def send_json(sqs, queue_url: str, body: dict) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))


@pytest.fixture
def workers(transactional_db, aws, ingest_env) -> Iterator[Layout]:
    """The worker layout of `./run`, not started yet: `workers.start()` (in the test, after it
    has set the environment it needs), `workers.kill()`, `workers.start()` again."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    pool = Layout(worker_env(), ROOT / "var" / "test-ingestion-worker.log")
    try:
        yield pool
    finally:
        pool.close()
