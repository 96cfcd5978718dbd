"""SQLite correctness at volume: `python bench/search_sqlite.py [--events 1000000]`.

Uses (or seeds) an SQLite database under SLUICE_VAR_DIR (default var/search-sqlite), then runs
search queries through the same code as the page (SearchState → ORM) and checks each count
against a brute-force Python evaluation over every stored event. Prints count, agreement and the
SQL time beside the brute-force time (the baseline).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def number(value) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


CHECKS = [
    ("event:user.login", lambda e: e["f"].get("event") == "user.login"),
    (
        "event:user.login success:false",
        lambda e: e["f"].get("event") == "user.login" and e["f"].get("success") is False,
    ),
    (
        "user:adm*",
        lambda e: isinstance(e["f"].get("user"), str) and e["f"]["user"].lower().startswith("adm"),
    ),
    ("-event:session.data", lambda e: e["f"].get("event") != "session.data"),
    ("exitCode>0", lambda e: (number(e["f"].get("exitCode")) or 0) > 0),
    (
        "(user:alice OR user:bob@example.com) login:root",
        lambda e: (
            e["f"].get("user") in {"alice", "bob@example.com"} and e["f"].get("login") == "root"
        ),
    ),
    (
        "argv:restart",
        lambda e: isinstance(e["f"].get("argv"), list) and "restart" in e["f"]["argv"],
    ),
]


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--events", type=int, default=1_000_000)
    cli.add_argument("--seed", type=int, default=5)
    args = cli.parse_args()
    var = os.environ.setdefault("SLUICE_VAR_DIR", str(ROOT / "var" / "search-sqlite"))
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": ""}
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from django.db import connection

    from events.models import Event
    from events.search import SearchState, histogram
    from parsers.indicators import IP, column_values

    assert connection.vendor == "sqlite", "this check is for SQLite"
    if not Event.objects.exists():
        print(f"seeding {args.events:,} events into {var} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "seed_events",
                "--events",
                str(args.events),
                "--seed",
                str(args.seed),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
    started = time.perf_counter()
    everything = [
        {"f": fields, "ip": column_values(entries, IP)}
        for fields, entries in Event.objects.values_list("fields", "p_any").iterator(
            chunk_size=20_000
        )
    ]
    load_s = time.perf_counter() - started
    now = datetime.now(UTC)
    window = {
        "start": (now - timedelta(days=400)).isoformat(),
        "end": (now + timedelta(days=1)).isoformat(),
    }
    print(f"{len(everything):,} events in SQLite; brute force loads them in {load_s:.1f}s\n")
    print(
        f"{'query':52} {'SQL count':>10} {'Python':>10} {'agree':>6} {'SQL s':>7} {'Python s':>9}"
    )
    ip = next((e["ip"][0] for e in everything if e["ip"]), "10.0.0.1")
    checks = [*CHECKS, (f"ip:{ip}", lambda e: ip in e["ip"])]
    wrong = 0
    for query, predicate in checks:
        state = SearchState.from_params({**window, "q": query}, now=now)
        t0 = time.perf_counter()
        sql_count = state.events().count()
        t1 = time.perf_counter()
        expected = sum(1 for e in everything if predicate(e))
        t2 = time.perf_counter()
        agree = sql_count == expected
        wrong += not agree
        print(
            f"{query:52} {sql_count:10,} {expected:10,} {'yes' if agree else 'NO':>6} "
            f"{t1 - t0:7.2f} {t2 - t1:9.2f}"
        )
    state = SearchState.from_params(window, now=now)
    t0 = time.perf_counter()
    total = sum(b.count for b in histogram(state))
    print(
        f"\nhistogram total over the whole window: {total:,} (events: {len(everything):,}) "
        f"in {time.perf_counter() - t0:.2f}s"
    )
    wrong += total != len(everything)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
