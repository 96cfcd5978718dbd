"""Shared fixtures: users by role, and real services (moto server over HTTP, a Celery worker)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.availability import unavailable
from tests.factories import UserFactory
from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SHARED = ROOT.parent / "shared"

# tests/faults restarts PostgreSQL and Redis: it runs only on the private ones bin/faults starts
# (and names in SLUICE_FAULTS_PG_DIR), never in ./test; there, under CI=true, a skip would fail.
collect_ignore = [] if os.environ.get("SLUICE_FAULTS_PG_DIR") else ["faults"]


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--screenshots",
        default=str(ROOT / "var" / "screenshots"),
        help="where browser tests save their screenshots (var/screenshots, not tracked); "
        "`./test tests/browser --screenshots docs/screenshots` refreshes the docs' pictures",
    )


# --- One run's own Redis and test database ---------------------------------------------------
# Two runs at once (in one checkout, or two checkouts on one machine) must not flush each other's
# broker or share an SQLite file: each run gets a redis-server of its own (a temporary directory
# and a free port) and a test database named after its process. Without redis-server, or under
# bin/faults (whose private Redis the fault suite restarts), REDIS_URL is used as given.
def pytest_configure(config) -> None:
    from django.conf import settings

    from tests.faults.services import ENV_REDIS_DIR, PrivateRedis

    if os.environ.get(ENV_REDIS_DIR) or not shutil.which("redis-server"):
        return
    server = PrivateRedis(Path(tempfile.mkdtemp(prefix="sluice-test-redis-")), free_port())
    server.start()
    config.stash[PRIVATE_REDIS] = server
    settings.REDIS_URL = settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = server.url


def pytest_unconfigure(config) -> None:
    server = config.stash.get(PRIVATE_REDIS, None)
    if server is not None:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


PRIVATE_REDIS = pytest.StashKey()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """The test database of this run: `<name>_<pid>` (an SQLite file in the temporary folder)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if database["ENGINE"].endswith("sqlite3"):
        test["NAME"] = str(Path(tempfile.gettempdir()) / f"sluice-test-{os.getpid()}.sqlite3")
    else:
        test["NAME"] = f"{test.get('NAME') or 'test_' + database['NAME']}_{os.getpid()}"


# --- Users by role -----------------------------------------------------------------------------
@pytest.fixture
def viewer(db):
    """A signed-in user who is neither staff nor a source admin."""
    return UserFactory(username="viewer")


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def shared_corpus() -> Path:
    """The shared test corpora; tests using them skip when a fresh clone has no ../shared (and
    fail under CI=true)."""
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        unavailable("../shared/corpus is absent (fresh clone)")
    return corpus


# --- Real services ------------------------------------------------------------------------------
def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail the test with `what` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code < 500
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server over HTTP; boto3 finds it through AWS_ENDPOINT_URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
        )
    }
    os.environ.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        wait_until(lambda: _answers(url + "/moto-api/"), timeout=30, what="moto server")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def aws(moto_endpoint, settings) -> str:
    """A clean moto state for one test, with settings pointing at it."""
    requests.post(moto_endpoint + "/moto-api/reset", timeout=10)
    settings.AWS_ENDPOINT_URL = moto_endpoint
    from sources import aws as aws_module

    aws_module._base_session.cache_clear()
    return moto_endpoint


def database_url_for_subprocess() -> str:
    """The URL of the database this test is using (the test database), for worker subprocesses."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or "postgres"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


def worker_env() -> dict[str, str]:
    """What worker subprocesses need besides this process's environment: the test's database,
    Redis and schema folder."""
    from django.conf import settings

    return {
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        # a test's own schema folder (custom log types) is the workers' too
        "SLUICE_SCHEMAS_DIR": str(settings.SLUICE_SCHEMAS_DIR),
    }


@pytest.fixture
def celery_worker(transactional_db, aws) -> Iterator[object]:
    """The worker layout of `./run` (console/workers.py), on the test database and Redis."""
    import redis
    from django.conf import settings

    from tests.layout import Layout

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    layout = Layout(worker_env(), ROOT / "var" / "test-worker.log")
    try:
        layout.start()
        yield layout
    finally:
        layout.close()


class WorkerRegistry:
    """The workers Redis knows about (sources.runtime), written by hand: `announce()` what a
    live worker's pulse would write, so a test decides which queues are served."""

    def __init__(self) -> None:
        from sources import runtime

        self.runtime = runtime
        self.clear()

    def clear(self) -> None:
        client = self.runtime.connection()
        for pattern in (self.runtime.WORKER_KEY + "*", self.runtime.RECEIVED_KEY + "*"):
            for key in client.scan_iter(match=pattern, count=100):
                client.delete(key)

    def announce(self, hostname: str, queues: list[str], concurrency: int = 2, active: int = 0):
        import json

        info = {
            "hostname": hostname,
            "queues": queues,
            "concurrency": concurrency,
            "active": active,
            "pid": 0,
            "seen": time.time(),
        }
        key = self.runtime.WORKER_KEY + hostname
        self.runtime.connection().set(key, json.dumps(info), ex=60)

    def announce_layout(self) -> None:
        for queue in ("receive", "ingest", "interactive"):
            self.announce(f"{queue}@test", [queue])


@pytest.fixture
def worker_registry() -> Iterator[WorkerRegistry]:
    """No worker announced (and no receive recorded) until the test says so."""
    registry = WorkerRegistry()
    try:
        yield registry
    finally:
        registry.clear()
