"""Which index answers each search, and the database's own time: `python bench/explain.py
--database NAME [--without INDEX ...] [--runs 5]`.

For the README's search targets and the searches on the hot fields, the first page's SQL (the
search view's own queryset: events.search.SearchState(q, range).events(), 51 rows) is run under
EXPLAIN (ANALYZE, BUFFERS) on an already seeded database (bench/search.py's, or
`manage.py seed_events`). Printed per search: the median planning + execution time of R runs,
the rows read from the events table's partitions, and the indexes the plan scans (named by the
partitioned index, not its per-partition children). `--without event_failed_time` drops those
indexes inside a transaction that is rolled back at the end, so the same data shows the plans
and times without them (the database is locked meanwhile: not while another bench runs on it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEARCHES = [
    ("ip:<a login's client address>", "ip", "30d"),
    ("event:user.login success:false", "event:user.login success:false", "7d"),
    ("(no query: the page)", "", "24h"),
    ("event:user.login", "event:user.login", "7d"),
    ("event:auth success:false", "event:auth success:false", "7d"),
    ("success:false", "success:false", "7d"),
    ("code:T1000W", "code:T1000W", "7d"),
    ("user:alice", "user:alice", "30d"),
    ("login:root", "login:root", "7d"),
    ("login:jack", "login:jack", "30d"),
    ("sid:<a session>", "sid", "30d"),
]


def sample_values() -> dict[str, str]:
    """A real client address and session id from the last two days (as bench/search.py picks)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substr(p_any[1], 4), fields ->> 'sid' FROM events_event "
            "WHERE p_event_time > now() - interval '2 days' "
            "AND (fields -> 'event') = '\"session.start\"'::jsonb AND left(p_any[1], 3) = 'ip:' "
            "ORDER BY p_event_time DESC LIMIT 1 OFFSET 50"
        )
        row = cursor.fetchone() or ("10.0.0.1", "none")
    return {"ip": f"ip:{row[0]}", "sid": f"sid:{row[1]}"}


def parent_indexes() -> dict[str, str]:
    """Per-partition index name → the partitioned index it belongs to."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relkind = 'I'"
        )
        return dict(cursor.fetchall())


def walk(node: dict, parents: dict[str, str], found: set[str]) -> int:
    """Indexes scanned under `node` (into found); returns rows read from events_event."""
    rows = 0
    if "Index Name" in node:
        found.add(parents.get(node["Index Name"], node["Index Name"]))
    if str(node.get("Relation Name", "")).startswith("events_event"):
        rows += int(node.get("Actual Rows", 0) * node.get("Actual Loops", 1))
        rows += int(node.get("Rows Removed by Filter", 0) * node.get("Actual Loops", 1))
    for child in node.get("Plans", []):
        rows += walk(child, parents, found)
    return rows


def explain(sql: str, params: list, runs: int, parents: dict[str, str]) -> tuple[float, int, set]:
    from django.db import connection

    times, rows, used = [], 0, set()
    with connection.cursor() as cursor:
        for _ in range(runs):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
            times.append(plan["Planning Time"] + plan["Execution Time"])
            used = set()
            rows = walk(plan["Plan"], parents, used)
    return statistics.median(times), rows, used


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--database", required=True)
    cli.add_argument("--runs", type=int, default=5)
    cli.add_argument("--without", action="append", default=[], help="an index to leave out")
    args = cli.parse_args()
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{args.database}",
        DJANGO_SETTINGS_MODULE="console.settings",
        DEBUG=os.environ.get("DEBUG", "1"),
    )
    import django

    django.setup()
    from django.db import connection, transaction

    from events.search import PAGE_SIZE, SearchState

    values = sample_values()
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events_event")
        total = cursor.fetchone()[0]
    print(
        f"{args.database}: {total:,} events; load average {load}; median of {args.runs} runs; "
        f"without: {', '.join(args.without) or 'nothing'}"
    )
    print(f"{'search':34} {'range':>5} {'db ms':>8} {'rows read':>10}  indexes scanned")
    with transaction.atomic():
        with connection.cursor() as cursor:
            for index in args.without:
                cursor.execute(f'DROP INDEX "{index}"')
        parents = parent_indexes()
        for label, q, range_ in SEARCHES:
            query = values.get(q, q)
            events = SearchState(q=query, range=range_).events()[: PAGE_SIZE + 1]
            sql, params = events.query.sql_with_params()
            ms, rows, used = explain(sql, list(params), args.runs, parents)
            print(
                f"{label:34} {range_:>5} {ms:8.1f} {rows:10,}  {', '.join(sorted(used))}",
                flush=True,
            )
        transaction.set_rollback(True)  # the dropped indexes come back
    return 0


if __name__ == "__main__":
    sys.exit(main())
