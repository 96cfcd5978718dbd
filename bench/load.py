"""Load test: `bin/load-test [--users 50] [--duration 120] [--events 1000000]`.

While Sluice ingests continuously, N simulated analysts (locust, bench/locustfile.py) run the
search mix of bench/search.py for a bounded time; then it prints per request p50/p95/p99 latency,
errors and the target (the search issue's p95 times 2), and the ingestion rate during the load.

Everything runs on 127.0.0.1 and is stopped at the end: a moto server (S3 + SQS) fed by
`manage.py demo_feed` (a new gzip object of Teleport events every --feed-interval seconds, S3
notifications to SQS), the worker layout `./run` starts (console/workers.py: receive, ingest,
interactive and beat, as the Procfile) ingesting it through a notifications source, and gunicorn
serving the console (DEBUG off). PostgreSQL database --database (default sluice_load, created if
absent, seeded with --events generated events over 30 days when empty: 1,000,000 take a few
minutes; a database seeded to another size or over 2 h ago is refused unless --reseed). Redis at
--redis-url (default db 11, not the console's db 0).

Exit status 1 when any request failed (the target is zero errors) or ingestion stalled; latency
over target is printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import search  # noqa: E402 - bench/ is on the path only once ROOT is known
from ingest import start, stop, wait_for  # noqa: E402

VAR = ROOT / "var" / "load"


def start_moto(port: int, log: Path):
    import requests

    proc = start([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], log)

    def answers() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(answers, 60, "moto server")
    return proc


def feed_source():
    """The notifications source reading the demo feed's bucket (its queue URL names moto's port)."""
    from botocore.exceptions import ClientError

    from ingestion import locks
    from ingestion.management.commands.demo_feed import BUCKET, NOTIFICATION_QUEUE
    from sources import aws
    from sources.models import Source

    sqs = aws.client("sqs")

    def queue_url() -> str | None:
        try:
            return sqs.get_queue_url(QueueName=NOTIFICATION_QUEUE)["QueueUrl"]
        except ClientError:
            return None

    url = wait_for(queue_url, 60, "the demo feed's notification queue", interval=0.3)
    source, _ = Source.objects.update_or_create(
        name="load-test-feed",
        defaults={
            "transport": "s3",
            "paused": False,
            "log_types": ["Gravitational.TeleportAudit"],
            "config": {
                "bucket": BUCKET,
                "region": "us-east-1",
                "prefixes": [{"prefix": "teleport/", "log_types": [], "exclude": []}],
                "discovery": "notifications",
                "queue_url": url,
            },
        },
    )
    # A run that was killed leaves its receiver's lock until it expires: release it.
    locks.connection().delete(f"sluice:lock:poll:{source.pk}")
    return source


def cpu_seconds(proc) -> float:
    """CPU time of a process and its children so far (user + system)."""
    total = 0.0
    try:
        parent = psutil.Process(proc.pid)
        for p in [parent, *parent.children(recursive=True)]:
            with p.oneshot():
                times = p.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
    except psutil.NoSuchProcess:
        pass
    return total


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to `database` (by process title)."""
    seconds = {}
    for p in psutil.process_iter(["cmdline"]):
        if f" {database} " in " ".join(p.info["cmdline"] or []):
            try:
                times = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            seconds[p.pid] = times.user + times.system
    return seconds


def stored_from(source) -> int:
    from events.models import Event

    return Event.objects.filter(source=source).count()


