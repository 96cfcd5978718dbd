"""Search rows benchmark: `python bench/rows.py [--events N] [--requests R] [--database NAME]`.

In process, through Django's test client as a logged-in analyst: `GET /search/rows/` (50 rows of
the last 24 hours, default columns, then with an `ip:` query) R times; prints the CPU time per
answer (this thread's, medians) and the HTML bytes, beside the baseline of the same run: the same
page of events fetched from the database alone (the ORM query, no rendering).
Uses PostgreSQL (the database is recreated and seeded with N events) unless --sqlite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_CPU_MS = 12
TARGET_KB = 60


def cpu_ms(fn) -> float:
    started = time.thread_time()
    fn()
    return (time.thread_time() - started) * 1000


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--events", type=int, default=20_000)
    cli.add_argument("--requests", type=int, default=40)
    cli.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    cli.add_argument("--database", default="sluice_rows_bench")
    cli.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead")
    args = cli.parse_args()

    if args.sqlite:
        url = f"sqlite:///{ROOT / 'var' / 'bench-rows.sqlite3'}"
        (ROOT / "var" / "bench-rows.sqlite3").unlink(missing_ok=True)
    else:
        from bench.ingest import recreate_database

        recreate_database(f"{args.pg}/postgres", args.database)
        url = f"{args.pg}/{args.database}"
    os.environ.update(DEBUG="1", DATABASE_URL=url, ALLOWED_HOSTS="testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from events.search import SearchState, page

    call_command("migrate", verbosity=0)
    call_command("seed_events", "--events", str(args.events), "--days", "1", verbosity=0)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
    client = Client()
    client.force_login(user)

    print(
        f"{args.events:,} seeded events over 24 h ({'SQLite' if args.sqlite else 'PostgreSQL'}); "
        f"CPU ms of this thread per answer, medians of {args.requests}"
    )
    print(f"{'request':<34} {'rows':>5} {'DB fetch':>9} {'answer':>8} {'ratio':>6} {'bytes':>9}")
    ip = next(iter(_an_ip()), "10.0.0.1")
    for label, params in (
        ("range=24h", {"range": "24h"}),
        (f"range=24h q=ip:{ip}", {"range": "24h", "q": f"ip:{ip}"}),
    ):
        state = SearchState.from_params(params)
        fetch, answer = [], []
        response = client.get("/search/rows/", params, HTTP_HX_REQUEST="true")
        for _ in range(args.requests):  # interleaved
            fetch.append(cpu_ms(lambda s=state: page(s.events(), "")))
            answer.append(
                cpu_ms(lambda p=params: client.get("/search/rows/", p, HTTP_HX_REQUEST="true"))
            )
        rows = response.content.count(b'class="event-row"')
        db, cpu = statistics.median(fetch), statistics.median(answer)
        print(
            f"{label:<34} {rows:>5} {db:>7.1f}ms {cpu:>6.1f}ms {cpu / db:>5.1f}x "
            f"{len(response.content):>9,}"
        )
    print(f"targets: <= {TARGET_CPU_MS} ms CPU and <= {TARGET_KB} KB per answer of 50 rows")
    return 0


def _an_ip() -> list[str]:
    from events.models import Event

    for event in Event.objects.order_by("-p_event_time")[:200]:
        if event.p_any_ip_addresses:
            return [event.p_any_ip_addresses[0]]
    return []


if __name__ == "__main__":
    sys.exit(main())
