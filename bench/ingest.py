"""Ingestion benchmark: `python bench/ingest.py [--events N] [--objects M] [--freshness K]`.

End to end on this machine: N generated Teleport events in M gzip objects are put into a local S3
(moto server over HTTP); listing passes hand them to the worker layout `./run` starts
(console/workers.py: receive, ingest with one process per core, interactive, and beat), whose
ingest processes stream, parse and COPY them into PostgreSQL. Printed beside it, from the same
run: a bare `COPY` of the same normalized rows into the same table (the limit), and the ratio.
Then freshness with S3 notifications: PutObject → events committed (searchable), p50/p95 over K
objects. Peak RSS of the ingest processes is read from /proc (VmHWM).

`--rules off` runs the same with the detection rules off (SLUICE_DETECTIONS=0 for the workers);
the default `--rules on` evaluates every batch and prints the matches and alerts it made.
`--rules both --rounds R` measures what the rules cost: R interleaved rounds of on and off (the
order alternating), each on a fresh copy of the migrated database with freshly started workers,
and prints the median of each and their ratio (freshness and the COPY baseline are skipped).

Needs PostgreSQL and Redis (defaults: 127.0.0.1; database sluice_ingest_bench is recreated).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out waiting for {what}")


def recreate_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_environment(args) -> dict[str, subprocess.Popen]:
    """Env for this process and the worker subprocesses, and a moto server."""
    var = ROOT / "var" / "bench-ingest"
    var.mkdir(parents=True, exist_ok=True)
    port = free_port()
    os.environ.update(
        DEBUG="1",
        SLUICE_VAR_DIR=str(var),
        DATABASE_URL=f"{args.pg}/{args.database}",
        REDIS_URL=args.redis_url,
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - moto only
        AWS_DEFAULT_REGION="us-east-1",
        DJANGO_SETTINGS_MODULE="console.settings",
        SLUICE_SQS_WAIT_SECONDS="5",
        SLUICE_DETECTIONS="0" if args.rules == "off" else "1",
    )
    if args.ingest_processes:
        os.environ["SLUICE_INGEST_CONCURRENCY"] = str(args.ingest_processes)
    moto = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import requests

    def answers() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(answers, 30, "moto server")
    return {"moto": moto}


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def start_ingest_host(number: int, log: Path) -> subprocess.Popen:
    """One more ingest worker, named as a worker on another host would be (ingest@bench-host-N):
    the same command line as the layout's, its own node name, the same broker and database."""
    from console.workers import command
    from sources import runtime

    argv = [
        f"--hostname=ingest@bench-host-{number}" if a.startswith("--hostname=") else a
        for a in command("ingest")
    ]
    proc = start(argv, log)
    wait_for(lambda: proc.pid in {w.pid for w in runtime.workers()}, 60, f"host {number}")
    return proc


def children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def children_peak_rss_mb(pid: int) -> float:
    peak = 0
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    for kid in kids:
        for row in Path(f"/proc/{kid}/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                peak = max(peak, int(row.split()[1]))
    return peak / 1024


def upload(s3, bucket: str, objects: list[tuple[str, bytes]]) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda kv: s3.put_object(Bucket=bucket, Key=kv[0], Body=kv[1]), objects))


def bare_copy_rate(runs: int) -> tuple[float, int]:
    """Rows/s of one COPY of the stored rows back into the emptied events table (median)."""
    from django.db import connection

    from events.store import EVENT_COLUMNS

    columns = ", ".join(EVENT_COLUMNS)
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY (SELECT {columns} FROM events_event) TO STDOUT") as copy:
            for chunk in copy:
                buffer.write(chunk)
        rows = cursor.execute("SELECT count(*) FROM events_event").fetchone()[0]
    data = buffer.getvalue()
    rates = []
    for _ in range(runs):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE events_event")
            started = time.perf_counter()
            with cursor.cursor.copy(f"COPY events_event ({columns}) FROM STDIN") as copy:
                for start in range(0, len(data), 1 << 20):
                    copy.write(data[start : start + (1 << 20)])
            rates.append(rows / (time.perf_counter() - started))
    return statistics.median(rates), rows


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--events", type=int, default=1_000_000)
    cli.add_argument("--objects", type=int, default=100)
    cli.add_argument("--freshness", type=int, default=20, help="objects for the freshness figure")
    cli.add_argument(
        "--freshness-interval", type=float, default=1.0, help="seconds between those PutObjects"
    )
    cli.add_argument("--copy-runs", type=int, default=3)
    cli.add_argument(
        "--rules",
        choices=("on", "off", "both"),
        default="on",
        help="evaluate the detection rules (both: interleaved rounds of on and off)",
    )
    cli.add_argument("--rounds", type=int, default=3, help="rounds of each with --rules both")
    cli.add_argument(
        "--ingest-processes", type=int, default=0, help="ingest pool size (default: cores)"
    )
    cli.add_argument(
        "--hosts",
        type=int,
        default=1,
        help="ingest workers started as separate hosts would be (own hostname, same broker and "
        "database), each with --ingest-processes processes",
    )
    cli.add_argument(
        "--large-object-mb", type=int, default=0, help="also read one object this big (MB)"
    )
    cli.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    cli.add_argument("--database", default="sluice_ingest_bench")
    cli.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/12",
        help="a Redis database of its own: it is flushed (don't share it with running tests)",
    )
    args = cli.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the services on kill too
    recreate_database(f"{args.pg}/postgres", args.database)
    services = setup_environment(args)
    log = ROOT / "var" / "bench-ingest" / "bench.log"
    try:
        return run(args, services, log)
    finally:
        for name, proc in reversed(services.items()):
            if name == "moto":
                proc.terminate()
                proc.wait(timeout=10)
            elif name == "layout":
                proc.close()
            else:
                stop(proc)


