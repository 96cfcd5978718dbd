"""Detections fixtures: Teleport lines that the built-in rules match (or not), a rules folder of
our own, and ingestion of bodies through the real path (ingestion.process.ingest_body)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detections import ruleset
from ingestion.process import ingest_body

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

# A rule of our own: three failed logins of one user within 10 minutes of event time; and one
# that raises on every session.start.
RULES = {
    "test_failed_logins.yml": """\
AnalysisType: rule
Filename: test_failed_logins.py
RuleID: Test.FailedLogins
DisplayName: Failed logins
Enabled: true
LogTypes: [Gravitational.TeleportAudit]
Severity: Low
Threshold: 3
DedupPeriodMinutes: 10
Tests:
  - Name: a failed login
    ExpectedResult: true
    Log: {event: user.login, success: false, user: alice}
  - Name: a good login
    ExpectedResult: false
    Log: {event: user.login, success: true, user: alice}
""",
    "test_failed_logins.py": """\
def rule(event):
    return event.get("event") == "user.login" and event.get("success") is False


def title(event):
    return f"Failed logins of {event.get('user')}"


def severity(event):
    return "HIGH" if event.get("user") == "root" else "LOW"
""",
    "test_broken.yml": """\
AnalysisType: rule
Filename: test_broken.py
RuleID: Test.Broken
DisplayName: Broken rule
Enabled: true
LogTypes: [Gravitational.TeleportAudit]
Severity: Info
""",
    "test_broken.py": """\
def rule(event):
    if event.get("event") == "session.start":
        raise RuntimeError("boom")
    return False
""",
}


@pytest.fixture
def rules_dir(tmp_path: Path, settings) -> Path:
    """Our two rules beside the built-in ones (SLUICE_RULES_DIRS)."""
    folder = tmp_path / "rules"
    folder.mkdir()
    for name, text in RULES.items():
        (folder / name).write_text(text)
    settings.SLUICE_RULES_DIRS = [folder]
    ruleset.reset()
    yield folder
    ruleset.reset()


@pytest.fixture(autouse=True)
def fresh_rules():
    ruleset.reset()
    yield
    ruleset.reset()


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def root_login(
    minutes: float, *, user: str = "alice", host: str = "db-1", sid: str = "s-1"
) -> dict:
    """session.start as root: Teleport.RootLogin matches (threshold 1, dedup 60 min)."""
    return {
        "event": "session.start",
        "code": "T2000I",
        "time": at(minutes),
        "uid": f"uid-root-{user}-{host}-{minutes}",
        "user": user,
        "login": "root",
        "server_hostname": host,
        "cluster_name": "teleport.example.com",
        "sid": sid,
    }


def failed_login(minutes: float, *, user: str = "bob") -> dict:
    return {
        "event": "user.login",
        "code": "T1000W",
        "time": at(minutes),
        "uid": f"uid-fail-{user}-{minutes}",
        "user": user,
        "success": False,
        "method": "local",
        "error": "invalid credentials",
    }


def harmless(minutes: float) -> dict:
    return {
        "event": "session.command",
        "code": "T4000I",
        "time": at(minutes),
        "uid": f"uid-ls-{minutes}",
        "user": "carol",
        "login": "carol",
        "program": "ls",
        "argv": ["-la"],
        "sid": "s-harmless",
    }


def body(events: list[dict]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def ingest(source, events: list[dict], key: str = "teleport/a.json", version: str = "v1"):
    """Read one object's worth of events through ingestion (parse, store, rules, alerts)."""
    return ingest_body(source, body(events), object_key=key, version=version)


# The ingestion fixtures (moto S3 → SQS notifications, an SQS source, the worker layout of ./run)
# for the end-to-end tests of this folder.
from tests.ingestion.conftest import (  # noqa: E402
    ingest_env,
    notified_bucket,
    s3,
    s3_source,
    sqs,
    sqs_source,
    workers,
)

__all__ = ["ingest_env", "notified_bucket", "s3", "s3_source", "sqs", "sqs_source", "workers"]
