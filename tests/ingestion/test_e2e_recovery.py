"""The broker side of recovery, with the worker layout of ./run: a live worker keeps the messages
it holds however long their work takes, and what a killed worker held is back in its queue within
about a minute (the broker's visibility timeout plus one sweep), not hours."""

import time

import pytest
from django.conf import settings

from events.models import Event
from ingestion.models import ObjectLedger
from ingestion.tasks import ingest_object_task
from sources import runtime
from sources.transports.base import ObjectRef
from tests.conftest import ROOT, wait_until

from .conftest import BUCKET, good_lines, gz

pytestmark = pytest.mark.e2e
LINES = 2000
BATCH = 100
KEY = "teleport/2026/11/27/11/slow.json.gz"


def queue_a_slow_object(s3, source, monkeypatch, *, seconds: float) -> dict:
    """An object whose reading takes about `seconds` (a pause after each committed batch)."""
    monkeypatch.setenv("SLUICE_INGEST_BATCH_SIZE", str(BATCH))
    monkeypatch.setenv("SLUICE_INGEST_BATCH_DELAY", str(seconds / (LINES / BATCH)))
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=gz(good_lines(LINES, 3)))
    ref = ObjectRef(bucket=BUCKET, key=KEY, version="v1").as_dict()
    return ref


def deliveries_of(task_id: str) -> int:
    log = (ROOT / "var" / "test-ingestion-worker.log").read_text(errors="replace")
    return log.count(f"ingest_object_task[{task_id}] received")


def test_a_live_worker_keeps_a_task_that_outlasts_the_visibility_timeout(
    workers, s3_source, s3, monkeypatch
):
    monkeypatch.setenv("SLUICE_BROKER_VISIBILITY_SECONDS", "15")  # the pulse: every 5 s
    ref = queue_a_slow_object(s3, s3_source, monkeypatch, seconds=35)
    workers.start()

    result = ingest_object_task.delay(s3_source.pk, ref)
    outcome = result.get(timeout=90)

    assert outcome == {"status": "done", "events": LINES, "failures": 0}
    assert deliveries_of(result.id) == 1  # never handed to the second ingest process
    assert ObjectLedger.objects.get().attempts == 1
    assert Event.objects.count() == LINES


def test_what_a_killed_worker_held_is_back_in_its_queue_within_a_minute(
    workers, s3_source, s3, monkeypatch
):
    ref = queue_a_slow_object(s3, s3_source, monkeypatch, seconds=60)
    workers.start()
    ingest_object_task.delay(s3_source.pk, ref)
    wait_until(
        lambda: Event.objects.count() >= BATCH, timeout=60, what="the object to be half read"
    )

    workers.kill(["ingest"])  # receive and interactive live on; nobody serves "ingest" now
    killed_at = time.monotonic()
    wait_until(
        lambda: runtime.queue_depth("ingest") == 1,
        timeout=settings.SLUICE_BROKER_VISIBILITY_SECONDS + 30,
        interval=0.5,
        what="the killed worker's task to be back in the ingest queue",
    )
    back_after = time.monotonic() - killed_at
    print(f"task back in its queue {back_after:.1f} s after the SIGKILL")

    monkeypatch.setenv("SLUICE_INGEST_BATCH_DELAY", "0")
    workers.start(["ingest"])
    wait_until(
        lambda: ObjectLedger.objects.filter(status="done").exists(),
        timeout=60,
        what="the object to be read by the restarted worker",
    )
    assert back_after < 60, f"back after {back_after:.1f} s"
    assert Event.objects.count() == LINES
    assert Event.objects.values("p_row_id").distinct().count() == LINES
