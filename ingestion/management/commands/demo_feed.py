"""Feed a local S3/SQS endpoint (moto server) with generated Teleport logs for `./run --demo`.

Creates the bucket `sluice-demo-logs` holding the last day of a cluster's audit log, the queue
`sluice-demo-notifications` fed by the bucket's ObjectCreated notifications, and the queue
`sluice-demo-events` of raw events; then keeps the log going: every few seconds the events whose
time has come go up as a new object (and the raw events' as a message).

One generated stream runs through the backlog and the live feed (devtools.generate.timed_lines),
so sessions last minutes across both, and its rate follows a working day (BUSINESS_DAY, UTC):
--peak-per-hour events an hour at the busiest hours, about a twelfth of that at night.
"""

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.generate import BUSINESS_DAY, events_in, pack_objects, timed_lines
from sources import aws

BUCKET = "sluice-demo-logs"
NOTIFICATION_QUEUE = "sluice-demo-notifications"
EVENTS_QUEUE = "sluice-demo-events"
PEAK_PER_HOUR = 1200  # a day of about 13,600 events: ~570 an hour on average
RAW_SHARE = 0.1  # the raw events queue carries a tenth of the bucket's rate
STREAM_SPAN = timedelta(days=7)  # one stream's window; the next one follows it


class Stream:
    """A generated log that hands out its lines when their time comes (`until`), window after
    window, so a session started in one window still ends minutes later in the same one."""

    def __init__(self, seed: int, start: datetime, per_hour: tuple[float, ...]) -> None:
        self.seed, self.per_hour = seed, per_hour
        self.lines = self._windows(start)
        self.next: tuple[int, bytes] | None = next(self.lines, None)

    def _windows(self, start: datetime) -> Iterator[tuple[int, bytes]]:
        for n in itertools.count():
            begin = start + n * STREAM_SPAN
            count = events_in(begin, STREAM_SPAN, self.per_hour)
            yield from timed_lines(
                count,
                self.seed + n,
                start=begin,
                span=STREAM_SPAN,
                malformed_rate=0.002,
                profile=self.per_hour,
            )

    def until(self, when: datetime) -> list[tuple[int, bytes]]:
        """The lines timed before `when` not handed out yet."""
        limit = int(when.timestamp() * 1_000_000_000)
        out = []
        while self.next is not None and self.next[0] < limit:
            out.append(self.next)
            self.next = next(self.lines, None)
        return out


class Command(BaseCommand):
    help = "Create the demo bucket and queues on the local S3/SQS endpoint and keep feeding them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=float, default=10.0, help="Seconds between new objects."
        )
        parser.add_argument(
            "--peak-per-hour",
            type=int,
            default=PEAK_PER_HOUR,
            help="Events an hour at the busiest hours of the day (the night has ~1/12 of it).",
        )
        parser.add_argument(
            "--flat", action="store_true", help="The same rate all day (load tests)."
        )
        parser.add_argument(
            "--history-hours", type=int, default=24, help="Hours of backlog (0: none)."
        )
        parser.add_argument("--events-per-object", type=int, default=200)
        parser.add_argument("--once", action="store_true", help="Create and fill, then exit.")

    def handle(
        self,
        *args,
        interval: float,
        peak_per_hour: int,
        flat: bool,
        history_hours: int,
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
        day = (1.0,) * 24 if flat else BUSINESS_DAY
        backlog_start = now - timedelta(hours=history_hours)
        logs = Stream(1, backlog_start, tuple(peak_per_hour * w for w in day))
        raw = Stream(1_000_001, now, tuple(peak_per_hour * RAW_SHARE * w for w in day))
        run = int(now.timestamp())  # object keys of their own for each run (the ledger keeps keys)
        backlog = logs.until(now)
        objects = pack_objects(backlog, run, events_per_object=events_per_object)
        uploaded = self.upload(s3, objects)
        self.stdout.write(
            f"demo: {uploaded} objects, {len(backlog)} events of the last {history_hours} h in "
            f"s3://{BUCKET}/teleport/logs/; then up to {peak_per_hour} events an hour"
            + ("" if flat else " (business hours, UTC)")
        )
        if once:
            return
        for seed in itertools.count(1):
            time.sleep(interval)
            now = datetime.now(UTC)
            objects = pack_objects(logs.until(now), run + seed, events_per_object=events_per_object)
            self.upload(s3, objects)
            lines = [line for _, line in raw.until(now)]
            if lines:
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
