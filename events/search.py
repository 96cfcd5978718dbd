"""Search state and the queries behind the search page, the API and export.

The page, the API and the export all go through `SearchState.events()`: one query path.
The whole state lives in the URL query string (q, range, start, end, log_type, source, cols).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, F, Func, IntegerField, Q, QuerySet, Sum, TextField
from django.db.models.fields.json import compile_json_path

from audit.responses import MAX_ID
from events.filters import DateOutOfRange, resolve_json_fields, to_q, utc_datetime
from events.models import Event, EventMinuteCount
from events.query import QueryError, parse
from logtypes.registry import default_columns

RANGE_PRESETS: dict[str, tuple[str, timedelta]] = {
    "15m": ("Last 15 minutes", timedelta(minutes=15)),
    "1h": ("Last hour", timedelta(hours=1)),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
}
DEFAULT_RANGE = "24h"
CUSTOM_RANGE = "custom"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
HISTOGRAM_MAX_BARS = 60
BUCKET_STEPS = (60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
FACET_SAMPLE = 10_000
DEFAULT_LOG_TYPE = "Gravitational.TeleportAudit"  # whose columns show when no log type is picked


class StateError(ValueError):
    """A bad time range or parameter; `param` names the input it is about."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


def parse_when(text: str, param: str) -> datetime:
    try:
        return utc_datetime(text.strip().replace(" ", "T"))
    except DateOutOfRange as error:
        raise StateError(param, str(error)) from None
    except ValueError:
        raise StateError(param, "use a date and time like 2026-11-27T10:00:00 (UTC)") from None


def parse_source(text: str) -> str:
    """A source id as the URL carries it: ASCII digits that fit the id column."""
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID):
        raise StateError("source", "pick a log source from the list")
    return text


def format_when(value: datetime) -> str:
    """For URLs and datetime-local inputs: UTC, seconds precision, no offset."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def ceil_to_second(value: datetime) -> datetime:
    """URLs carry whole seconds: an end bound rounds up so the window never loses its last
    fraction of a second (the newest histogram bar ends at "now", e.g. 12:00:14.6)."""
    if value.microsecond:
        return value.replace(microsecond=0) + timedelta(seconds=1)
    return value


@dataclass(frozen=True)
class SearchState:
    q: str = ""
    range: str = DEFAULT_RANGE
    start: datetime | None = None
    end: datetime | None = None
    log_type: str = ""
    source: str = ""
    columns: tuple[str, ...] = ()
    now: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)

    @classmethod
    def from_params(cls, params: Any, now: datetime | None = None) -> SearchState:
        """State from a query dict; raises StateError for a bad range or source."""
        now = now or datetime.now(UTC)
        range_ = params.get("range") or ""
        start = end = None
        if not range_:
            # Links carry start/end without a range; a form always sends its range select.
            range_ = CUSTOM_RANGE if params.get("start") else DEFAULT_RANGE
        if range_ == CUSTOM_RANGE:
            range_ = CUSTOM_RANGE
            start = parse_when(params["start"], "start") if params.get("start") else None
            end = parse_when(params["end"], "end") if params.get("end") else None
            if start is None:
                raise StateError("start", "a custom range needs a start")
            if end is not None and end <= start:
                raise StateError("end", "the end must be after the start")
        elif range_ not in RANGE_PRESETS:
            raise StateError("range", f"unknown range {range_!r}")
        source = parse_source(params["source"].strip()) if params.get("source") else ""
        columns = tuple(c for c in (params.get("cols") or "").split(",") if c.strip())
        return cls(
            q=(params.get("q") or "").strip(),
            range=range_,
            start=start,
            end=end,
            log_type=(params.get("log_type") or "").strip(),
            source=source,
            columns=tuple(c.strip() for c in columns)[:30],
            now=now,
        )

    @classmethod
    def as_typed(cls, params: Any) -> SearchState:
        """The form's values as typed, to show again beside a StateError (never searched)."""
        range_ = params.get("range") or (CUSTOM_RANGE if params.get("start") else DEFAULT_RANGE)
        if range_ not in RANGE_PRESETS and range_ != CUSTOM_RANGE:
            range_ = DEFAULT_RANGE
        columns = tuple(c.strip() for c in (params.get("cols") or "").split(",") if c.strip())
        return cls(
            q=(params.get("q") or "").strip(),
            range=range_,
            log_type=(params.get("log_type") or "").strip(),
            source=(params.get("source") or "").strip(),
            columns=columns[:30],
        )

    # --- time window --------------------------------------------------------------------------
    def window(self) -> tuple[datetime, datetime]:
        if self.range == CUSTOM_RANGE:
            return self.start, self.end or self.now
        return self.now - RANGE_PRESETS[self.range][1], self.now

    # --- URLs ---------------------------------------------------------------------------------
    def params(self, **overrides: Any) -> dict[str, str]:
        state = replace(self, **overrides) if overrides else self
        out: dict[str, str] = {}
        if state.q:
            out["q"] = state.q
        if state.range == CUSTOM_RANGE and state.start:  # no start: a state as_typed()
            out["start"] = format_when(state.start)
            if state.end:
                out["end"] = format_when(ceil_to_second(state.end))
        elif state.range != DEFAULT_RANGE:
            out["range"] = state.range
        if state.log_type:
            out["log_type"] = state.log_type
        if state.source:
            out["source"] = state.source
        if state.columns:
            out["cols"] = ",".join(state.columns)
        return out

    def querystring(self, **overrides: Any) -> str:
        return urlencode(self.params(**overrides))

    # --- columns ------------------------------------------------------------------------------
    def shown_columns(self) -> tuple[str, ...]:
        if self.columns:
            return self.columns
        return default_columns(self.log_type or DEFAULT_LOG_TYPE)

    def with_column(self, name: str) -> SearchState:
        shown = self.shown_columns()
        return self if name in shown else replace(self, columns=(*shown, name))

    def without_column(self, name: str) -> SearchState:
        remaining = tuple(c for c in self.shown_columns() if c != name)
        return replace(self, columns=remaining or ("event",))

    def with_query(self, extra: str) -> SearchState:
        return replace(self, q=f"{self.q} {extra}".strip())

    # --- queries ------------------------------------------------------------------------------
    def filter_q(self) -> Q:
        """Time range, log type, source and the query text; raises QueryError."""
        start, end = self.window()
        condition = Q(p_event_time__gte=start, p_event_time__lt=end)
        if self.log_type:
            condition &= Q(p_log_type=self.log_type)
        if self.source:
            condition &= Q(source_id=int(self.source))
        return condition & to_q(parse(self.q))

    def uses_minute_counts(self) -> bool:
        """An unfiltered search on PostgreSQL: per-minute counts answer its histogram."""
        if connection.vendor != "postgresql":
            return False
        try:
            return parse(self.q) is None
        except QueryError:
            return False

    def events(self) -> QuerySet[Event]:
        """Matching events, newest first (keyset order: p_event_time desc, id desc)."""
        return (
            Event.objects.filter(self.filter_q())
            .select_related("source")
            .order_by("-p_event_time", "-id")
        )


