"""Ingestion fixtures: a bucket with S3 → SQS notifications on moto, a source reading it, and
Celery workers that can be started, killed with SIGKILL and started again."""

import contextlib
import gzip
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from parsers.generate import generate_lines
from sources import aws as aws_module
from sources.models import Source
from tests.conftest import ROOT, VENV_BIN, database_url_for_subprocess, wait_until
from tests.factories import SourceFactory

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
def ingest_env(monkeypatch):
    for name, value in WORKER_ENV.items():
        monkeypatch.setenv(name, value)
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
        transport=Source.Transport.SQS,
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


def _pong() -> bool:
    """A worker answered a ping; False also while the broker connection is being re-made."""
    from console.celery import app

    try:
        with app.connection_for_write() as fresh:  # not a pooled one a broker restart killed
            return bool(app.control.ping(timeout=0.5, connection=fresh))
    except (redis.exceptions.ConnectionError, OSError):
        return False


class Workers:
    """Celery worker subprocesses on the test database and Redis; `kill()` is a SIGKILL of all."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.log = open(ROOT / "var" / "test-ingestion-worker.log", "ab")  # noqa: SIM115

    def start(self, concurrency: int = 2) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_subprocess(),
            "REDIS_URL": settings.CELERY_BROKER_URL,
        }
        self.proc = subprocess.Popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "console",
                "worker",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(_pong, timeout=60, what="celery worker")
        return self.proc

    def children(self) -> list[int]:
        if self.proc is None:
            return []
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once: nothing gets to clean up."""
        pids = [*self.children(), self.proc.pid]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        for pid in pids[:-1]:
            wait_until(
                lambda pid=pid: not Path(f"/proc/{pid}").exists(),
                timeout=10,
                what=f"pool process {pid} to exit",
            )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def workers(transactional_db, aws, ingest_env) -> Iterator[Workers]:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    pool = Workers()
    try:
        yield pool
    finally:
        pool.stop()
        pool.log.close()
