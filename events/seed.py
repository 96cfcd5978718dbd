"""Load N generated Teleport events straight into the events table, for demos and benchmarks.

Lines come from `devtools.generate` and go through the real Teleport parser, so what lands is what
ingestion would store. The time span is cut into chunks; each chunk is generated, parsed and
written independently (in parallel worker processes on PostgreSQL, where each chunk is one COPY).
Row ids derive from the chunk's synthetic object key and line, so a given --seed always produces
the same rows (seeding the same seed twice stops on the p_row_id unique constraint).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.generate import generate_lines
from events.copyformat import EVENT_COLUMNS, copy_rows
from parsers import Origin, ParsedEvent, default_registry

LOG_TYPE = "Gravitational.TeleportAudit"
CHUNK_EVENTS = 50_000


@dataclass(frozen=True)
class Chunk:
    index: int
    count: int
    seed: int
    start: datetime
    span: timedelta
    source_id: int | None

    @property
    def object_key(self) -> str:
        return f"seed/{self.seed}/{self.index:06d}.jsonl"


def plan_chunks(
    count: int, *, days: float, seed: int, end: datetime, source_id: int | None
) -> list[Chunk]:
    """Cut [end - days, end) into chunks of about CHUNK_EVENTS events, spread evenly in time."""
    n_chunks = max(1, -(-count // CHUNK_EVENTS))
    span = timedelta(days=days) / n_chunks
    start = end - timedelta(days=days)
    base, extra = divmod(count, n_chunks)
    return [
        Chunk(
            index=i,
            count=base + (1 if i < extra else 0),
            seed=seed,
            start=start + span * i,
            span=span,
            source_id=source_id,
        )
        for i in range(n_chunks)
        if base + (1 if i < extra else 0)
    ]


def parsed_events(chunk: Chunk) -> Iterator[ParsedEvent]:
    parser = default_registry().get(LOG_TYPE).parser
    origin = Origin(str(chunk.source_id or 0), chunk.object_key, "")
    lines = generate_lines(
        chunk.count, seed=chunk.seed * 1_000_003 + chunk.index, start=chunk.start, span=chunk.span
    )
    for number, raw in enumerate(lines, start=1):
        result = parser.parse(raw, origin, number)
        if isinstance(result, ParsedEvent):
            yield result


def copy_chunk(args: tuple[Chunk, str]) -> int:
    """Generate, parse and COPY one chunk (runs in a worker process); returns rows written."""
    import psycopg

    chunk, conninfo = args
    columns = ", ".join(EVENT_COLUMNS)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        written = _copy_events(cur, chunk, columns)
    return written


def _copy_events(cur: Any, chunk: Chunk, columns: str) -> int:
    written = 0
    batch: list[ParsedEvent] = []
    with cur.copy(f"COPY events_event ({columns}) FROM STDIN") as copy:
        for event in parsed_events(chunk):
            batch.append(event)
            if len(batch) >= 2000:
                copy.write(copy_rows(batch, chunk.source_id, chunk.object_key, ""))
                written += len(batch)
                batch = []
        if batch:
            copy.write(copy_rows(batch, chunk.source_id, chunk.object_key, ""))
            written += len(batch)
    return written


def postgres_conninfo() -> str:
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    parts = [f"{key}={value}" for key, value in params.items() if value not in (None, "")]
    return " ".join(parts)


def secondary_indexes() -> list[tuple[str, str]]:
    """(name, CREATE statement) of the events table's indexes that no constraint owns."""
    from django.db import connection

    from events.partitions import secondary_indexes

    with connection.cursor() as cursor:
        return secondary_indexes(cursor)


def drop_indexes(indexes: list[tuple[str, str]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def create_indexes(indexes: list[tuple[str, str]], write: Callable[[str], None]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for name, statement in indexes:
            started = time.monotonic()
            cursor.execute(statement)
            write(f"index {name} built in {time.monotonic() - started:.1f}s")


def seed_postgresql(
    chunks: list[Chunk],
    workers: int,
    progress: Callable[[int], None],
    *,
    defer_indexes: bool = False,
    write: Callable[[str], None] = print,
) -> int:
    indexes = secondary_indexes() if defer_indexes else []
    drop_indexes(indexes)
    try:
        return _copy_in_parallel(chunks, workers, progress)
    finally:
        create_indexes(indexes, write)


def _copy_in_parallel(chunks: list[Chunk], workers: int, progress: Callable[[int], None]) -> int:
    from django.db import connections

    conninfo = postgres_conninfo()
    connections.close_all()
    total = 0
    # spawn, not fork: a forked child would run kombu's after-fork hooks on inherited broker
    # connections (and hang on a Redis BRPOP); the children need only psycopg and the chunk.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        for written in pool.imap_unordered(copy_chunk, [(c, conninfo) for c in chunks]):
            total += written
            progress(total)
    return total


def seed_sqlite(chunks: list[Chunk], progress: Callable[[int], None], batch: int = 5000) -> int:
    """Other databases: the ingestion writer (events.store.write_batch), in batches."""
    from events.store import write_batch

    total = 0
    for chunk in chunks:
        pending: list[ParsedEvent] = []
        for event in parsed_events(chunk):
            pending.append(event)
            if len(pending) >= batch:
                total += _write(write_batch, pending, chunk)
                pending = []
                progress(total)
        total += _write(write_batch, pending, chunk)
        progress(total)
    return total


def _write(write_batch: Callable[..., Any], events: list[ParsedEvent], chunk: Chunk) -> int:
    if not events:
        return 0
    result = write_batch(
        events, [], source_id=chunk.source_id, object_key=chunk.object_key, object_version=""
    )
    return result.inserted


def seed_events(
    count: int,
    *,
    days: float = 30,
    seed: int = 0,
    end: datetime | None = None,
    source_id: int | None = None,
    workers: int | None = None,
    defer_indexes: bool = False,
    progress: Callable[[int], None] = lambda n: None,
    write: Callable[[str], None] = print,
) -> int:
    """Write `count` parsed Teleport events spread over the `days` before `end`; returns rows."""
    from django.db import connection

    end = end or datetime.now(UTC)
    chunks = plan_chunks(count, days=days, seed=seed, end=end, source_id=source_id)
    if connection.vendor == "postgresql":
        from events.partitions import days_between, ensure_partitions

        ensure_partitions(days_between(end - timedelta(days=days), end))
        workers = workers or min(len(chunks), multiprocessing.cpu_count())
        return seed_postgresql(chunks, workers, progress, defer_indexes=defer_indexes, write=write)
    return seed_sqlite(chunks, progress)


class Throughput:
    """Prints progress at most every few seconds: rows and rows/s so far."""

    def __init__(self, write: Callable[[str], None], every: float = 5.0) -> None:
        self.write = write
        self.every = every
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            rate = total / max(now - self.started, 1e-9)
            self.write(f"{total:,} events ({rate:,.0f}/s)")