# --- Keyset pagination -------------------------------------------------------------------


def encode_cursor(event: Event) -> str:
    raw = f"{event.p_event_time.astimezone(UTC).isoformat()}|{event.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, pk = raw.partition("|")
        parsed = datetime.fromisoformat(when)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise StateError("cursor", "this page link is damaged: start the search again") from None


def page(
    events: QuerySet[Event], cursor: str = "", size: int = PAGE_SIZE
) -> tuple[list[Event], str]:
    """One page of events after `cursor`, and the cursor of the next page ('' at the end)."""
    if cursor:
        when, pk = decode_cursor(cursor)
        events = events.filter(p_event_time__lte=when).exclude(p_event_time=when, id__gte=pk)
    rows = list(events[: size + 1])
    if len(rows) > size:
        return rows[:size], encode_cursor(rows[size - 1])
    return rows, ""


# --- Histogram ------------------------------------------------------------------------------


class BucketIndex(Func):
    """floor((p_event_time - origin) / step seconds), on PostgreSQL and SQLite."""

    output_field = IntegerField()

    def __init__(self, expression, origin: datetime, step: int):
        super().__init__(expression)
        self.origin = origin
        self.step = step

    def as_sql(self, compiler, connection, **extra):
        inner, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            sql = f"FLOOR(EXTRACT(EPOCH FROM ({inner} - %s)) / %s)::bigint"
            return sql, [*params, self.origin, self.step]
        sql = f"CAST((julianday({inner}) - julianday(%s)) * 86400.0 / %s AS INTEGER)"
        return sql, [*params, self.origin.replace(tzinfo=None).isoformat(" "), self.step]


def _count_buckets(rows: QuerySet, column: str, origin: datetime, step: int, total) -> dict:
    return dict(
        rows.order_by()
        .annotate(bucket=BucketIndex(F(column), origin, step))
        .values_list("bucket")
        .annotate(n=total)
        .values_list("bucket", "n")
    )


def _minute_count_buckets(
    state: SearchState, start: datetime, end: datetime, origin: datetime, step: int
) -> dict[int, int]:
    """Whole minutes from the minute counts, the partial minutes at either edge from events."""
    first_full = _ceil_minute(start)
    last_full = _floor_minute(end)
    if first_full >= last_full:
        return _count_buckets(
            Event.objects.filter(state.filter_q()), "p_event_time", origin, step, Count("id")
        )
    minutes = EventMinuteCount.objects.filter(minute__gte=first_full, minute__lt=last_full)
    if state.log_type:
        minutes = minutes.filter(p_log_type=state.log_type)
    if state.source:
        minutes = minutes.filter(source_id=int(state.source))
    counts = _count_buckets(minutes, "minute", origin, step, Sum("count"))
    edges = Event.objects.filter(state.filter_q()).filter(
        Q(p_event_time__lt=first_full) | Q(p_event_time__gte=last_full)
    )
    for bucket, n in _count_buckets(edges, "p_event_time", origin, step, Count("id")).items():
        counts[bucket] = counts.get(bucket, 0) + n
    return counts


