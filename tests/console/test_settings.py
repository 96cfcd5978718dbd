"""Settings come from the environment with safe defaults; production refuses to start unsafely."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DEBUG",
            "DATABASE_URL",
            "SECURE_SSL_REDIRECT",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_secret_key_says_what_to_set():
    result = run_manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_deploy_checks_pass_in_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="a" * 20 + "-production-key-with-enough-entropy-0123456789",
        ALLOWED_HOSTS="sluice.example.com",
    )
    assert result.returncode == 0, result.stderr


def test_local_run_generates_a_secret_key_into_var(tmp_path):
    result = run_manage("check", DEBUG="1", SLUICE_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    run_manage("check", DEBUG="1", SLUICE_VAR_DIR=str(tmp_path))
    assert (tmp_path / "secret_key").read_text() == key


def test_default_database_is_sqlite_under_var(tmp_path):
    code = "from django.conf import settings; print(settings.DATABASES['default']['NAME'])"
    result = run_manage("shell", "-c", code, DEBUG="1", SLUICE_VAR_DIR=str(tmp_path))
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "sluice.sqlite3")
