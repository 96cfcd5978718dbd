"""Streamed export of search results: CSV or JSON lines, capped at a limit the user sees."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
from django.db.models import QuerySet

from events.models import Event
from events.presenters import event_dict
from events.search import SearchState, cell

FORMATS = ("csv", "jsonl")
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 100_000
CHUNK = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def parse_limit(text: str | None) -> int:
    if not text:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ValueError(f"limit is a number from 1 to {MAX_LIMIT:,}")
    return int(text)


class _Echo:
    def write(self, value: str) -> str:
        return value


def spreadsheet_safe(value: object) -> str:
    """Cell text that a spreadsheet will not run as a formula (log content is attacker-made)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_rows(events: QuerySet[Event], state: SearchState, limit: int) -> Iterator[str]:
    writer = csv.writer(_Echo())
    columns = state.shown_columns()
    yield writer.writerow(["p_event_time", "p_log_type", "p_row_id", *columns, "event_json"])
    for event in events[:limit].iterator(chunk_size=CHUNK):
        yield writer.writerow(
            [
                event.p_event_time.isoformat(),
                event.p_log_type,
                event.p_row_id,
                *(spreadsheet_safe(cell(event, name)) for name in columns),
                spreadsheet_safe(orjson.dumps(event_dict(event)).decode()),
            ]
        )


def jsonl_rows(events: QuerySet[Event], limit: int) -> Iterator[bytes]:
    for event in events[:limit].iterator(chunk_size=CHUNK):
        yield orjson.dumps(event_dict(event)) + b"\n"


def stream(fmt: str, events: QuerySet[Event], state: SearchState, limit: int):
    """(iterator, content type, file name) for fmt 'csv' or 'jsonl'."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        return csv_rows(events, state, limit), "text/csv; charset=utf-8", f"events-{stamp}.csv"
    return jsonl_rows(events, limit), "application/x-ndjson", f"events-{stamp}.jsonl"
