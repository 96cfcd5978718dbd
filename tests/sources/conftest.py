"""Fixtures for the sources tests: roles, a Teleport-like bucket and queues on moto, form data."""

import gzip

import pytest
from django.contrib.auth.models import Group

from sources import aws as aws_clients
from sources.permissions import SOURCE_ADMINS_GROUP
from tests.factories import SourceFactory, UserFactory

ACCOUNT = "123456789012"
BUCKET = "sluice-test-logs"
TELEPORT = "Gravitational.TeleportAudit"
LOG_LINE = b'{"event":"user.login","code":"T1000I","time":"2026-11-27T10:00:00Z","user":"alice"}\n'


@pytest.fixture
def source_admin(db):
    """A non-staff member of the "Source admins" group."""
    user = UserFactory(username="sam-source-admin")
    user.groups.add(Group.objects.get_or_create(name=SOURCE_ADMINS_GROUP)[0])
    return user


@pytest.fixture
def source(db):
    return SourceFactory(name="teleport-prod")


@pytest.fixture
def bucket(aws):
    """A bucket holding one gzipped Teleport log object under teleport/."""
    s3 = aws_clients.client("s3", region="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(
        Bucket=BUCKET,
        Key="teleport/2026/11/27/10/events.json.gz",
        Body=gzip.compress(LOG_LINE * 3),
        ContentType="application/gzip",
    )
    return BUCKET


@pytest.fixture
def queue_url(aws):
    return aws_clients.client("sqs", region="us-east-1").create_queue(QueueName="sluice-test-q")[
        "QueueUrl"
    ]


def s3_form_data(**overrides) -> dict:
    """POST data of a valid S3 settings form (listing discovery, one prefix)."""
    data = {
        "name": "teleport-s3",
        "account_id": ACCOUNT,
        "bucket": BUCKET,
        "region": "us-east-1",
        "kms_key_arn": "",
        "role_arn": "",
        "stream_type": "auto",
        "envelope": "",
        "discovery": "listing",
        "queue_url": "",
        "list_interval_minutes": "5",
        "prefixes-TOTAL_FORMS": "1",
        "prefixes-INITIAL_FORMS": "0",
        "prefixes-MIN_NUM_FORMS": "1",
        "prefixes-MAX_NUM_FORMS": "50",
        "prefixes-0-prefix": "teleport/",
        "prefixes-0-log_types": [TELEPORT],
        "prefixes-0-exclude": "",
    }
    data.update(overrides)
    return data


def sqs_form_data(**overrides) -> dict:
    data = {
        "name": "teleport-sqs",
        "log_types": [TELEPORT],
        "queue_mode": "existing",
        "queue_url": "",
        "queue_name": "",
        "region": "us-east-1",
        "role_arn": "",
        "stream_type": "lines",
        "envelope": "",
        "allowed_principal_arns": "",
        "allowed_source_arns": "",
    }
    data.update(overrides)
    return data


def s3_payload(**config) -> dict:
    """An S3 source as the API takes it; `config` overrides its settings."""
    return {
        "name": "teleport-api",
        "transport": "s3",
        "log_types": [TELEPORT],
        "config": {
            "account_id": ACCOUNT,
            "bucket": BUCKET,
            "region": "us-east-1",
            "prefixes": [{"prefix": "teleport/", "log_types": [TELEPORT]}],
            **config,
        },
        "alarm_minutes": 60,
    }
