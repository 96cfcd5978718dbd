"""Search benchmark: `python bench/search.py [--events 10000000] [--runs 40] [--clients 4]`.

Seeds (or reuses) N generated Teleport events over 30 days in a PostgreSQL database of its own
(default sluice_bench), starts the console (`manage.py runserver`, DEBUG off), and with 4
concurrent HTTP clients measures p50/p95 of:

  indicator   `ip:<an address>` over 30 days, first page of rows
  failures    `event:user.login success:false` over 7 days, first page of rows
  histogram   the histogram over 30 days (API)
  top10       a field's top 10 values over 7 days (latest 10,000 matching events; and exact)
  page        the full search page (default: last 24 hours)

Beside each figure: the same SQL the view ran (captured in-process), replayed with
EXPLAIN ANALYZE: the database's own time (median of 5), and the ratio HTTP p95 / database.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable


def database_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def environment(db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789abcdef"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def ensure_database(name: str) -> None:
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    import django

    django.setup()


MAX_AGE = timedelta(hours=2)  # of a reused database's newest seeded event


def seeded_span():
    """(count, newest event time) of the seeded events (no source: ingested ones are not)."""
    from django.db.models import Count, Max

    from events.models import Event

    found = Event.objects.filter(source__isnull=True).aggregate(
        n=Count("pk"), newest=Max("p_event_time")
    )
    return found["n"], found["newest"]


def ensure_seeded(env: dict[str, str], database: str, events: int, seed: int, reseed: bool) -> int:
    """Exactly `events` seeded events over the 30 days before about now: seed an empty database,
    reuse one seeded to that size recently, and refuse (or with `reseed`, empty and seed again)
    one of another size or whose seeding is older than MAX_AGE: its 24 h and 7 d windows would
    hold fewer events than the figures claim, and time better."""
    have, newest = seeded_span()
    if have:
        age = datetime.now(UTC) - newest
        problem = (
            f"holds {have:,} seeded events (asked for {events:,})"
            if have != events
            else f"was seeded {age.total_seconds() / 3600:.1f} h ago (more than {MAX_AGE})"
            if age > MAX_AGE
            else ""
        )
        if problem and not reseed:
            raise SystemExit(
                f"{database} {problem}: rerun with --reseed to empty its events table and seed "
                f"{events:,} events ending now, or name another --database"
            )
        if not problem:
            return have
        print(f"{database} {problem}: emptying its events table to seed again", flush=True)
        truncate_events()
    print(f"seeding {events:,} events over 30 days into {database} ...", flush=True)
    manage(
        env,
        "seed_events",
        "--events",
        str(events),
        "--days",
        "30",
        "--seed",
        str(seed),
        "--defer-indexes",
    )
    have, _ = seeded_span()
    if have != events:
        raise SystemExit(f"seeding wrote {have:,} events, not {events:,}")
    return have


def truncate_events() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE events_event")


def window_counts() -> str:
    """How many events the benchmark's windows hold now: '24 h 1,234; 7 d ...; 30 d ...'."""
    from django.db.models import Count, Q

    from events.models import Event

    now = datetime.now(UTC)
    windows = {"24 h": 1, "7 d": 7, "30 d": 30}
    counts = Event.objects.aggregate(
        **{
            f"last_{days}": Count("pk", filter=Q(p_event_time__gte=now - timedelta(days=days)))
            for days in windows.values()
        }
    )
    return "; ".join(f"{label} {counts[f'last_{days}']:,}" for label, days in windows.items())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    """gunicorn (as production would run it): `workers` processes with 2 threads each."""
    import requests

    proc = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "console.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the console did not start")


def credentials() -> tuple[str, str]:
    """A session cookie and an API token for a bench user (created in-process)."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from audit.models import ApiToken

    user, _ = get_user_model().objects.get_or_create(username="bench-user")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key, ApiToken.objects.issue(user, "bench")[1]


def pick_ip() -> str:
    """The client address of a login from the last two days: a real indicator value."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substr(p_any[1], 4) FROM events_event "
            "WHERE p_event_time > now() - interval '2 days' "
            "AND (fields -> 'event') = '\"user.login\"'::jsonb AND left(p_any[1], 3) = 'ip:' "
            "ORDER BY p_event_time DESC LIMIT 1 OFFSET 50"
        )
        row = cursor.fetchone()
    return row[0] if row else "10.0.0.1"


def scenarios(ip: str) -> list[tuple[str, str, float]]:
    """(name, path with query string, target ms; 0 = no target, fewer runs)."""
    return [
        (
            "indicator ip: 30d, first page",
            "/search/rows/?" + urlencode({"q": f"ip:{ip}", "range": "30d"}),
            100,
        ),
        (
            "user.login success:false 7d",
            "/search/rows/?" + urlencode({"q": "event:user.login success:false", "range": "7d"}),
            150,
        ),
        ("histogram 30d (API)", "/api/v1/events/histogram?range=30d", 300),
        ("top-10 user 7d (latest 10k)", "/search/fields/?field=user&range=7d", 500),
        ("full search page 24h", "/search/", 250),
        # no target, run last (they load the machine): exact counts over millions of rows
        (
            "histogram of the failures 7d",
            "/search/histogram/?"
            + urlencode({"q": "event:user.login success:false", "range": "7d"}),
            0,
        ),
        ("top-10 user 7d (count all)", "/search/fields/?field=user&range=7d&exact=1", 0),
    ]


