"""The worker layout: the Celery processes Sluice runs and the queues each one serves.

This is the one definition. `./run` (Procfile), the end-to-end tests, the fault suite, the load
test and the benchmarks all start their processes with `python -m console.workers NAME` or
`command(NAME)`, so what is tested is what users run.

    receive      long polls of SQS queues and bucket listings (threads: they wait on the network)
    ingest       reads objects and messages into the events store (one process per core)
    interactive  verifications, beat's fan-outs and health checks: answered within seconds
    beat         the scheduler (exactly one in a deployment)

On N hosts: run `ingest` on every host (SLUICE_INGEST_CONCURRENCY = its cores), `receive` and
`interactive` on one or two hosts (per-source locks keep one receiver per source), `beat` on one.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")


@dataclass(frozen=True)
class Worker:
    name: str
    queue: str
    pool: str
    concurrency: int

    def argv(self) -> list[str]:
        return [
            *_celery(),
            "worker",
            f"--hostname={self.name}@%h",
            f"--queues={self.queue}",
            f"--pool={self.pool}",
            f"--concurrency={self.concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",  # liveness comes from sources.runtime.WorkerPulse
        ]


def _celery() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "console"]


def workers() -> tuple[Worker, ...]:
    sizes = settings.SLUICE_WORKER_CONCURRENCY
    return (
        Worker("receive", "receive", "threads", sizes["receive"]),
        Worker("ingest", "ingest", "prefork", sizes["ingest"]),
        Worker("interactive", "interactive", "threads", sizes["interactive"]),
    )


def beat_argv() -> list[str]:
    return [*_celery(), "beat", "--loglevel=INFO"]


NAMES = ("receive", "ingest", "interactive", "beat")


def command(name: str) -> list[str]:
    """The command line of the process `name` (one of NAMES)."""
    if name == "beat":
        return beat_argv()
    for worker in workers():
        if worker.name == name:
            return worker.argv()
    raise KeyError(f"no process {name!r} in the worker layout (one of: {', '.join(NAMES)})")


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in NAMES:
        sys.exit(f"usage: python -m console.workers {{{'|'.join(NAMES)}}}")
    args = command(argv[0])
    os.execv(args[0], args)  # noqa: S606 - the argv is ours, not user input


if __name__ == "__main__":
    main(sys.argv[1:])
