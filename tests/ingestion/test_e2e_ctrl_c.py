"""Ctrl-C on `./run`: honcho runs the Procfile (web, the worker layout and beat) and, on SIGINT,
sends SIGTERM to each process's group. The ingest worker's pool children used to get it too and
die mid-task, the parent printing a WorkerLostError traceback for each. Now every process stops
without a traceback, and none is left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from events.models import Event
from ingestion.tasks import poll_source
from tests.conftest import ROOT, wait_until, worker_env
from tests.ports import free_port

from .conftest import BUCKET, good_lines, gz

pytestmark = pytest.mark.e2e
LINES, BATCH = 2000, 200


def processes_with(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (every process honcho started, and theirs)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone, or not ours
            continue
    return found


def test_ctrl_c_stops_the_procfile_without_a_traceback_or_a_process_left(
    transactional_db, aws, s3, s3_source, ingest_env
):
    private = Path(tempfile.mkdtemp(prefix="sluice-run-shutdown-"))
    log_path = private / "honcho.log"
    env = {
        **os.environ,
        **worker_env(),
        **ingest_env,
        "DEBUG": "1",  # as ./run sets it
        "PORT": str(free_port()),
        "AWS_ENDPOINT_URL": aws,
        "SLUICE_BEAT_SCHEDULE_FILE": str(private / "celerybeat-schedule"),
        "PYTHONUNBUFFERED": "1",
        "SLUICE_INGEST_BATCH_SIZE": str(BATCH),
        "SLUICE_INGEST_BATCH_DELAY": "0.3",  # an object takes seconds: Ctrl-C comes mid-way
    }
    marker = str(private)
    with log_path.open("wb") as log:
        honcho = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "honcho"), "-f", "Procfile", "start"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, as a terminal's foreground job is
        )
    try:
        wait_until(lambda: ready(honcho, log_path), timeout=90, what="the three workers")
        s3.put_object(Bucket=BUCKET, Key="teleport/big.json.gz", Body=gz(good_lines(LINES, 7)))
        poll_source.delay(s3_source.pk)
        wait_until(
            lambda: Event.objects.count() >= BATCH, timeout=90, what="the pool to be mid-object"
        )
        os.killpg(honcho.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        honcho.wait(timeout=60)
        wait_until(lambda: not processes_with(marker), timeout=15, what="every process to stop")
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)
        output = log_path.read_text()
        shutil.rmtree(private, ignore_errors=True)
    assert "SIGINT received" in output
    assert "Warm shutdown" in output
    assert "Traceback" not in output, output[-6000:]
    assert "WorkerLostError" not in output


def ready(honcho: subprocess.Popen, log_path: Path) -> bool:
    output = log_path.read_text()
    assert honcho.poll() is None, f"honcho stopped before the Ctrl-C:\n{output[-3000:]}"
    return output.count(" ready.") >= 3
