"""Private PostgreSQL and Redis servers for the fault suite, so restarting them hurts no one.

Each is described by a directory and a port only, so the runner that starts them and the test that
restarts them (another process) rebuild the same handle from the environment (`from_env`).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PG_USER = "postgres"  # initdb refuses to run as root: the cluster belongs to this user
ENV_PG_DIR = "SLUICE_FAULTS_PG_DIR"
ENV_PG_PORT = "SLUICE_FAULTS_PG_PORT"
ENV_REDIS_DIR = "SLUICE_FAULTS_REDIS_DIR"
ENV_REDIS_PORT = "SLUICE_FAULTS_REDIS_PORT"


def postgres_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, if any."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    return Path(candidates[-1]).parent if candidates else None


def _wait(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def _alive(pid: int) -> bool:
    """Running (a zombie left for an init that does not reap counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class PrivatePostgres:
    """A throwaway cluster in `directory` (data in ./data, socket and log beside it)."""

    directory: Path
    port: int
    bindir: Path

    @classmethod
    def from_env(cls) -> PrivatePostgres:
        bindir = postgres_bindir()
        assert bindir is not None
        return cls(Path(os.environ[ENV_PG_DIR]), int(os.environ[ENV_PG_PORT]), bindir)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/sluice_faults"

    def _as_owner(self, *args: str) -> None:
        runuser = ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []
        subprocess.run([*runuser, *args], check=True, capture_output=True, timeout=120)

    def _pg_ctl(self, *args: str) -> None:
        data = str(self.directory / "data")
        self._as_owner(str(self.bindir / "pg_ctl"), "-D", data, "-w", "-t", "60", *args)

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, PG_USER, PG_USER)
        self._as_owner(
            str(self.bindir / "initdb"),
            "-D",
            str(self.directory / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )
        options = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.directory}'\nfsync = off\n"
            "max_connections = 100\n"
        )
        with open(self.directory / "data" / "postgresql.conf", "a") as conf:
            conf.write(options)

    def start(self) -> None:
        self._pg_ctl("-l", str(self.directory / "server.log"), "start")
        subprocess.run(
            [
                str(self.bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "sluice_faults",
            ],
            check=False,
            capture_output=True,
        )

    def restart(self) -> None:
        """`immediate`: the server dies as in a crash (no checkpoint) and recovers from WAL."""
        self._pg_ctl("-m", "immediate", "-l", str(self.directory / "server.log"), "restart")

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate", "stop")


@dataclass
class PrivateRedis:
    """A redis-server without persistence: a restart loses every queued task and lock."""

    directory: Path
    port: int

    @classmethod
    def from_env(cls) -> PrivateRedis:
        return cls(Path(os.environ[ENV_REDIS_DIR]), int(os.environ[ENV_REDIS_PORT]))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pidfile(self) -> Path:
        return self.directory / "redis.pid"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.pidfile.unlink(missing_ok=True)
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.pidfile),
                "--logfile",
                str(self.directory / "redis.log"),
                "--dir",
                str(self.directory),
            ],
            check=True,
            capture_output=True,
        )
        _wait(self._answers, timeout=30, what="the private redis-server")

    def _answers(self) -> bool:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return done.stdout.strip() == "PONG"

    def stop(self) -> None:
        """SIGKILL by the pid it wrote: nothing is saved, as in a crash."""
        try:
            pid = int(self.pidfile.read_text())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        _wait(lambda: not _alive(pid), timeout=10, what="redis-server to exit")

    def restart(self) -> None:
        self.stop()
        self.start()
