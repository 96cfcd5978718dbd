"""`./run --demo` feeds a local S3/SQS endpoint: a bucket of Teleport logs and two queues."""

import gzip
from urllib.parse import unquote_plus

import orjson
import pytest
from django.core.management import call_command

from devtools.generate import OBJECT_KEY_RE
from ingestion.management.commands.demo_feed import BUCKET, EVENTS_QUEUE, NOTIFICATION_QUEUE
from sources import aws

pytestmark = pytest.mark.django_db


def test_demo_feed_fills_a_bucket_whose_notifications_reach_the_queue(aws):
    call_command("demo_feed", "--once", "--history-objects", "3", "--events-per-object", "50")

    s3, sqs = aws_clients()
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) >= 3
    assert all(OBJECT_KEY_RE.fullmatch(key) for key in keys)
    body = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    first = gzip.decompress(body).splitlines()[0]
    assert orjson.loads(first)["code"]

    queue_url = sqs.get_queue_url(QueueName=NOTIFICATION_QUEUE)["QueueUrl"]
    notified = set()
    for _ in range(5):
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for record in orjson.loads(message["Body"]).get("Records", []):
                notified.add(unquote_plus(record["s3"]["object"]["key"]))
    assert notified == set(keys)
    assert sqs.get_queue_url(QueueName=EVENTS_QUEUE)["QueueUrl"]


def test_demo_feed_refuses_to_run_against_real_aws(settings):
    settings.AWS_ENDPOINT_URL = None
    with pytest.raises(Exception, match="local endpoint only"):
        call_command("demo_feed", "--once")


def aws_clients():
    return aws.client("s3"), aws.client("sqs")
