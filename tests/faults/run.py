"""`bin/faults`: start a private PostgreSQL cluster and Redis, run tests/faults on them, stop them.

Usage: bin/faults [--events 200000] [--kills 10] [--listing-kills 3] [--seed 7]
                  [-- extra pytest arguments]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.availability import in_ci
from tests.ports import free_port

from .services import (
    ENV_PG_DIR,
    ENV_PG_PORT,
    ENV_REDIS_DIR,
    ENV_REDIS_PORT,
    PrivatePostgres,
    PrivateRedis,
    postgres_bindir,
)

ROOT = Path(__file__).resolve().parents[2]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bin/faults", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="good events to ingest")
    parser.add_argument(
        "--kills", type=int, default=10, help="SIGKILLs of every process of the worker layout"
    )
    parser.add_argument(
        "--listing-kills",
        type=int,
        default=3,
        help="SIGKILLs of the receive worker while it lists the listing source's bucket",
    )
    parser.add_argument(
        "--listing-share", type=float, default=0.2, help="share of the events read by listing"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--malformed-rate", type=float, default=0.01)
    parser.add_argument("--throttle-share", type=float, default=0.05)
    parser.add_argument("--drop-share", type=float, default=0.03)
    parser.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    bindir = postgres_bindir()
    if bindir is None or not shutil.which("redis-server"):
        needs = (
            "it needs PostgreSQL's server binaries "
            "(/usr/lib/postgresql/*/bin: apt-get install postgresql) and redis-server."
        )
        if in_ci():
            print(f"bin/faults: FAILED (CI=true, the suite cannot run): {needs}", file=sys.stderr)
            return 1
        print(f"bin/faults: skipped — {needs}", file=sys.stderr)
        return 0
    # a CI timeout's SIGTERM still stops pytest and the private servers (the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="sluice-faults-"))
    work.chmod(0o755)  # the cluster's owner (postgres) must reach its directory
    postgres = PrivatePostgres(work / "postgres", free_port(), bindir)
    redis = PrivateRedis(work / "redis", free_port())
    try:
        postgres.init()
        postgres.start()
        redis.start()
        env = {
            **os.environ,
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis.url,
            ENV_PG_DIR: str(postgres.directory),
            ENV_PG_PORT: str(postgres.port),
            ENV_REDIS_DIR: str(redis.directory),
            ENV_REDIS_PORT: str(redis.port),
            "SLUICE_FAULTS_EVENTS": str(args.events),
            "SLUICE_FAULTS_KILLS": str(args.kills),
            "SLUICE_FAULTS_LISTING_KILLS": str(args.listing_kills),
            "SLUICE_FAULTS_LISTING_SHARE": str(args.listing_share),
            "SLUICE_FAULTS_SEED": str(args.seed),
            "SLUICE_FAULTS_MALFORMED_RATE": str(args.malformed_rate),
            "SLUICE_FAULTS_THROTTLE_SHARE": str(args.throttle_share),
            "SLUICE_FAULTS_DROP_SHARE": str(args.drop_share),
        }
        command = [sys.executable, "-m", "pytest", "tests/faults"]
        return subprocess.run([*command, *args.pytest_args], cwd=ROOT, env=env).returncode
    finally:
        redis.stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
