"""Bare COPY benchmark: `python bench/indexes.py [--events N] [--runs R] [--database NAME]`.

The same N parsed Teleport events COPYed (the writer's own encoder, one statement) into:
  - the events table as it is now (migration 0008's indexes), and into a plain table of the same
    columns without an index or trigger (the row's own cost: the baseline);
  - the events table with the indexes of the code before (migration 0007: five full hot-field
    b-trees, the separate time index; the database migrated back to 0007 and forward again
    between the rounds), and into the plain table again.
Rounds interleave the layouts so both see the same machine; medians of R rounds are printed with
the ratios events table / plain table. `--breakdown` instead COPYs into plain copies of the table
with some of its indexes (none; keys and time; those and the indicator GIN; the b-trees; all),
to show what each group costs; `--each` into plain copies carrying one index each, and into
events_event with and without its minute-count trigger. `--streams 1,2,4` instead measures the
write ceiling of this PostgreSQL: the rows split among that many connections COPYing into
events_event at once (aggregate rows/s, rounds interleaved). Needs PostgreSQL; the database is
recreated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BEFORE = ("events", "0007_one_indicator_array")
NOW = ("events", "0008_leaner_event_indexes")
TARGET_TABLE_VS_PLAIN = 0.3


def parsed_events(count: int) -> list:
    from devtools.generate import generate_lines
    from parsers.parser import Origin, ParsedEvent
    from parsers.registry import default_registry

    parser = default_registry().get("Gravitational.TeleportAudit").parser
    origin = Origin("bench", "teleport/logs/bench.json.gz", "etag-1")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    events = []
    for line, raw in enumerate(generate_lines(count, 1, start=start, span=timedelta(hours=1)), 1):
        result = parser.parse(raw, origin, line)
        if type(result) is ParsedEvent:
            events.append(result)
    return events


def migrate(target: tuple[str, str]) -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def copy_seconds(table: str, columns: str, data: bytes) -> float:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for start in range(0, len(data), 1 << 20):
                copy.write(data[start : start + (1 << 20)])
        elapsed = time.perf_counter() - started
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
    return elapsed


def plain_table(name: str) -> None:
    """A table of events_event's columns as they are now, without an index or trigger."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TABLE {name} (LIKE events_event INCLUDING DEFAULTS)")


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--events", type=int, default=200_000)
    cli.add_argument("--runs", type=int, default=3)
    cli.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    cli.add_argument("--database", default="sluice_copy_bench")
    cli.add_argument("--breakdown", action="store_true", help="what each group of indexes costs")
    cli.add_argument("--each", action="store_true", help="what each index and the trigger cost")
    cli.add_argument("--streams", help="comma-separated numbers of parallel COPY connections")
    args = cli.parse_args()

    from bench.ingest import recreate_database

    recreate_database(f"{args.pg}/postgres", args.database)
    os.environ.update(
        DEBUG="1",
        DATABASE_URL=f"{args.pg}/{args.database}",
        DJANGO_SETTINGS_MODULE="console.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    from events.copyformat import EVENT_COLUMNS, copy_rows
    from events.partitions import ensure_partitions

    call_command("migrate", verbosity=0)
    events = parsed_events(args.events)
    if args.streams:
        counts = [int(n) for n in args.streams.split(",")]
        ceiling(events, counts, args.runs, os.environ["DATABASE_URL"])
        return 0
    data = copy_rows(events, None, "bench.json.gz", "etag-1")
    if args.breakdown or args.each:
        (each if args.each else breakdown)(data, len(events), args.runs)
        return 0
    ensure_partitions([e.event_time for e in events])
    columns = ", ".join(EVENT_COLUMNS)
    plain_table("bench_plain")
    times: dict[str, list[float]] = {k: [] for k in ("now", "plain_now", "before", "plain_before")}
    for _ in range(args.runs):
        times["now"].append(copy_seconds("events_event", columns, data))
        times["plain_now"].append(copy_seconds("bench_plain", columns, data))
        migrate(BEFORE)
        times["before"].append(copy_seconds("events_event", columns, data))
        times["plain_before"].append(copy_seconds("bench_plain", columns, data))
        migrate(NOW)
    report(len(events), len(data), args.runs, times)
    return 0


KEYS_AND_TIME = ("events_event_pkey", "events_event_row_id_time_key", "event_time_id_desc")
INDEX_GROUPS = {
    "no index (baseline)": lambda name: False,
    "the two keys and the time index": lambda name: name in KEYS_AND_TIME,
    "those and the indicator GIN": lambda name: name in (*KEYS_AND_TIME, "event_p_any_gin"),
    "every b-tree, no GIN": lambda name: "gin" not in name,
    "every index (as events_event)": lambda name: True,
}
BASELINE = "no index (baseline)"


def events_indexes() -> list[tuple[str, str]]:
    """(name, definition) of every index of events_event (the partitioned parent's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events_event' "
            "ORDER BY indexname"
        )
        return cursor.fetchall()


def table_with(table: str, indexes: list[tuple[str, str]]) -> str:
    """A plain copy of events_event named `table` carrying `indexes`."""
    from django.db import connection

    plain_table(table)
    with connection.cursor() as cursor:
        for name, definition in indexes:
            cursor.execute(
                definition.replace("ON ONLY public.events_event", f"ON {table}").replace(
                    f"INDEX {name} ", f"INDEX {table}_{name} "
                )
            )
    return table


def print_rates(title: str, rows: int, times: dict[str, list[float]]) -> None:
    base = statistics.median(times[BASELINE])
    print(title)
    for label, samples in times.items():
        median = statistics.median(samples)
        cost = (median - base) / rows * 100_000
        print(
            f"{label:<44} {rows / median:>9,.0f} rows/s {base / median:>6.2f}x "
            f"{cost:>+7.2f} s per 100k rows"
        )


def breakdown(data: bytes, rows: int, runs: int) -> None:
    """COPY rates into plain tables carrying groups of events_event's indexes (interleaved)."""
    from events.copyformat import EVENT_COLUMNS

    indexes = events_indexes()
    tables = {
        label: table_with(f"bench_indexes_{number}", [i for i in indexes if wanted(i[0])])
        for number, (label, wanted) in enumerate(INDEX_GROUPS.items())
    }
    columns = ", ".join(EVENT_COLUMNS)
    times: dict[str, list[float]] = {label: [] for label in tables}
    for _ in range(runs):
        for label, table in tables.items():
            times[label].append(copy_seconds(table, columns, data))
    print_rates(
        f"bare COPY of {rows:,} events into copies of events_event, medians of {runs} rounds",
        rows,
        times,
    )


TRIGGER = "events_minute_count_insert"


def each(data: bytes, rows: int, runs: int) -> None:
    """COPY rates into plain tables carrying one of events_event's indexes each, and into
    events_event itself with and without its minute-count trigger (interleaved)."""
    from django.db import connection

    from events.copyformat import EVENT_COLUMNS
    from events.partitions import ensure_partitions

    ensure_partitions(parsed_times(data))
    tables = {BASELINE: table_with("bench_each_none", [])}
    for number, index in enumerate(events_indexes()):
        tables[index[0]] = table_with(f"bench_each_{number}", [index])
    columns = ", ".join(EVENT_COLUMNS)
    times: dict[str, list[float]] = {label: [] for label in tables}
    times["events_event"], times["events_event without the trigger"] = [], []
    for _ in range(runs):
        for label, table in tables.items():
            times[label].append(copy_seconds(table, columns, data))
        times["events_event"].append(copy_seconds("events_event", columns, data))
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE events_event DISABLE TRIGGER {TRIGGER}")
        try:
            without = copy_seconds("events_event", columns, data)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE events_event ENABLE TRIGGER {TRIGGER}")
        times["events_event without the trigger"].append(without)
    print_rates(
        f"bare COPY of {rows:,} events: one index each, medians of {runs} interleaved rounds "
        "(s per 100k rows: above the baseline)",
        rows,
        times,
    )


def parsed_times(data: bytes) -> set:
    """The UTC days of the COPY rows' p_event_time (column 4), for their partitions."""
    from datetime import date

    days = {line.split(b"\t")[3][:10] for line in data.splitlines() if line}
    return {
        datetime.combine(date.fromisoformat(day.decode()), datetime.min.time(), UTC) for day in days
    }


def ceiling(events: list, counts: list[int], runs: int, url: str) -> None:
    """Aggregate rows/s of N connections each COPYing its share of the rows at once (rows of a
    source, as the writer stores them: the foreign key is checked)."""
    from sources.models import Source

    source = Source.objects.create(name="bench", transport="s3", config={}).pk
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    from events.copyformat import EVENT_COLUMNS, copy_rows

    columns = ", ".join(EVENT_COLUMNS)

    def one(data: bytes) -> None:
        with (
            psycopg.connect(url) as conn,
            conn.cursor() as cursor,
            cursor.copy(f"COPY events_event ({columns}) FROM STDIN") as copy,
        ):
            for start in range(0, len(data), 1 << 20):
                copy.write(data[start : start + (1 << 20)])

    shares = {
        n: [copy_rows(events[i::n], source, f"bench-{i}.json.gz", "etag-1") for i in range(n)]
        for n in counts
    }
    times: dict[int, list[float]] = {n: [] for n in counts}
    with psycopg.connect(url, autocommit=True) as admin:
        for _ in range(runs):
            for n in counts:
                admin.execute("TRUNCATE events_event")
                started = time.perf_counter()
                with ThreadPoolExecutor(n) as pool:
                    list(pool.map(one, shares[n]))
                times[n].append(time.perf_counter() - started)
        admin.execute("TRUNCATE events_event")
    rows = len(events)
    one_stream = statistics.median(times[counts[0]])
    print(f"parallel COPY of {rows:,} events into events_event, medians of {runs} rounds")
    for n, samples in times.items():
        median = statistics.median(samples)
        print(f"{n} connection(s)   {rows / median:>9,.0f} rows/s {one_stream / median:>6.2f}x")


def report(rows: int, size: int, runs: int, times: dict) -> None:
    rate = {name: rows / statistics.median(samples) for name, samples in times.items()}
    print(
        f"bare COPY of {rows:,} parsed Teleport events ({size / rows:.0f} bytes/row of COPY "
        f"text), medians of {runs} interleaved rounds; load average {load_average()}"
    )
    print(f"{'indexes':<52} {'events table':>13} {'plain table':>12} {'ratio':>6}")
    for label, table, plain in (
        (f"now ({NOW[1]})", "now", "plain_now"),
        (f"before ({BEFORE[1]})", "before", "plain_before"),
    ):
        print(
            f"{label:<52} {rate[table]:>9,.0f} r/s {rate[plain]:>8,.0f} r/s "
            f"{rate[table] / rate[plain]:>5.2f}x"
        )
    ratio = rate["now"] / rate["plain_now"]
    verdict = "ok" if ratio >= TARGET_TABLE_VS_PLAIN else "MISSED"
    print(
        f"events table now / before: {rate['now'] / rate['before']:.2f}x; "
        f"events table / plain table now: {ratio:.2f}x "
        f"(target >= {TARGET_TABLE_VS_PLAIN}x: {verdict})"
    )


def load_average() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg()) + " (1/5/15 min)"


if __name__ == "__main__":
    sys.exit(main())
