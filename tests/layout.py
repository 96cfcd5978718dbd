"""The worker layout of `./run` (console/workers.py), started as subprocesses for end-to-end tests,
the fault suite, the load test and the benchmarks: one definition, so what is tested is what runs.

`kill()` is a SIGKILL of every process and its pool children at once; `start()` again restarts
them, as a supervisor (honcho, systemd) would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from console import workers as layout

ROOT = Path(__file__).resolve().parent.parent
WORKERS = tuple(worker.name for worker in layout.workers())


class Layout:
    """The layout's processes with `env` (database, Redis) over this process's environment as
    it is when `start()` is called (a test sets its knobs before starting the workers).

    Beat keeps its schedule in a directory of this layout's own (removed by `close()`), never in
    var/ where a console running from the same checkout keeps its own."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.env = dict(env)
        self.private = Path(tempfile.mkdtemp(prefix="sluice-layout-"))
        self.env.setdefault("SLUICE_BEAT_SCHEDULE_FILE", str(self.private / "celerybeat-schedule"))
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed by close()
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, names: Iterable[str] = WORKERS, *, timeout: float = 60) -> None:
        """Start the named processes (the three workers by default; add "beat" for the
        scheduler) and wait until every worker announces itself."""
        names = tuple(names)
        for name in names:
            self.procs[name] = subprocess.Popen(
                layout.command(name),
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
        self.wait_ready([n for n in names if n != "beat"], timeout=timeout)

    def wait_ready(self, names: Iterable[str], *, timeout: float) -> None:
        from sources import runtime

        expected = {self.procs[name].pid for name in names}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"the {name} worker exited with {proc.returncode}")
            try:
                announced = {w.pid for w in runtime.workers()}
            except Exception:  # the broker is restarting
                announced = set()
            if expected <= announced:
                return
            time.sleep(0.2)
        raise TimeoutError(f"workers {sorted(names)} did not announce themselves in {timeout}s")

    @property
    def proc(self) -> subprocess.Popen:
        """The ingest worker (the one that reads objects)."""
        return self.procs["ingest"]

    def children(self, name: str = "ingest") -> list[int]:
        proc = self.procs.get(name)
        if proc is None:
            return []
        path = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def kill(self, names: Iterable[str] | None = None) -> None:
        """SIGKILL the named processes (all by default) and their pool children at once."""
        names = list(self.procs) if names is None else list(names)
        pids = [pid for name in names for pid in (*self.children(name), self.procs[name].pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for name in names:
            self.procs.pop(name).wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def close(self) -> None:
        self.stop()
        self.log.close()
        shutil.rmtree(self.private, ignore_errors=True)
