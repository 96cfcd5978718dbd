"""A source's pass claim ("a pass is queued or running"): beat queues no second pass while it is
held, so a pass must not leave it behind, and a killed pass's claim must go with its lock."""

import threading
import time

from ingestion import locks
from ingestion.tasks import poll_source, start_passes
from tests.factories import SourceFactory


def claim_key(name: str) -> str:
    return f"sluice:pass:{name}"


def test_a_pass_that_finds_its_source_locked_leaves_no_claim_behind(sqs_source):
    """A receiver killed with SIGKILL holds its lock until it expires; the pass beat queued
    meanwhile returns at once, and beat queues the next one instead of waiting for the claim."""
    source, _, _ = sqs_source
    client = locks.connection()
    client.delete(claim_key(f"poll:{source.pk}"), f"sluice:lock:poll:{source.pk}")
    with locks.held(f"poll:{source.pk}", timeout=30) as dead_receiver:
        assert dead_receiver
        assert locks.claim(f"poll:{source.pk}", seconds=60)  # beat queued a pass

        assert poll_source(source.pk) == 0

        assert not client.exists(claim_key(f"poll:{source.pk}"))
        start_passes.apply()  # the next beat tick queues another pass
        assert client.exists(claim_key(f"poll:{source.pk}"))


def test_a_lister_that_finds_its_source_locked_leaves_no_claim_behind(db):
    source = SourceFactory(config={"bucket": "b", "discovery": "listing"})
    client = locks.connection()
    client.delete(claim_key(f"poll:{source.pk}"))
    with locks.held(f"poll:{source.pk}", timeout=30) as dead_lister:
        assert dead_lister
        assert locks.claim(f"poll:{source.pk}", seconds=60)

        assert poll_source(source.pk) == 0

        assert not client.exists(claim_key(f"poll:{source.pk}"))


def test_a_running_receiver_claims_its_source_no_longer_than_its_lock(sqs_source, settings):
    source, _, _ = sqs_source
    settings.SLUICE_SQS_WAIT_SECONDS = 1
    settings.SLUICE_SQS_POLL_SECONDS = 4  # a pass of several long polls
    key = claim_key(f"poll:{source.pk}")
    client = locks.connection()
    client.delete(key, f"sluice:lock:poll:{source.pk}")
    assert locks.claim(f"poll:{source.pk}", seconds=60)  # queued: the claim covers the wait
    ttls: list[int] = []
    stop = threading.Event()

    def sample_the_claim_ttl() -> None:
        while not stop.is_set():
            ttls.append(client.pttl(key))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample_the_claim_ttl)
    sampler.start()
    try:
        assert poll_source(source.pk) == 0  # the queue is empty: four empty long polls
    finally:
        stop.set()
        sampler.join()

    running = [ttl for ttl in ttls[len(ttls) // 4 :] if ttl > 0]
    assert running
    assert max(running) <= 12_000  # the lock's timeout: 2 x the long poll + 10 s
    assert not client.exists(key)  # released at the end of the pass
