"""The hostile-input suite: hypothesis budgets (short in CI, long with SLUICE_FUZZ=1) and the
results table that `bin/hostile` prints (SLUICE_HOSTILE_TABLE=1)."""

import os

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


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not ROWS or os.environ.get("SLUICE_HOSTILE_TABLE", "") in {"", "0"}:
        return
    from django.db import connection

    columns = ["area", "case", "lines", "events", "failures", "outcome"]
    write = terminalreporter.write_line
    terminalreporter.section(f"hostile input on {connection.vendor}")
    write("| " + " | ".join(columns) + " |")
    write("|" + "---|" * len(columns))
    areas = ["corpus", "limits", "objects", "messages", "fuzz"]
    for row in sorted(ROWS, key=lambda row: areas.index(row["area"])):
        cells = [f"{row[c]:,}" if isinstance(row[c], int) else str(row[c]) for c in columns]
        write("| " + " | ".join(cells) + " |")
