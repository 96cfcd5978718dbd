"""Turning events into what pages show: JSON text, histogram bars, related links, timelines.

Nothing here marks anything safe: templates escape every value (log content is hostile).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, timedelta
from html import escape
from typing import Any
from urllib.parse import quote as urlquote
from urllib.parse import urlencode

import orjson
from django.urls import reverse
from django.utils.safestring import mark_safe

from events.models import INDICATOR_COLUMNS, Event
from events.query import quote
from events.search import Bucket, FieldValue, SearchState, cell_getter

CHART_WIDTH = 1000
CHART_HEIGHT = 100


def event_dict(event: Event) -> dict[str, Any]:
    """The flat normalized event as Panther shows it: columns, p_ fields, indicators, p_extra."""
    out: dict[str, Any] = dict(event.fields)
    out["p_log_type"] = event.p_log_type
    out["p_row_id"] = event.p_row_id
    out["p_event_time"] = event.p_event_time.isoformat()
    out["p_parse_time"] = event.p_parse_time.isoformat()
    if event.source_id:
        out["p_source_id"] = event.source_id
        out["p_source_label"] = event.source.name if event.source else ""
    for column in INDICATOR_COLUMNS:
        values = getattr(event, column)
        if values:
            out[column] = values
    if event.p_extra:
        out["p_extra"] = event.p_extra
    return out


def event_json(event: Event) -> str:
    return orjson.dumps(event_dict(event), option=orjson.OPT_INDENT_2).decode()


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    bucket: Bucket
    zoom_query: str
    label: str  # "N events from … to …" (UTC)


def histogram_bars(buckets: list[Bucket], state: SearchState) -> dict[str, Any]:
    """SVG geometry for the histogram; each bar links to the search narrowed to its bucket."""
    if not buckets:
        return {"bars": [], "max": 0}
    peak = max(bucket.count for bucket in buckets) or 1
    width = CHART_WIDTH / len(buckets)
    bars = []
    for index, bucket in enumerate(buckets):
        height = (bucket.count / peak) * CHART_HEIGHT
        if bucket.count and height < 1:
            height = 1
        bars.append(
            Bar(
                x=f"{index * width:.2f}",
                y=f"{CHART_HEIGHT - height:.2f}",
                width=f"{max(width - 1, 0.5):.2f}",
                height=f"{height:.2f}",
                bucket=bucket,
                zoom_query=state.querystring(range="custom", start=bucket.start, end=bucket.end),
                label=f"{bucket.count} events from {bucket.start:%Y-%m-%d %H:%M:%S} "
                f"to {bucket.end:%Y-%m-%d %H:%M:%S} UTC",
            )
        )
    return {
        "bars": bars,
        "max": max(bucket.count for bucket in buckets),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "first": buckets[0].start,
        "last": buckets[-1].end,
    }


def related_links(event: Event) -> list[tuple[str, str, str]]:
    """(label, value, search query string) for events around this one sharing a session, user
    or IP address: a day either side of it."""
    window = {
        "range": "custom",
        "start": event.p_event_time - timedelta(days=1),
        "end": event.p_event_time + timedelta(days=1),
    }
    base = SearchState()
    links: list[tuple[str, str, str]] = []
    for label, field in (("Same session", "sid"), ("Same user", "user"), ("Same login", "login")):
        value = event.fields.get(field)
        if isinstance(value, str) and value:
            links.append((label, value, base.querystring(q=f"{field}:{quote(value)}", **window)))
    for ip in event.p_any_ip_addresses[:10]:
        links.append(("Same IP", ip, base.querystring(q=f"ip:{quote(ip)}", **window)))
    return links


def indicator_links(event: Event) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each non-empty p_any_* column with (value, search query string) pivots, 30 days."""
    base = SearchState(range="30d")
    out = []
    for column in INDICATOR_COLUMNS:
        values = getattr(event, column)
        if values:
            out.append(
                (column, [(v, base.querystring(q=f"{column}:{quote(v)}")) for v in values[:50]])
            )
    return out


