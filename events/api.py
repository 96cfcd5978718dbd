"""/api/v1/events: search events and their histogram with the page's query language.

Same query path as the search page (events.search.SearchState); a bad query answers 400 with the
message and the character position.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, QueryDict
from ninja import Field, Query, Router, Schema, Status

from audit.responses import errors
from events.presenters import event_dict
from events.query import QueryError
from events.search import (
    CUSTOM_RANGE,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    RANGE_PRESETS,
    SearchState,
    StateError,
    bucket_step,
    histogram,
    page,
)

router = Router(tags=["events"])


RangeKey = Literal[(*RANGE_PRESETS, CUSTOM_RANGE)]  # type: ignore[valid-type]


class EventQuery(Schema):
    q: str = Field("", description="Query, e.g. `event:user.login success:false` or `ip:10.0.0.1`")
    range: RangeKey | None = Field(
        None,
        description="15m, 1h, 24h (default), 7d, 30d, or custom (with start); start alone "
        "means custom",
    )
    start: str = Field(
        "",
        description="ISO 8601 start (UTC if no offset), 1900-01-01 to 2999-12-31; sets a "
        "custom range",
    )
    end: str = Field("", description="ISO 8601 end (default: now)")
    log_type: str = Field("", description="Only this log type, e.g. Gravitational.TeleportAudit")
    source: str = Field("", description="Only this log source id")


class EventPageQuery(EventQuery):
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str = Field("", description="`next` from the previous page")


class EventPage(Schema):
    count: int = Field(description="Events matching in the whole time range")
    results: list[dict[str, Any]]
    next: str | None = Field(description="Cursor of the next page; null on the last page")


class BucketOut(Schema):
    start: datetime
    end: datetime
    count: int


class HistogramOut(Schema):
    start: datetime
    end: datetime
    interval_seconds: int
    total: int
    buckets: list[BucketOut]


def _state(filters: EventQuery) -> SearchState:
    """The search state of the parameters; raises StateError."""
    params = QueryDict(mutable=True)
    for key in ("q", "range", "start", "end", "log_type", "source"):
        value = getattr(filters, key)
        if value:
            params[key] = value
    return SearchState.from_params(params)


def _problem(error: QueryError | StateError) -> Status:
    if isinstance(error, QueryError):
        return Status(400, {"detail": error.message, "position": error.position, "param": "q"})
    return Status(400, {"detail": error.message, "param": error.param})


@router.get(
    "",
    response={200: EventPage, **errors(400, 422)},
    summary="Search events, newest first (keyset pages)",
)
def list_events(request: HttpRequest, filters: Query[EventPageQuery]):
    try:
        events = _state(filters).events()
        rows, next_cursor = page(events, filters.cursor, filters.limit)
        count = events.order_by().count()
    except (QueryError, StateError) as error:
        return _problem(error)
    return {
        "count": count,
        "results": [event_dict(event) for event in rows],
        "next": next_cursor or None,
    }


@router.get(
    "/histogram",
    response={200: HistogramOut, **errors(400, 422)},
    summary="Event counts per time bucket over the range",
)
def events_histogram(request: HttpRequest, filters: Query[EventQuery]):
    try:
        state = _state(filters)
        buckets = histogram(state)
    except (QueryError, StateError) as error:
        return _problem(error)
    start, end = state.window()
    step = bucket_step(start, end)
    return {
        "start": start,
        "end": end,
        "interval_seconds": step,
        "total": sum(bucket.count for bucket in buckets),
        "buckets": [{"start": b.start, "end": b.end, "count": b.count} for b in buckets],
    }
