"""A worker killed with SIGKILL in the middle of an object: after a restart, every event of the
object is stored exactly once (deterministic row ids + ledger + the SQS message left undeleted)."""

import pytest

from events.models import Event
from ingestion.models import ObjectLedger
from ingestion.tasks import poll_source
from sources.models import HourlyStats
from tests.conftest import wait_until

from .conftest import BUCKET, good_lines, gz, queue_is_empty

pytestmark = pytest.mark.e2e
LINES = 3000
BATCH = 200


def test_a_worker_killed_mid_object_loses_and_duplicates_nothing(
    workers, s3_source, s3, sqs, monkeypatch
):
    monkeypatch.setenv("SLUICE_INGEST_BATCH_SIZE", str(BATCH))
    monkeypatch.setenv("SLUICE_INGEST_BATCH_DELAY", "0.3")  # slow enough to be killed mid-way
    workers.start()
    s3.put_object(
        Bucket=BUCKET, Key="teleport/2026/11/27/11/big.json.gz", Body=gz(good_lines(LINES, 7))
    )
    poll_source.delay(s3_source.pk)
    wait_until(
        lambda: Event.objects.count() >= BATCH, timeout=60, what="the first batch to be committed"
    )

    workers.kill()
    stored_before_restart = Event.objects.count()
    assert BATCH <= stored_before_restart < LINES
    # What the killed workers held stays until it expires, as in production: the receiver's lock
    # (2 x SLUICE_SQS_WAIT_SECONDS + 10 s), the object's attempt (stale after
    # SLUICE_INGEST_STALE_SECONDS) and the SQS message (back after its visibility timeout).
    monkeypatch.setenv("SLUICE_INGEST_BATCH_DELAY", "0")
    workers.start()

    passes = []

    def finished() -> bool:
        done = ObjectLedger.objects.filter(status="done").exists()
        if done and queue_is_empty(sqs, s3_source.config["queue_url"]):
            return True
        if not passes or passes[-1].ready():
            passes.append(poll_source.delay(s3_source.pk))
        return False

    wait_until(finished, timeout=90, interval=0.5, what="the object to be read after the restart")

    assert Event.objects.count() == LINES
    assert Event.objects.values("p_row_id").distinct().count() == LINES
    assert sorted(Event.objects.values_list("line", flat=True)) == list(range(1, LINES + 1))
    ledger = ObjectLedger.objects.get()
    assert (ledger.status, ledger.events, ledger.attempts) == ("done", LINES, 2)
    assert sum(HourlyStats.objects.values_list("events", flat=True)) == LINES
