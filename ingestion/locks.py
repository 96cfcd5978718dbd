"""Redis locks and claims: one receiver (or lister) per source across every worker machine, and
at most one receive pass per source queued or running.

Every lock is short and renewed while its holder makes progress, so a holder killed with
SIGKILL holds its source back for seconds, not for the length of its work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import redis

from sources.runtime import connection

Renew = Callable[[], None]


@contextmanager
def held(name: str, *, timeout: int) -> Iterator[Renew | None]:
    """Yields `renew` when this process holds the lock, None when another one does.

    `renew()` starts the timeout again, so a holder doing long work keeps a short timeout and a
    holder that died (SIGKILL) blocks the others only that long.
    """
    lock = connection().lock(f"sluice:lock:{name}", timeout=timeout, blocking=False)
    acquired = lock.acquire(blocking=False)

    def renew() -> None:
        with suppress(redis.exceptions.LockError):  # lost meanwhile: the work is safe to overlap
            lock.reacquire()

    try:
        yield renew if acquired else None
    finally:
        if acquired:
            with suppress(redis.exceptions.LockError):  # expired meanwhile: nothing to release
                lock.release()


def claim(name: str, *, seconds: int) -> bool:
    """True when no pass `name` is queued or running (and claims it for `seconds`)."""
    return bool(connection().set(f"sluice:pass:{name}", 1, nx=True, ex=max(1, seconds)))


def extend_claim(name: str, *, seconds: int) -> None:
    """The pass is running: keep its claim while it makes progress."""
    connection().set(f"sluice:pass:{name}", 1, ex=max(1, seconds))


def release_claim(name: str) -> None:
    connection().delete(f"sluice:pass:{name}")


def due(name: str, every_seconds: int) -> bool:
    """True at most once per `every_seconds` across all processes (for per-source intervals)."""
    return not connection().exists(f"sluice:due:{name}") and bool(every_seconds)


def mark_done(name: str, every_seconds: int) -> None:
    """A complete pass `name` finished: the next one is due in `every_seconds`."""
    connection().set(f"sluice:due:{name}", 1, ex=max(1, every_seconds))
