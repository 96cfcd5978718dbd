"""Sample a running console's worker queues and sources' backlogs, and time verifications.

    bench/runtime_sample.py --url http://127.0.0.1:8000 --token slc_... [--seconds 180]

Run it beside `./run --demo` (same REDIS_URL, DATABASE_URL and AWS_ENDPOINT_URL) after onboarding
sources: every 5 s it reads the depth of the receive/ingest/interactive queues (Redis), each
source's SQS backlog (visible, in flight) and stored events; every 30 s it starts a verification
of every source through the API and times it. It prints medians and maxima, the events stored per
second (compare with the feed: `demo_feed` writes up to 1,200 events an hour in business hours,
plus a tenth of that as raw events) and each source's health at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

import django  # noqa: E402

django.setup()

from events.models import Event  # noqa: E402
from ingestion import runtime  # noqa: E402
from sources.models import Source  # noqa: E402


def verify(url: str, token: str, source_id: int, results: list[float]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    run = requests.post(f"{url}/api/v1/sources/{source_id}/verify", headers=headers, timeout=10)
    run.raise_for_status()
    run_id = run.json()["id"]
    while time.monotonic() - started < 120:
        state = requests.get(
            f"{url}/api/v1/sources/{source_id}/verifications/{run_id}", headers=headers, timeout=10
        ).json()
        if state["status"] in {"passed", "failed"}:
            results.append(time.monotonic() - started)
            return
        time.sleep(0.2)
    results.append(float("inf"))


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--url", default="http://127.0.0.1:8000")
    cli.add_argument("--token", required=True)
    cli.add_argument("--seconds", type=int, default=180)
    args = cli.parse_args()

    sources = list(Source.objects.all())
    depths: dict[str, list[int]] = {q: [] for q in ("receive", "ingest", "interactive")}
    backlog: dict[str, list[int]] = {s.name: [] for s in sources}
    verifications: list[float] = []
    threads: list[threading.Thread] = []
    first_events = Event.objects.count()
    started = time.monotonic()
    next_verify = started
    while time.monotonic() - started < args.seconds:
        for queue, depth in runtime.queue_depths().items():
            depths[queue].append(depth)
        for source in sources:
            counts = source.transport_impl.queue_counts(source.settings)
            if counts is not None:
                backlog[source.name].append(counts.visible + counts.in_flight)
        if time.monotonic() >= next_verify:
            for source in sources:
                thread = threading.Thread(
                    target=verify, args=(args.url, args.token, source.pk, verifications)
                )
                thread.start()
                threads.append(thread)
            next_verify += 30
        time.sleep(5)
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    stored = Event.objects.count() - first_events

    rate = stored / elapsed
    print(f"{len(sources)} sources, {elapsed:.0f} s, {stored} events stored ({rate:.0f}/s)")
    for queue, values in depths.items():
        print(f"queue {queue:<12} depth median {statistics.median(values):g}  max {max(values)}")
    for name, values in backlog.items():
        if values:
            print(
                f"source {name:<20} SQS backlog (visible + in flight) median "
                f"{statistics.median(values):g}  max {max(values)}"
            )
    for source in Source.objects.all():
        print(f"source {source.name:<20} {source.health}: {source.health_reason or '-'}")
    verifications.sort()
    print(
        f"{len(verifications)} verifications: median {statistics.median(verifications):.1f} s, "
        f"max {verifications[-1]:.1f} s"
    )


if __name__ == "__main__":
    main()
