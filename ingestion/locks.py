"""Redis locks: one lister (and one receiver loop) per source across every worker machine."""

from __future__ import annotations

from contextlib import contextmanager, suppress
from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=2)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def connection() -> redis.Redis:
    return _redis(settings.REDIS_URL)


@contextmanager
def held(name: str, *, timeout: int):
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


def due(name: str, every_seconds: int) -> bool:
    """True at most once per `every_seconds` across all processes (for per-source intervals)."""
    return bool(connection().set(f"sluice:due:{name}", 1, nx=True, ex=max(1, every_seconds)))