def field_rows(event: Event) -> list[tuple[str, str]]:
    """(name, text) for every column and p_extra key, nested objects as compact JSON."""
    rows = [(name, display_text(value)) for name, value in event.fields.items()]
    rows += [(f"p_extra.{name}", display_text(value)) for name, value in event.p_extra.items()]
    return rows


TIMELINE_KINDS = {
    "session.start": "start",
    "session.join": "join",
    "session.leave": "leave",
    "session.end": "end",
    "session.command": "command",
    "exec": "command",
    "session.network": "network",
    "scp": "file",
    "sftp": "file",
    "session.data": "data",
    "session.upload": "upload",
    "port": "network",
}


@dataclass(frozen=True)
class TimelineEntry:
    event: Event
    kind: str
    offset: timedelta
    gap: timedelta
    summary: str

    @property
    def offset_text(self) -> str:
        return duration_text(self.offset)

    @property
    def gap_text(self) -> str:
        return duration_text(self.gap) if self.gap >= timedelta(seconds=1) else ""


def duration_text(delta: timedelta) -> str:
    """1h 02m 03s / 2m 03.5s / 0.250s: short, exact enough for a timeline."""
    seconds = delta.total_seconds()
    hours, rest = divmod(int(seconds), 3600)
    minutes = rest // 60
    secs = seconds - hours * 3600 - minutes * 60
    if hours:
        return f"{hours}h {minutes:02d}m {int(secs):02d}s"
    if minutes:
        return f"{minutes}m {secs:04.1f}s"
    return f"{secs:.3f}s"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def summarize(event: Event) -> str:
    """One line saying what happened, from the fields Teleport sets for that event type."""
    f = event.fields
    kind = TIMELINE_KINDS.get(f.get("event", ""), "other")
    if kind in {"start", "join"}:
        parts = [f"{_text(f.get('user'))} as {_text(f.get('login'))}"]
        if f.get("server_hostname"):
            parts.append(f"on {_text(f.get('server_hostname'))}")
        if f.get("addr_remote"):
            parts.append(f"from {_text(f.get('addr_remote'))}")
        return " ".join(parts)
    if kind == "command":
        program = _text(f.get("path") or f.get("program") or f.get("command"))
        return f"{program} {_text(f.get('argv'))}".strip()
    if kind == "network":
        dst = f"{_text(f.get('dst_addr'))}:{_text(f.get('dst_port'))}".strip(":")
        return f"{_text(f.get('program'))} → {dst or _text(f.get('addr'))}".strip()
    if kind == "file":
        return f"{_text(f.get('action'))} {_text(f.get('path'))}".strip()
    if kind == "data":
        return f"tx {_text(f.get('tx'))} B, rx {_text(f.get('rx'))} B"
    if kind in {"end", "leave"}:
        return _text(f.get("user"))
    return _text(f.get("code"))


def timeline_entries(events: list[Event]) -> list[TimelineEntry]:
    if not events:
        return []
    first = events[0].p_event_time
    entries = []
    previous = first
    for event in events:
        entries.append(
            TimelineEntry(
                event=event,
                kind=TIMELINE_KINDS.get(event.fields.get("event", ""), "other"),
                offset=event.p_event_time - first,
                gap=event.p_event_time - previous,
                summary=summarize(event),
            )
        )
        previous = event.p_event_time
    return entries


# --- Search page pieces ---------------------------------------------------------------------

QUERYABLE_NAME = re.compile(r"[A-Za-z_@][A-Za-z0-9_.@-]*")


def queryable(name: str) -> bool:
    """Whether a field name can be written as `name:value` in the query language."""
    return bool(QUERYABLE_NAME.fullmatch(name))


def display_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


