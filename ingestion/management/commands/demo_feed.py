"""Feed a local S3/SQS endpoint (moto server) with generated Teleport logs for `./run --demo`.

Creates the bucket `sluice-demo-logs` with a day of history, the queue `sluice-demo-notifications`
fed by the bucket's ObjectCreated notifications, and the queue `sluice-demo-events` of raw events;
then adds a new log object (and a message of raw events) every few seconds until stopped.
"""

import itertools
import time
from datetime import UTC, datetime, timedelta

import orjson
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.generate import generate_lines, generate_objects
from sources import aws

BUCKET = "sluice-demo-logs"
NOTIFICATION_QUEUE = "sluice-demo-notifications"
EVENTS_QUEUE = "sluice-demo-events"


class Command(BaseCommand):
    help = "Create the demo bucket and queues on the local S3/SQS endpoint and keep feeding them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between new objects."
        )
        parser.add_argument("--history-objects", type=int, default=24)
        parser.add_argument("--events-per-object", type=int, default=200)
        parser.add_argument("--once", action="store_true", help="Create and fill, then exit.")

    def handle(
        self,
        *args,
        interval: float,
        history_objects: int,
        events_per_object: int,
        once: bool,
        **options,
    ):
        if not settings.AWS_ENDPOINT_URL:
            raise CommandError(
                "demo_feed writes to a local endpoint only: set AWS_ENDPOINT_URL "
                "(./run --demo does)."
            )
        s3, sqs = aws.client("s3"), aws.client("sqs")
        self.wait_for_endpoint(s3)
        queue_url = self.create_bucket_and_queues(s3, sqs)
        now = datetime.now(UTC).replace(microsecond=0)
        uploaded = self.upload(
            s3,
            generate_objects(
                history_objects * events_per_object,
                seed=1,
                events_per_object=events_per_object,
                start=now - timedelta(days=1),
                span=timedelta(days=1),
                malformed_rate=0.002,
            ),
        )
        self.stdout.write(f"demo: {uploaded} objects of history in s3://{BUCKET}/teleport/logs/")
        if once:
            return
        for seed in itertools.count(1000):
            time.sleep(interval)
            start = datetime.now(UTC) - timedelta(seconds=interval)
            self.upload(
                s3,
                generate_objects(
                    events_per_object,
                    seed=seed,
                    events_per_object=events_per_object,
                    start=start,
                    span=timedelta(seconds=interval),
                    malformed_rate=0.002,
                ),
            )
            lines = generate_lines(20, seed=seed, start=start, span=timedelta(seconds=interval))
            sqs.send_message(QueueUrl=queue_url, MessageBody=b"\n".join(lines).decode())

    def wait_for_endpoint(self, s3, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                s3.list_buckets()
                return
            except (BotoCoreError, ClientError) as exc:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"The local S3 endpoint {settings.AWS_ENDPOINT_URL} did not answer: {exc}"
                    ) from exc
                time.sleep(0.5)

    def create_bucket_and_queues(self, s3, sqs) -> str:
        s3.create_bucket(Bucket=BUCKET)
        notifications_url = sqs.create_queue(QueueName=NOTIFICATION_QUEUE)["QueueUrl"]
        notifications_arn = sqs.get_queue_attributes(
            QueueUrl=notifications_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {"QueueArn": notifications_arn, "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )
        events_url = sqs.create_queue(QueueName=EVENTS_QUEUE)["QueueUrl"]
        self.stdout.write(
            "demo: bucket "
            + orjson.dumps(
                {"bucket": BUCKET, "notifications": notifications_url, "events": events_url}
            ).decode()
        )
        return events_url

    def upload(self, s3, objects) -> int:
        count = 0
        for key, body in objects:
            s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentEncoding="gzip")
            count += 1
        return count