def summarize(samples: list, requests: list[tuple[str, str, float]]) -> list[dict]:
    rows = []
    for name, _path, target in [*requests, ("all requests", "", 0)]:
        mine = [s for s in samples if name == "all requests" or s[0] == name]
        timings = [s[1] for s in mine]
        rows.append(
            {
                "name": name,
                "count": len(mine),
                "errors": sum(1 for s in mine if s[2]),
                "p50": search.percentile(timings, 0.5) if timings else float("nan"),
                "p95": search.percentile(timings, 0.95) if timings else float("nan"),
                "p99": search.percentile(timings, 0.99) if timings else float("nan"),
                "target": target * 2,
            }
        )
    return rows


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'request':34} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'target p95':>10}  result"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        if r["target"]:
            target = f"{r['target']:10.0f}"
            verdict = "met" if r["p95"] <= r["target"] else "missed"
        else:
            target, verdict = f"{'-':>10}", ""
        print(
            f"{r['name']:34} {r['count']:6d} {r['errors']:6d} {r['p50']:8.0f} {r['p95']:8.0f}"
            f" {r['p99']:8.0f} {target}  {verdict}"
        )


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--users", type=int, default=50, help="simulated analysts")
    cli.add_argument("--duration", type=int, default=120, help="seconds of load")
    cli.add_argument("--spawn-rate", type=float, default=10, help="analysts started per second")
    cli.add_argument("--think", default="1,5", help="think time between requests: min,max s")
    cli.add_argument("--events", type=int, default=1_000_000, help="seeded events to search")
    cli.add_argument(
        "--reseed",
        action="store_true",
        help="empty and seed again a database of another size or seeded over 2 h ago",
    )
    cli.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/11",
        help="a Redis database of its own (not the console's broker, db 0)",
    )
    cli.add_argument("--database", default="sluice_load")
    cli.add_argument("--seed", type=int, default=7)
    cli.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers")
    cli.add_argument("--feed-interval", type=float, default=1.0, help="s between new objects")
    cli.add_argument("--feed-events", type=int, default=500, help="events per object")
    args = cli.parse_args()
    think = [float(x) for x in args.think.split(",")]

    VAR.mkdir(parents=True, exist_ok=True)
    log = VAR / "services.log"
    log.write_bytes(b"")
    moto_port = search.free_port()
    env = search.environment(search.database_url(args.database))
    env.update(
        REDIS_URL=args.redis_url,
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{moto_port}",
        AWS_ACCESS_KEY_ID="load",
        AWS_SECRET_ACCESS_KEY="load",  # noqa: S106 - moto only
        AWS_DEFAULT_REGION="us-east-1",
        SLUICE_SQS_WAIT_SECONDS="5",
        PYTHONUNBUFFERED="1",
    )
    search.ensure_database(args.database)
    search.manage(env, "migrate", "-v0")
    search.setup_django(env)  # also exports env to the services started below
    have = search.ensure_seeded(env, args.database, args.events, args.seed, args.reseed)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE events_event")
    print(f"events in the windows searched: {search.window_counts()}", flush=True)

    services: dict = {}
    layout = None
    try:
        services["moto"] = start_moto(moto_port, log)
        services["feed"] = start(
            [
                sys.executable,
                "manage.py",
                "demo_feed",
                "--interval",
                str(args.feed_interval),
                "--events-per-object",
                str(args.feed_events),
                "--peak-per-hour",
                str(round(args.feed_events * 3600 / args.feed_interval)),
                "--flat",
                "--history-hours",
                "0",
            ],
            log,
        )
        source = feed_source()
        from tests.layout import WORKERS, Layout

        layout = Layout(env, log)
        layout.start((*WORKERS, "beat"))
        services.update({f"celery {name}": proc for name, proc in layout.procs.items()})
        port = search.free_port()
        services["gunicorn"] = search.start_server(env, port, args.workers)
        before = stored_from(source)
        wait_for(lambda: stored_from(source) > before, 180, "ingestion to start", interval=1)

        requests = [(n, p, t) for n, p, t in search.scenarios(search.pick_ip()) if t]
        plan = VAR / "plan.json"
        results = VAR / "samples.json"
        results.unlink(missing_ok=True)
        plan.write_text(
            json.dumps(
                {
                    "requests": [(n, p) for n, p, _ in requests],
                    "credentials": [search.credentials() for _ in range(args.users)],
                    "think": think,
                    "results": str(results),
                }
            )
        )
        print(
            f"{have:,} events in {args.database}; {args.users} analysts for {args.duration} s "
            f"(think {think[0]:g}-{think[1]:g} s) against gunicorn {args.workers} workers x 2 "
            f"threads; feed offers {args.feed_events / args.feed_interval:,.0f} events/s",
            flush=True,
        )
        load_before = os.getloadavg()
        cpu_before = {name: cpu_seconds(proc) for name, proc in services.items()}
        backends_before = backend_cpu(args.database)
        reaped_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        machine_before = psutil.cpu_times()
        stored_before, started = stored_from(source), time.monotonic()
        os.environ["LOAD_PLAN"] = str(plan)
        locust = start(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--only-summary",
                "--host",
                f"http://127.0.0.1:{port}",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{args.duration}s",
                "--stop-timeout",
                "30",
                "--loglevel",
                "WARNING",
            ],
            VAR / "locust.log",
        )
        services["locust"] = locust
        locust.wait(timeout=args.duration + 120)
        elapsed = time.monotonic() - started
        stored = stored_from(source) - stored_before
        machine_after = psutil.cpu_times()
        cpu = {name: cpu_seconds(services[name]) - cpu_before[name] for name in cpu_before}
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)  # locust, once it has exited
        cpu["locust"] = (reaped.ru_utime + reaped.ru_stime) - (
            reaped_before.ru_utime + reaped_before.ru_stime
        )
        cpu[f"PostgreSQL ({args.database} backends)"] = sum(
            seconds - backends_before.get(pid, 0.0)
            for pid, seconds in backend_cpu(args.database).items()
        )
        load_after = os.getloadavg()
    finally:
        for name, proc in reversed(services.items()):
            if name == "gunicorn":
                proc.terminate()
                proc.wait(timeout=30)
            elif name.startswith("celery "):
                if layout is not None:
                    layout.close()  # all of the layout's processes, the first time
                    layout = None
            else:
                stop(proc)
        if layout is not None:
            layout.close()

    if not results.exists():
        print(f"locust wrote no results: see {VAR / 'locust.log'}")
        return 1
    samples = json.loads(results.read_text())
    rows = summarize(samples, requests)
    print()
    print_table(rows)
    busy = sum(
        getattr(machine_after, f) - getattr(machine_before, f)
        for f in ("user", "system", "nice", "irq", "softirq", "steal")
    )
    print(
        f"\ningestion during the load: {stored:,} events stored in {elapsed:.0f} s = "
        f"{stored / elapsed:,.0f} events/s (the feed offered "
        f"{args.feed_events / args.feed_interval:,.0f}/s)"
    )
    print(
        f"machine load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
        f"CPU busy {busy:.0f} s of {elapsed * (os.cpu_count() or 1):.0f} s "
        f"({os.cpu_count()} CPUs); of which "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in cpu.items())
        + f"; everything else on the machine {busy - sum(cpu.values()):.0f} s"
    )
    errors = [s for s in samples if s[2]]
    for message in sorted({s[2] for s in errors})[:5]:
        print(f"error: {message}")
    print(f"load: {len(samples) - len(errors)} passed, {len(errors)} failed")
    if errors or stored == 0 or not samples:
        print(f"FAILED: {len(errors)} request errors, {stored} events ingested")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
