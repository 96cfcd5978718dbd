"""End to end through the worker layout of ./run: objects land in a moto bucket, S3 notifies SQS,
the receive and ingest workers read them, the rules run in the same transaction as the events
and their matches are grouped into alerts right after it. Alerts, thresholds and event-time
windows are checked, then the objects are read again (the console's Retry, a forced re-read)
and a worker is killed in the middle of an object: the matches and alerts stay exactly what one
reading gives."""

import gzip

import pytest
import redis
from django.conf import settings

from detections.models import Alert, Match
from events.models import Event
from ingestion.models import ObjectLedger
from ingestion.tasks import poll_source, retry_object
from tests.conftest import wait_until
from tests.ingestion.conftest import BUCKET, queue_is_empty

from .conftest import body, failed_login, harmless, root_login

pytestmark = pytest.mark.e2e


def drain(source, sqs, *, until, what: str, timeout: float = 120) -> None:
    """Ask for receive passes, one at a time, until the queue is empty and `until()`."""
    passes = []

    def settled() -> bool:
        if queue_is_empty(sqs, source.config["queue_url"]) and until():
            return True
        if not passes or passes[-1].ready():
            passes.append(poll_source.delay(source.pk))
        return False

    wait_until(settled, timeout=timeout, interval=0.5, what=what)


def alerts() -> list[tuple]:
    return sorted(
        (a.rule_id, a.dedup, a.first_event_time, a.last_event_time, a.event_count, a.pk)
        for a in Alert.objects.all()
    )


def put(s3, key: str, events: list[dict]) -> None:
    s3.put_object(
        Bucket=BUCKET, Key=f"teleport/2026/11/27/10/{key}", Body=gzip.compress(body(events))
    )


def test_alerts_from_objects_read_by_the_workers_and_reading_again_changes_nothing(
    workers, s3_source, s3, sqs, rules_dir, monkeypatch
):
    monkeypatch.setenv("SLUICE_RULES_DIRS", str(rules_dir))  # the workers load our folder too
    workers.start()
    put(s3, "a.json.gz", [root_login(0), harmless(1), failed_login(0), failed_login(4)])
    put(s3, "b.json.gz", [failed_login(8), root_login(30), root_login(75), harmless(76)])

    drain(
        s3_source,
        sqs,
        until=lambda: ObjectLedger.objects.filter(status="done").count() == 2,
        what="both objects to be read",
    )

    assert Event.objects.count() == 8
    found = {(a.rule_id, a.event_count) for a in Alert.objects.all()}
    assert found == {
        ("Teleport.RootLogin", 2),  # +0 and +30: one 60-minute window
        ("Teleport.RootLogin", 1),  # +75 opens the next window
        ("Test.FailedLogins", 3),  # the third within 10 minutes raises it, holding all three
    }
    assert Match.objects.count() == 6
    before = alerts()

    first_reads = dict(ObjectLedger.objects.values_list("pk", "finished_at"))
    for pk in first_reads:  # the console's Retry: read each object again from the start
        retry_object.delay(pk)
    wait_until(
        lambda: all(
            r.status == "done" and r.finished_at > first_reads[r.pk]
            for r in ObjectLedger.objects.all()
        ),
        timeout=60,
        interval=0.5,
        what="the objects to be read again",
    )
    assert Event.objects.count() == 8
    assert Match.objects.count() == 6
    assert alerts() == before


def test_a_worker_killed_mid_object_leaves_exactly_one_reading_of_matches_and_alerts(
    workers, s3_source, s3, sqs, rules_dir, monkeypatch
):
    lines = 1500
    events = [
        root_login(line / 10, host="db-9") if line % 50 == 0 else harmless(line / 10 + 0.01)
        for line in range(lines)
    ]  # 30 root logins at +0, +5, ... +145 minutes
    monkeypatch.setenv("SLUICE_RULES_DIRS", str(rules_dir))
    monkeypatch.setenv("SLUICE_INGEST_BATCH_SIZE", "100")
    monkeypatch.setenv("SLUICE_INGEST_BATCH_DELAY", "0.3")  # slow enough to be killed mid-way
    workers.start()
    put(s3, "big.json.gz", events)
    poll_source.delay(s3_source.pk)
    wait_until(lambda: Match.objects.exists(), timeout=60, what="the first matches")

    workers.kill()
    assert Event.objects.count() < lines
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("sluice:lock:*"):  # the killed receiver's lock
        client.delete(key)
    monkeypatch.setenv("SLUICE_INGEST_BATCH_DELAY", "0")
    workers.start()
    drain(
        s3_source,
        sqs,
        # a worker killed between a batch's commit and its grouping leaves its matches to
        # beat's sweep (detections.group_pending)
        until=lambda: (
            ObjectLedger.objects.filter(status="done").exists()
            and not Match.objects.filter(window_start__isnull=True).exists()
        ),
        what="the object to be read after the restart and its matches grouped",
    )

    assert Event.objects.count() == lines
    assert Match.objects.filter(rule_id="Teleport.RootLogin").count() == 30
    windows = sorted(
        (a.event_count, a.first_event_time.minute)
        for a in Alert.objects.filter(rule_id="Teleport.RootLogin")
    )
    assert [count for count, _ in windows] == [6, 12, 12]  # [0, 60), [60, 120), [120, 180)
    assert ObjectLedger.objects.get().attempts == 2
