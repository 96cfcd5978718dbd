"""Alert latency: `python bench/alerts.py [--objects N] [--interval S]`.

PutObject of a gzip object holding one event a built-in rule matches (a root login with its own
host, so each object raises its own alert) → S3 notification → SQS → the worker layout of `./run`
(receive, ingest, interactive, beat) → events stored and the rules run in the same transaction →
the alert visible through `GET /api/v1/alerts` (Bearer token, the real view, in this process).
Printed beside it, from the same objects: PutObject → event stored (the ingestion baseline), so
the difference is what detections add. p50/p95/max over N objects.

Needs PostgreSQL and Redis (defaults: 127.0.0.1; database sluice_alerts_bench is recreated).
"""

from __future__ import annotations

import argparse
import gzip
import json
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ingest as ingest_bench  # noqa: E402 - bench/ingest.py: services, database, waits


def matching_object(index: int) -> tuple[str, bytes, str]:
    """(key, gzip body, host): a root login on a host of its own, and a harmless command."""
    host = f"bench-host-{index}-{uuid.uuid4().hex[:6]}"
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    events = [
        {
            "event": "session.start",
            "code": "T2000I",
            "time": now,
            "uid": str(uuid.uuid4()),
            "user": "bench",
            "login": "root",
            "server_hostname": host,
            "cluster_name": "bench.example.com",
            "sid": str(uuid.uuid4()),
        },
        {
            "event": "session.command",
            "code": "T4000I",
            "time": now,
            "uid": str(uuid.uuid4()),
            "user": "bench",
            "login": "bench",
            "program": "ls",
            "argv": ["-l"],
        },
    ]
    body = b"".join(json.dumps(e).encode() + b"\n" for e in events)
    return f"teleport/bench/{index:05d}.json.gz", gzip.compress(body), host


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--objects", type=int, default=40)
    cli.add_argument("--interval", type=float, default=1.0, help="seconds between PutObjects")
    cli.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    cli.add_argument("--database", default="sluice_alerts_bench")
    cli.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/12",
        help="a Redis database of its own: it is flushed (don't share it with running tests)",
    )
    args = cli.parse_args()
    args.rules, args.ingest_processes = "on", 0  # what bench/ingest.py's setup reads
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ingest_bench.recreate_database(f"{args.pg}/postgres", args.database)
    services = ingest_bench.setup_environment(args)
    log = ROOT / "var" / "bench-ingest" / "bench-alerts.log"
    try:
        return run(args, services, log)
    finally:
        services["moto"].terminate()
        services["moto"].wait(timeout=10)
        if "layout" in services:
            services["layout"].close()


def run(args, services, log: Path) -> int:
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(args.redis_url).flushdb()

    from audit.models import ApiToken
    from events.models import Event
    from ingestion.locks import connection as redis_connection
    from sources import aws
    from tests.factories import UserFactory
    from tests.layout import WORKERS, Layout

    s3, sqs = aws.client("s3"), aws.client("sqs")
    source = ingest_bench.notified_source(s3, sqs, "bench-alerts")
    layout = Layout({}, log)
    services["layout"] = layout
    layout.start((*WORKERS, "beat"))
    lock = f"sluice:lock:poll:{source.pk}"
    ingest_bench.wait_for(
        lambda: redis_connection().exists(lock), 60, "the notification receiver to start"
    )

    raw = ApiToken.objects.issue(UserFactory(username="bench-analyst"), "bench")[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="127.0.0.1")
    stored: list[float] = []
    alerted: list[float] = []
    for index in range(args.objects):
        key, body, host = matching_object(index)
        put = time.monotonic()
        s3.put_object(Bucket="bench-alerts", Key=key, Body=body)
        event_at = alert_at = None
        deadline = put + 60
        while (event_at is None or alert_at is None) and time.monotonic() < deadline:
            if event_at is None and Event.objects.filter(object_key=key).exists():
                event_at = time.monotonic()
            if alert_at is None:
                page = client.get("/api/v1/alerts", {"rule_id": "Teleport.RootLogin", "limit": 5})
                if any(host in alert["title"] for alert in page.json()["results"]):
                    alert_at = time.monotonic()
            time.sleep(0.02)
        if event_at is None or alert_at is None:
            print(f"object {index}: not stored or not alerted within 60 s")
            return 1
        stored.append(event_at - put)
        alerted.append(alert_at - put)
        time.sleep(max(0.0, args.interval - (time.monotonic() - put)))

    for name, values in (
        ("PutObject → event stored (baseline)", stored),
        ("PutObject → alert visible in /api/v1/alerts", alerted),
    ):
        print(
            f"{name}, {len(values)} objects: p50 {statistics.median(values):.2f} s, "
            f"p95 {percentile(values, 95):.2f} s, max {max(values):.2f} s"
        )
    extra = [a - s for a, s in zip(alerted, stored, strict=True)]
    print(f"alert after its event (same objects): p50 {statistics.median(extra):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
