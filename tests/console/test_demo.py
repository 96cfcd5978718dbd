"""`./run --demo` feeds a local S3/SQS endpoint: a bucket of Teleport logs and two queues."""

import gzip
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus

import orjson
import pytest
from django.core.management import call_command

from devtools.generate import BUSINESS_DAY, OBJECT_KEY_RE
from ingestion.management.commands.demo_feed import (
    BUCKET,
    EVENTS_QUEUE,
    NOTIFICATION_QUEUE,
    Stream,
)
from sources import aws

pytestmark = pytest.mark.django_db


def test_demo_feed_fills_a_bucket_whose_notifications_reach_the_queue(aws):
    call_command("demo_feed", "--once", "--peak-per-hour", "20", "--events-per-object", "50")

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


def test_the_demo_day_has_business_hours_and_sessions_of_minutes(aws):
    """The backlog follows BUSINESS_DAY: busy working hours, quiet nights (it was ~200 events an
    hour, flat, then 200 every 5 s); its sessions run minutes, commands inside, one sid, user,
    login and server throughout."""
    call_command("demo_feed", "--once", "--peak-per-hour", "400")

    s3, _ = aws_clients()
    events = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page["Contents"]:
            body = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read())
            events += [e for e in map(loads_or_none, body.splitlines()) if e]
    per_hour = [0] * 24
    for event in events:
        per_hour[int(event["time"][11:13])] += 1
    assert 400 * sum(BUSINESS_DAY) * 0.95 <= len(events) <= 400 * sum(BUSINESS_DAY) * 1.05
    for hour in (10, 15):
        assert 300 <= per_hour[hour] <= 500, per_hour
    for hour in (1, 2, 3):
        assert per_hour[hour] <= 60, per_hour
    assert_sessions_last_minutes_with_commands(events)


def test_the_live_feed_continues_the_backlogs_sessions_at_the_same_rate():
    """The live feed is the same stream as the backlog, handed out as time passes: a session
    that started before now ends minutes later in the feed (they were cut to 5 s windows)."""
    now = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    stream = Stream(7, now - timedelta(days=1), tuple(1200 * w for w in BUSINESS_DAY))
    backlog = stream.until(now)
    live = stream.until(now + timedelta(minutes=30))
    assert 1200 * 0.5 * 0.8 <= len(live) <= 1200 * 0.5 * 1.2  # 14:00-14:30 at weight 1.0
    before = {e["sid"] for e in parsed(backlog) if "sid" in e}
    after = parsed(live)
    assert any(e["event"] == "session.end" and e["sid"] in before for e in after)
    assert_sessions_last_minutes_with_commands(after)


def assert_sessions_last_minutes_with_commands(events: list[dict]) -> None:
    sessions = defaultdict(list)
    for event in events:
        if event["event"].startswith("session.") and "sid" in event:
            sessions[event["sid"]].append(event)
    minutes, commands = [], 0
    for group in sessions.values():
        names = [e["event"] for e in group]
        if "session.start" not in names or "session.end" not in names:
            continue
        start, end = group[names.index("session.start")], group[names.index("session.end")]
        identity = ("user", "login", "server_id")
        for event in group:
            if event["event"] in ("session.command", "session.end"):
                assert [event[k] for k in identity] == [start[k] for k in identity]
        commands += names.count("session.command")
        minutes.append((seconds(end["session_stop"]) - seconds(end["session_start"])) / 60)
    assert len(minutes) >= 10
    assert statistics.median(minutes) >= 1.5, sorted(minutes)
    assert commands >= 3 * len(minutes)


def parsed(timed: list[tuple[int, bytes]]) -> list[dict]:
    return [e for e in (loads_or_none(line) for _, line in timed) if e]


def seconds(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339[:19]).timestamp()


def loads_or_none(line: bytes) -> dict | None:
    """A demo line (a few are malformed on purpose, as real logs are); None when broken."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    ok = isinstance(event, dict) and isinstance(event.get("time"), str)
    return event if ok and isinstance(event.get("event"), str) else None


def test_demo_feed_refuses_to_run_against_real_aws(settings):
    settings.AWS_ENDPOINT_URL = None
    with pytest.raises(Exception, match="local endpoint only"):
        call_command("demo_feed", "--once")


def aws_clients():
    return aws.client("s3"), aws.client("sqs")