class RowBuilder:
    """Builds result rows for one search as ready HTML: URL prefixes, parameters and each column's
    field lookup are worked out once, and a row is one string with every value escaped, since a
    page has hundreds of cells (template variables per cell were most of the render time). Pivot
    links carry only their href: the table body boosts them with htmx (hx-boost, hx-target and
    hx-swap set once on the tbody), and the links that leave the search say hx-boost="false"."""

    def __init__(self, state: SearchState) -> None:
        self.state = state
        self.columns = state.shown_columns()
        self.params = state.params()
        self.search_base = reverse("events:search")
        self.detail_prefix = reverse("events:detail", args=["-"])[:-2]
        self.session_prefix = reverse("events:session", args=["-"])[:-2]
        self.getters = [(name, cell_getter(name), queryable(name)) for name in self.columns]
        self.colspan = len(self.columns) + 2

    def row(self, event: Event) -> str:
        """Both <tr>s of one event: its row and the hidden, empty one its JSON is loaded into
        (with its own "Open event page" link) when the row is first expanded."""
        detail = escape(f"{self.detail_prefix}{urlquote(event.p_row_id, safe='')}/")
        pk = event.pk
        when = event.p_event_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return mark_safe(  # noqa: S308 - every value below is escaped
            f'<tr class="event-row" data-row-id="{escape(event.p_row_id)}">'
            '<td class="col-expand"><button type="button" class="expand" aria-expanded="false" '
            f'aria-controls="json-{pk}" aria-label="Show event JSON" data-expand '
            f'hx-get="{detail}json/" hx-target="#json-{pk}>td" hx-trigger="click once">▸</button>'
            f'</td><td class="time"><a href="{detail}" hx-boost="false">{when}</a></td>'
            f"{''.join(self.cell_html(event, name, get, q) for name, get, q in self.getters)}"
            f'</tr>\n<tr class="event-json" id="json-{pk}" hidden hx-boost="false">'
            f'<td colspan="{self.colspan}"></td></tr>\n'
        )

    def cell_html(self, event: Event, name: str, get: Any, is_queryable: bool) -> str:
        """One <td>: the text, with a pivot link (a session id opens its timeline)."""
        value = get(event)
        text = display_text(value)
        if name == "sid" and isinstance(value, str) and value and "/" not in value:
            href = escape(f"{self.session_prefix}{urlquote(value, safe='')}/")
            return f'<td><a href="{href}" hx-boost="false">{escape(text)}</a></td>'
        if is_queryable and text and isinstance(value, str | int | float | bool):
            query = f"{self.state.q} {name}:{quote(text)}".strip()
            href = escape(f"{self.search_base}?{urlencode({**self.params, 'q': query})}")
            return f'<td><a href="{href}">{escape(text)}</a></td>'
        return f"<td>{escape(text)}</td>"


def field_links(state: SearchState, fields: list[tuple[str, int]]) -> list[dict[str, Any]]:
    shown = set(state.shown_columns())
    links = []
    for name, count in fields:
        params = state.params()
        links.append(
            {
                "name": name,
                "count": count,
                "shown": name in shown,
                "facet_query": urlencode({**params, "facet": name}),
                "values_query": urlencode({**params, "field": name}),
                "add_query": state.with_column(name).querystring(),
            }
        )
    return links


def column_links(state: SearchState) -> list[dict[str, str]]:
    return [
        {"name": name, "remove_query": state.without_column(name).querystring()}
        for name in state.shown_columns()
    ]


def facet_rows(
    state: SearchState, facet: str, values: list[FieldValue], examined: int
) -> list[dict[str, Any]]:
    rows = []
    for value in values:
        text = "(missing)" if value.missing else display_text(value.value)
        row = {
            "text": text,
            "count": value.count,
            "percent": round(100 * value.count / examined, 1) if examined else 0,
            "include_query": "",
            "exclude_query": "",
        }
        if value.filterable and queryable(facet):
            term = f"{facet}:{quote(value.query_text)}"
            row["include_query"] = state.with_query(term).querystring()
            row["exclude_query"] = state.with_query(f"-{term}").querystring()
        rows.append(row)
    return rows


def query_error_parts(query: str, position: int) -> dict[str, str]:
    """The query split around the error position, for an inline marker and a caret."""
    position = max(0, min(position, len(query)))
    return {
        "query_before": query[:position],
        "query_at": query[position : position + 1] or " ",
        "query_after": query[position + 1 :],
        "query_pad": " " * position,
    }