class RequestErrors(Exception):
    """Answers other than 200 (or no answer): the run fails, and says which."""

    def __init__(self, path: str, errors: list[str]) -> None:
        super().__init__(f"{path}: {len(errors)} failed requests, first: {errors[0]}")
        self.errors = errors


def get_checked(session, url: str, headers: dict[str, str]) -> str | None:
    """GET `url`: None when it answered 200, else what went wrong."""
    import requests

    try:
        response = session.get(url, headers=headers, timeout=120)
    except requests.RequestException as error:
        return f"{type(error).__name__}: {error}"
    if response.status_code != 200:
        return f"HTTP {response.status_code} {response.text[:200]}"
    return None


def measure_http(
    base: str, path: str, cookie: str, token: str, runs: int, clients: int
) -> list[float]:
    """Timings of `runs` GETs from `clients` threads; RequestErrors if any answer was not 200
    (warm-up requests included): a failed request never just leaves the median."""
    import requests

    headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_client = max(1, runs // clients)

    def client() -> None:
        session = requests.Session()
        session.cookies.set("sessionid", cookie)
        for _ in range(per_client):
            started = time.perf_counter()
            error = get_checked(session, base + path, headers)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if error:
                    errors.append(error)
                else:
                    timings.append(elapsed)

    session = requests.Session()
    session.cookies.set("sessionid", cookie)
    for _ in range(2):  # warm caches and the server's imports
        error = get_checked(session, base + path, headers)
        if error:
            errors.append(f"warm-up: {error}")
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RequestErrors(path, errors)
    return timings


def database_time(path: str, cookie: str, token: str) -> tuple[float, int]:
    """Run the view in-process, capture its SQL, replay it with EXPLAIN ANALYZE: (ms, queries)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies["sessionid"] = cookie
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if path.startswith("/api/") else {}
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
        if response.status_code != 200:
            raise SystemExit(f"{path}: in-process HTTP {response.status_code}")
    statements = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
    ]
    runs = []
    with connection.cursor() as cursor:
        for _ in range(5):
            total = 0.0
            for sql in statements:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
                total += plan["Planning Time"] + plan["Execution Time"]
            runs.append(total)
    return statistics.median(runs), len(statements)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--events", type=int, default=10_000_000, help="seeded events to search")
    cli.add_argument(
        "--reseed",
        action="store_true",
        help="empty and seed again a database of another size or seeded over 2 h ago",
    )
    cli.add_argument("--database", default="sluice_bench")
    cli.add_argument("--seed", type=int, default=7)
    cli.add_argument("--runs", type=int, default=40, help="requests per scenario (all clients)")
    cli.add_argument("--clients", type=int, default=4)
    cli.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers")
    args = cli.parse_args()

    db_url = database_url(args.database)
    env = environment(db_url)
    ensure_database(args.database)
    manage(env, "migrate", "-v0")
    setup_django(env)
    from django.db import connection

    have = ensure_seeded(env, args.database, args.events, args.seed, args.reseed)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE events_event")
        cursor.execute("SELECT count(*), min(p_event_time), max(p_event_time) FROM events_event")
        total, oldest, newest = cursor.fetchone()
    print(
        f"{total:,} events ({have:,} seeded) from {oldest:%Y-%m-%d %H:%M} to "
        f"{newest:%Y-%m-%d %H:%M} UTC; PostgreSQL {connection.pg_version // 10000}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"events in the windows searched: {window_counts()}")

    cookie, token = credentials()
    ip = pick_ip()
    port = free_port()
    server = start_server(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    load = os.getloadavg()
    print(f"machine load average before: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15m)")
    print(
        f"server: gunicorn, {args.workers} workers x 2 threads, DEBUG off; {args.clients} "
        f"concurrent clients, {args.runs} requests per row ({args.clients * 2} without a target)\n"
    )
    header = (
        f"{'scenario':34} {'p50 ms':>8} {'p95 ms':>8} {'target':>7} {'db ms':>8} {'p95/db':>7}"
        "  queries"
    )
    print(header)
    print("-" * len(header))
    failed, errors = [], 0
    try:
        for name, path, target in scenarios(ip):
            runs = args.runs if target else args.clients * 2
            try:
                timings = measure_http(base, path, cookie, token, runs, args.clients)
            except RequestErrors as error:
                errors += len(error.errors)
                print(f"{name:34} FAILED: {error}", flush=True)
                continue
            db_ms, queries = database_time(path, cookie, token)
            p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
            over = bool(target) and p95 > target
            if over:
                failed.append(name)
            goal = f"{target:6.0f}{'!' if over else ' '}" if target else "      - "
            print(
                f"{name:34} {p50:8.1f} {p95:8.1f} {goal} "
                f"{db_ms:8.1f} {p95 / max(db_ms, 0.01):7.1f}  {queries}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=20)
    load = os.getloadavg()
    print(f"\nmachine load average after: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print(
        f"ip searched: {ip}.  db ms = EXPLAIN ANALYZE planning+execution of the view's SELECTs "
        "(session/user lookups included), median of 5."
    )
    if failed:
        print("over target: " + ", ".join(failed))
    print(f"{have:,} seeded events; failed requests: {errors}")
    if errors:
        print("FAILED: every request must answer 200 (a failed one would flatter the timings)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
