"""The hostile-input suite: hypothesis budgets (short in CI, long with SLUICE_FUZZ=1) and the
results table that `bin/hostile` prints (written as JSON to $SLUICE_HOSTILE_REPORT when set)."""

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, settings

from tests.ingestion.conftest import (  # noqa: F401 - the ingestion fixtures, shared
    ingest_env,
    notified_bucket,
    s3,
    sqs,
    workers,
)

FUZZING = os.environ.get("SLUICE_FUZZ", "") not in {"", "0"}
settings.register_profile(
    "hostile-ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "hostile-fuzz",
    max_examples=int(os.environ.get("SLUICE_FUZZ_EXAMPLES") or 20_000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("hostile-fuzz" if FUZZING else "hostile-ci")

ROWS: list[dict] = []  # one per table row: area, case, lines, events, failures, outcome


def report(area: str, case: str, *, lines="", events="", failures="", outcome: str) -> None:
    ROWS.append(
        {
            "area": area,
            "case": case,
            "lines": lines,
            "events": events,
            "failures": failures,
            "outcome": outcome,
        }
    )


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("SLUICE_HOSTILE_REPORT")
    if path and ROWS:
        Path(path).write_text(json.dumps(ROWS, indent=1))
