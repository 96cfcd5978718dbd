"""bin/ensure-redis: start Redis when it is missing, or say exactly what to install."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT, free_port

SCRIPT = ROOT / "bin" / "ensure-redis"


def run_script(path: str, redis_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": path, "REDIS_URL": redis_url}
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def path_without_redis_or_apt(tmp_path: Path) -> str:
    """A PATH with the basic tools but neither redis-server, apt-get nor sudo."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ["bash", "dirname", "id", "mkdir", "seq", "sleep", "cat", "sed", "cut"]:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_without_redis_and_without_permission_to_install_prints_one_actionable_line(
    path_without_redis_or_apt,
):
    result = run_script(path_without_redis_or_apt, f"redis://127.0.0.1:{free_port()}/0")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = result.stderr.strip().splitlines()
    assert len(message) == 1
    assert "redis-server is not installed" in message[0]
    assert "apt-get install redis-server" in message[0]


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server not installed")
def test_starts_a_local_redis_server_when_none_answers():
    port = free_port()
    result = run_script(os.environ["PATH"], f"redis://127.0.0.1:{port}/0")
    try:
        assert result.returncode == 0, result.stderr
        assert redis.Redis(port=port).ping()
    finally:
        redis.Redis(port=port).shutdown(nosave=True)


def test_answers_at_once_when_redis_is_running(settings):
    result = run_script(os.environ["PATH"], settings.REDIS_URL)
    assert result.returncode == 0
    assert result.stdout == ""