def _floor_minute(when: datetime) -> datetime:
    return when.replace(second=0, microsecond=0)


def _ceil_minute(when: datetime) -> datetime:
    floor = _floor_minute(when)
    return floor if floor == when else floor + timedelta(minutes=1)


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    count: int


def bucket_step(start: datetime, end: datetime) -> int:
    span = (end - start).total_seconds()
    for step in BUCKET_STEPS:
        if span / step <= HISTOGRAM_MAX_BARS:
            return step
    return math.ceil(span / HISTOGRAM_MAX_BARS / 86400) * 86400  # whole days, at most 60 bars


def histogram(state: SearchState) -> list[Bucket]:
    """Event counts per time bucket over the state's window (every bucket, zeros included)."""
    start, end = state.window()
    step = bucket_step(start, end)
    origin = datetime.fromtimestamp(int(start.timestamp()) // step * step, UTC)
    if state.uses_minute_counts():
        counts = _minute_count_buckets(state, start, end, origin, step)
    else:
        counts = _count_buckets(
            Event.objects.filter(state.filter_q()), "p_event_time", origin, step, Count("id")
        )
    buckets = []
    index = 0
    while True:
        bucket_start = origin + timedelta(seconds=step * index)
        if bucket_start >= end:
            break
        bucket_end = bucket_start + timedelta(seconds=step)
        buckets.append(Bucket(max(bucket_start, start), min(bucket_end, end), counts.get(index, 0)))
        index += 1
    return buckets


# --- Field values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldValue:
    value: Any
    count: int
    missing: bool = False  # the events without this field: "(missing)"

    @property
    def filterable(self) -> bool:
        return isinstance(self.value, str | int | float | bool) and self.value is not None

    @property
    def query_text(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)


class JSONText(Func):
    """The JSON text of the value at a path in a JSON column (NULL when absent)."""

    output_field = TextField()

    def __init__(self, column: str, path: tuple[str, ...]):
        super().__init__(F(column))
        self.path = path

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"({column} #> %s)::text", [*params, list(self.path)]
        return f"({column} -> %s)", [*params, compile_json_path(list(self.path))]


def top_values(
    state: SearchState, name: str, *, sample: int | None = FACET_SAMPLE, limit: int = 10
) -> tuple[list[FieldValue], int]:
    """The `limit` most frequent values of a field among the latest `sample` matching events
    (all matching events when sample is None), then how many of them lack the field (a
    `missing` FieldValue, when any do); returns (values, events examined).

    One pass: the newest `sample` rows are read in index order and grouped in the database.
    The statement wraps SQL that Django compiled (values stay parameters).
    """
    location = resolve_json_fields(name)[0]
    latest = (
        Event.objects.filter(state.filter_q())
        .order_by("-p_event_time", "-id")
        .annotate(value=JSONText(location.column, location.path))
        .values("value")
    )
    if sample is not None:
        latest = latest[:sample]
    inner, params = latest.query.sql_with_params()
    sql = (
        "SELECT value, COUNT(*) AS n, SUM(COUNT(*)) OVER () AS examined "  # noqa: S608 - compiled
        f"FROM ({inner}) AS latest GROUP BY value "
        "ORDER BY CASE WHEN value IS NULL THEN 0 ELSE 1 END, n DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit + 1])
        rows = cursor.fetchall()
    examined = int(rows[0][2]) if rows else 0
    values = [FieldValue(json.loads(value), n) for value, n, _ in rows if value is not None]
    missing = [FieldValue(None, n, missing=True) for value, n, _ in rows if value is None]
    return values[:limit] + missing, examined


def page_fields(rows: list[Event]) -> list[tuple[str, int]]:
    """Field names present in a page of results, with how many rows carry each."""
    counts: dict[str, int] = {}
    for event in rows:
        for key in event.fields:
            counts[key] = counts.get(key, 0) + 1
        for key in event.p_extra:
            counts[f"p_extra.{key}"] = counts.get(f"p_extra.{key}", 0) + 1
    return sorted(counts.items())


def cell(event: Event, name: str) -> Any:
    """The value shown in a results column (dotted names look into nested objects)."""
    return cell_getter(name)(event)


def cell_getter(name: str) -> Callable[[Event], Any]:
    """`cell` for one column, with the name resolved once (a page has hundreds of cells)."""
    if name.startswith("p_extra."):
        extra_path = name.split(".")[1:]
        return lambda event: _dig(event.p_extra, extra_path)
    if name.startswith("p_"):
        return lambda event: getattr(event, name, None)
    location = resolve_json_fields(name)[0]
    path = list(location.path)
    if location.column != "fields":
        return lambda event: _dig(event.p_extra, path)

    def from_fields(event: Event) -> Any:
        value = _dig(event.fields, path)
        return _dig(event.p_extra, path) if value is None else value

    return from_fields


def _dig(data: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


__all__ = [
    "CUSTOM_RANGE",
    "DEFAULT_RANGE",
    "RANGE_PRESETS",
    "Bucket",
    "QueryError",
    "SearchState",
    "StateError",
    "cell",
    "cell_getter",
    "histogram",
    "page",
    "page_fields",
    "top_values",
]