def run(args, services, log: Path) -> int:
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(args.redis_url).flushdb()

    from devtools.generate import generate_objects
    from events.models import Event
    from sources import aws
    from sources.models import Source

    s3 = aws.client("s3")
    s3.create_bucket(Bucket="bench-listing")
    per_object = max(1, args.events // args.objects)
    started = time.perf_counter()
    objects = list(
        generate_objects(
            args.events,
            seed=1,
            events_per_object=per_object,
            start=datetime(2026, 11, 1, tzinfo=UTC),
            span=timedelta(minutes=59),
        )
    )
    gz_bytes = sum(len(body) for _, body in objects)
    upload(s3, "bench-listing", objects)
    print(
        f"generated and uploaded {args.events:,} events in {len(objects)} gzip objects "
        f"({gz_bytes / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
    )
    if args.rules == "both":
        return compare_rules(args, services, log, len(objects))
    layout, rate = ingest_round(args, services, log, len(objects))
    print_detections(args.rules)
    source = Source.objects.get(name="bench-listing")
    stored = Event.objects.count()

    freshness = measure_freshness(args.freshness, args.freshness_interval, s3)
    fresh_events = Event.objects.count() - stored
    if fresh_events != args.freshness * 1000:
        print(f"FAILED: {args.freshness * 1000:,} events notified, {fresh_events:,} stored")
        return 1

    copy_rate, rows = bare_copy_rate(args.copy_runs)
    print(f"bare COPY of the same {rows:,} rows into events_event: {copy_rate:,.0f} rows/s")
    print(f"ratio ingest / bare COPY: {rate / copy_rate:.2f}x")
    if freshness:
        print(
            f"freshness (PutObject → committed, notifications, {len(freshness)} objects of "
            f"1,000 events, {args.freshness_interval:g} s apart): "
            f"p50 {statistics.median(freshness):.2f} s, "
            f"p95 {statistics.quantiles(freshness, n=20, method='inclusive')[-1]:.2f} s, "
            f"max {max(freshness):.2f} s"
        )
    if args.large_object_mb:
        measure_large_object(args.large_object_mb, s3, source, layout.proc.pid)
    print_load()
    return 0


def ingest_round(args, services, log: Path, objects: int):
    """Create the listing source, start the layout and time until every object is done; returns
    the running layout and events/s."""
    from events.models import Event, Failure
    from ingestion.models import ObjectLedger
    from ingestion.tasks import poll_source
    from sources.models import Source

    source = Source.objects.create(
        name="bench-listing",
        transport="s3",
        log_types=["Gravitational.TeleportAudit"],
        config={
            "bucket": "bench-listing",
            "region": "us-east-1",
            "prefixes": [{"prefix": "teleport/", "log_types": [], "exclude": []}],
            "discovery": "listing",
            "list_interval_minutes": 60,
        },
    )
    from tests.layout import WORKERS, Layout

    layout = Layout({}, log)  # the environment is this process's (setup_environment)
    services["layout"] = layout
    layout.start((*WORKERS, "beat"))  # beat lists again whenever a pass stopped early
    hosts = [start_ingest_host(n, log) for n in range(2, args.hosts + 1)]
    services.update({f"ingest-host-{n}": proc for n, proc in enumerate(hosts, 2)})
    ingest_processes = len(layout.children("ingest")) + sum(len(children(p.pid)) for p in hosts)

    started = time.perf_counter()
    poll_source.delay(source.pk)
    wait_for(
        lambda: ObjectLedger.objects.filter(source=source, status="done").count() >= objects,
        3600,
        "every object to be ingested",
        interval=0.2,
    )
    elapsed = time.perf_counter() - started
    stored, failures = Event.objects.count(), Failure.objects.count()
    if stored != args.events or failures:
        raise SystemExit(
            f"FAILED: {args.events:,} events written, {stored:,} stored and {failures:,} "
            "failed lines: no rate is reported for a run that lost or broke events"
        )
    rss = children_peak_rss_mb(layout.proc.pid)
    rate = stored / elapsed
    print(
        f"ingest (S3 listing → {ingest_processes} ingest processes on {args.hosts} "
        f"worker host{'s' if args.hosts > 1 else ''} → PostgreSQL): "
        f"{stored:,} events in {elapsed:.1f} s = {rate:,.0f} events/s"
    )
    print(f"peak worker RSS (VmHWM): {rss:.0f} MB")
    return layout, rate


def compare_rules(args, services, log: Path, objects: int) -> int:
    """Interleaved rounds of rules on and off, each on a fresh copy of the migrated database."""
    from django.db import connection

    template = f"{args.database}_template"
    connection.close()
    copy_database(f"{args.pg}/postgres", args.database, template)
    rates: dict[str, list[float]] = {"on": [], "off": []}
    for number in range(args.rounds):
        for mode in ("on", "off") if number % 2 == 0 else ("off", "on"):
            connection.close()
            copy_database(f"{args.pg}/postgres", template, args.database)
            redis_flush(args.redis_url)
            os.environ["SLUICE_DETECTIONS"] = "1" if mode == "on" else "0"
            print(f"round {number + 1}, rules {mode}:")
            _, rate = ingest_round(args, services, log, objects)
            rates[mode].append(rate)
            print_detections(mode)
            for name in [n for n in services if n.startswith("ingest-host-")]:
                stop(services.pop(name))
            services.pop("layout").close()
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(
        f"rules on vs off, medians of {args.rounds} interleaved rounds: on {on:,.0f} events/s, "
        f"off {off:,.0f} events/s, ratio on/off {on / off:.2f}x"
    )
    print_load()
    return 0


def print_load() -> None:
    load = os.getloadavg()
    print(
        f"machine load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"(1/5/15 min, {os.cpu_count()} CPUs)"
    )


def copy_database(admin_url: str, source: str, target: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


def redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def print_detections(rules: str) -> None:
    from detections.models import Alert, Match, RuleError

    print(
        f"rules {rules}: {Match.objects.count():,} matches, {Alert.objects.count():,} alerts, "
        f"{RuleError.objects.count():,} rule errors"
    )


def measure_large_object(megabytes: int, s3, source, worker_pid: int) -> None:
    """One object of `megabytes` uncompressed: time to read it and the workers' peak RSS."""
    import gzip as gzip_module

    from devtools.generate import generate_lines
    from ingestion.models import ObjectLedger
    from ingestion.tasks import ingest_object_task

    sample = b"\n".join(generate_lines(20_000, 3)) + b"\n"
    repeats = max(1, megabytes * 1_000_000 // len(sample))
    packed = io.BytesIO()
    with gzip_module.GzipFile(fileobj=packed, mode="wb", compresslevel=1) as out:
        for _ in range(repeats):
            out.write(sample)
    key = "teleport/large/one-big-object.json.gz"
    s3.put_object(Bucket="bench-listing", Key=key, Body=packed.getvalue())
    etag = s3.head_object(Bucket="bench-listing", Key=key)["ETag"].strip('"')
    started = time.perf_counter()
    ingest_object_task.delay(source.pk, {"bucket": "bench-listing", "key": key, "version": etag})
    row = wait_for(
        lambda: ObjectLedger.objects.filter(key=key, status__in=["done", "failed"]).first(),
        7200,
        "the large object",
        interval=1.0,
    )
    elapsed = time.perf_counter() - started
    print(
        f"large object: {repeats * len(sample) / 1e6:,.0f} MB uncompressed "
        f"({len(packed.getvalue()) / 1e6:,.0f} MB gzip), {row.events:,} events, {row.status}, "
        f"{elapsed:.0f} s; peak worker RSS now {children_peak_rss_mb(worker_pid):.0f} MB"
    )


def measure_freshness(count: int, interval: float, s3) -> list[float]:
    if count <= 0:
        return []
    from devtools.generate import generate_objects
    from ingestion.locks import connection as redis_connection
    from ingestion.models import ObjectLedger
    from sources import aws

    sqs = aws.client("sqs")
    source = notified_source(s3, sqs, "bench-notify")
    lock = f"sluice:lock:poll:{source.pk}"
    wait_for(lambda: redis_connection().exists(lock), 60, "the notification receiver to start")
    objects = list(
        generate_objects(
            count * 1000,
            seed=2,
            events_per_object=1000,
            start=datetime(2026, 11, 2, tzinfo=UTC),
            span=timedelta(minutes=59),
        )
    )
    put_at = {}
    for key, body in objects:
        put_at[key] = time.time()
        s3.put_object(Bucket="bench-notify", Key=key, Body=body)
        time.sleep(interval)
    wait_for(
        lambda: ObjectLedger.objects.filter(source=source, status="done").count() >= len(objects),
        120,
        "notified objects to be ingested",
    )
    rows = ObjectLedger.objects.filter(source=source).values_list("key", "finished_at")
    return [finished.timestamp() - put_at[key] for key, finished in rows]


def notified_source(s3, sqs, bucket: str):
    """A bucket announcing its new objects on an SQS queue, and its S3 source (notifications)."""
    from sources.models import Source

    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=bucket)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    return Source.objects.create(
        name=bucket,
        transport="s3",
        log_types=["Gravitational.TeleportAudit"],
        config={
            "bucket": bucket,
            "region": "us-east-1",
            "prefixes": [{"prefix": "teleport/", "log_types": [], "exclude": []}],
            "discovery": "notifications",
            "queue_url": queue_url,
        },
    )


if __name__ == "__main__":
    sys.exit(main())
