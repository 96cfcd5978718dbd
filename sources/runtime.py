"""What the workers are doing, as Redis sees it: who is alive, which queues they serve, how deep
each queue is, and when each source last received.

Every worker process of the layout (console/workers.py) runs `WorkerPulse`, a consumer bootstep
that, every few seconds,
- writes `sluice:worker:<hostname>` (its queues, pool size, tasks running), expiring soon after,
  so the console knows which workers are alive without a broadcast round-trip;
- moves the broker deadline of every message it holds (running, prefetched or waiting for its
  countdown) forward. The Redis transport hands a message to another worker once it has been
  unacknowledged for `visibility_timeout`; a live holder keeps pushing that back, so the timeout
  can be short (seconds after a SIGKILL, the dead worker's messages are back in their queue)
  without a long task ever running twice.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from celery import bootsteps
from django.conf import settings

log = logging.getLogger(__name__)
PULSE_SECONDS = 5
WORKER_TTL_SECONDS = 20  # a worker silent this long is gone
WORKER_KEY = "sluice:worker:"
RECEIVED_KEY = "sluice:received:"


@lru_cache(maxsize=2)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


def connection() -> redis.Redis:
    return _redis(settings.REDIS_URL)


# --- the worker side --------------------------------------------------------------------------
class WorkerPulse(bootsteps.StartStopStep):
    """Consumer bootstep: announce this worker and keep its held messages' deadlines fresh."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, consumer, **kwargs) -> None:
        self.tref = None
        super().__init__(consumer, **kwargs)

    def start(self, consumer) -> None:
        self.tref = consumer.timer.call_repeatedly(PULSE_SECONDS, self.pulse, (consumer,))
        self.pulse(consumer)

    def stop(self, consumer) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        with contextlib.suppress(redis.RedisError):
            connection().delete(WORKER_KEY + consumer.hostname)

    shutdown = stop

    def pulse(self, consumer) -> None:
        try:
            refresh_held_messages(consumer)
            announce(consumer)
        except redis.RedisError as exc:  # the broker is away: the consumer reconnects by itself
            log.warning("worker pulse skipped: %s", exc)
        except Exception:  # never let bookkeeping stop the worker's event loop
            log.exception("worker pulse failed")


def held_delivery_tags(consumer) -> list[str]:
    """Delivery tags of the messages this consumer holds unacknowledged (kombu keeps them in
    its QoS; acknowledged ones may linger in `_dirty` until flushed)."""
    channel = getattr(consumer.task_consumer, "channel", None)
    qos = getattr(channel, "qos", None)
    if qos is None:
        return []
    dirty = set(qos._dirty)
    return [tag for tag in list(qos._delivered) if tag not in dirty]


def refresh_held_messages(consumer) -> int:
    """Set the unacknowledged-since time of each held message to now (only if still listed)."""
    tags = held_delivery_tags(consumer)
    if not tags:
        return 0
    index_key = consumer.task_consumer.channel.unacked_index_key
    now = time.time()
    connection().zadd(index_key, dict.fromkeys(tags, now), xx=True)
    return len(tags)


def announce(consumer) -> None:
    from celery.worker import state

    queues = sorted(q.name for q in consumer.task_consumer.queues)
    info = {
        "hostname": consumer.hostname,
        "queues": queues,
        "concurrency": consumer.pool.num_processes if consumer.pool else 0,
        "active": len(state.active_requests),
        "pid": os.getpid(),
        "seen": time.time(),
    }
    connection().set(WORKER_KEY + consumer.hostname, json.dumps(info), ex=WORKER_TTL_SECONDS)


# --- the console side -------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerInfo:
    hostname: str
    queues: tuple[str, ...]
    concurrency: int
    active: int
    seen: float
    pid: int = 0


def workers() -> list[WorkerInfo]:
    """The workers alive now (announced within the last few seconds), by host name."""
    client = connection()
    keys = sorted(client.scan_iter(match=WORKER_KEY + "*", count=100))
    found = []
    for raw in client.mget(keys) if keys else []:
        if not raw:
            continue
        info = json.loads(raw)
        found.append(
            WorkerInfo(
                hostname=info["hostname"],
                queues=tuple(info["queues"]),
                concurrency=int(info.get("concurrency") or 0),
                active=int(info.get("active") or 0),
                seen=float(info["seen"]),
                pid=int(info.get("pid") or 0),
            )
        )
    return found


def serving(queue: str, alive: list[WorkerInfo] | None = None) -> list[WorkerInfo]:
    """The live workers consuming `queue`."""
    return [w for w in (workers() if alive is None else alive) if queue in w.queues]


def queue_depth(queue: str) -> int:
    """Messages waiting in `queue` (not yet taken by a worker)."""
    return int(connection().llen(queue))


def queue_depths() -> dict[str, int]:
    return {queue: queue_depth(queue) for queue in settings.SLUICE_WORKER_CONCURRENCY}


@dataclass(frozen=True)
class Received:
    at: float  # Unix time of the source's last answered receive or listing request
    lag: float  # seconds the oldest message of that receive had waited in its queue


def mark_received(source_id: int, *, lag: float = 0.0) -> None:
    """A receive (or listing) request of this source just answered."""
    value = json.dumps({"at": time.time(), "lag": round(lag, 1)})
    connection().set(f"{RECEIVED_KEY}{source_id}", value, ex=7 * 24 * 3600)


def last_received(source_id: int) -> Received | None:
    """The source's last answered receive or listing request, if any this week."""
    value = connection().get(f"{RECEIVED_KEY}{source_id}")
    if not value:
        return None
    data = json.loads(value)
    return Received(at=float(data["at"]), lag=float(data.get("lag") or 0))


QUEUE_SCAN_LIMIT = 20_000  # messages looked at to place one task in its queue


def tasks_ahead(queue: str, task: str, args: list) -> int | None:
    """How many messages wait in `queue` before the first call `task(*args)` (kombu pushes on
    the left and workers pop from the right); None when no such call waits there (a worker
    has taken it). Only the `QUEUE_SCAN_LIMIT` messages nearest the head are looked at."""
    waiting = connection().lrange(queue, -QUEUE_SCAN_LIMIT, -1)
    for ahead, payload in enumerate(reversed(waiting)):
        if _is_call(payload, task, args):
            return ahead
    return None


def _is_call(payload: bytes, task: str, args: list) -> bool:
    """Whether one raw kombu message (Celery protocol 2, JSON) is `task(*args)`."""
    try:
        message = json.loads(payload)
        if message.get("headers", {}).get("task") != task:
            return False
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        return json.loads(body)[0] == args
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return False
