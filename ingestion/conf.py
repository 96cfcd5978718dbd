"""Ingestion knobs, read from the environment (defaults suit production)."""

import os
from datetime import timedelta


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def batch_size() -> int:
    """Events and failures written per transaction."""
    return int(_float("SLUICE_INGEST_BATCH_SIZE", 5000))


def max_attempts() -> int:
    """Attempts before an object is marked failed (it stays retryable from the console)."""
    return int(_float("SLUICE_INGEST_MAX_ATTEMPTS", 3))


def retry_base_seconds() -> float:
    """Backoff before a failed object is tried again: base * 2**(attempt-1)."""
    return _float("SLUICE_INGEST_RETRY_BASE_SECONDS", 30)


def visibility_seconds() -> int:
    """How long a received SQS message stays hidden; extended while its object is read."""
    return int(_float("SLUICE_SQS_VISIBILITY_SECONDS", 300))


def stale() -> timedelta:
    """An object attempt silent this long (no batch committed) belonged to a dead worker."""
    return timedelta(seconds=_float("SLUICE_INGEST_STALE_SECONDS", 30))


def dispatch_timeout() -> timedelta:
    """An object handed to the ingest queue and not started this long lost its task (a broker
    restart): the next listing hands it out again."""
    return timedelta(seconds=_float("SLUICE_INGEST_DISPATCH_TIMEOUT_SECONDS", 300))


def wait_seconds() -> int:
    """SQS long-polling wait (0-20 s)."""
    return int(_float("SLUICE_SQS_WAIT_SECONDS", 10))


def poll_seconds() -> float:
    """How long one receive task keeps long polling; beat starts the next (one per source)."""
    return _float("SLUICE_SQS_POLL_SECONDS", 20)


def ingest_high_water() -> int:
    """Tasks waiting in the ingest queue above which receivers and listers hand out no more."""
    return int(_float("SLUICE_INGEST_HIGH_WATER", 40))


def list_max_objects() -> int:
    """Objects one listing pass hands to workers."""
    return int(_float("SLUICE_LIST_MAX_OBJECTS", 1000))


def batch_delay() -> float:
    """Seconds to sleep after each committed batch: only for tests that kill a worker mid-object."""
    return _float("SLUICE_INGEST_BATCH_DELAY", 0)


def max_object_bytes() -> int:
    """Decompressed bytes read from one object or message; the rest becomes one failure."""
    return int(_float("SLUICE_MAX_OBJECT_BYTES", 1 << 30))


def max_line_bytes() -> int:
    """Longest record (line) parsed; a longer one is a failure keeping this many bytes of it."""
    return int(_float("SLUICE_MAX_LINE_BYTES", 16 << 20))
