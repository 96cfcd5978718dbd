"""Events in PostgreSQL's COPY text format: the one encoder for the writer and seed_events.

Pure Python (no Django import), so seed_events' spawned processes can use it as they are.
"""

from __future__ import annotations

import json
import re

import orjson

from parsers.indicators import indicator_entries
from parsers.parser import ParsedEvent

EVENT_COLUMNS = (
    "p_row_id",
    "p_log_type",
    "source_id",
    "p_event_time",
    "p_parse_time",
    "fields",
    "p_extra",
    "object_key",
    "object_version",
    "line",
    "p_any",
)


def dumps_json(value: object) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):  # ints beyond 64 bits
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def jsonb_copy_text(value: object) -> str:
    """JSON in COPY text form. orjson escapes control characters, so only backslashes need
    doubling; jsonb refuses the NUL escape, so a NUL is kept visible as the text `\\u0000`."""
    text = dumps_json(value)
    if "\\" not in text:
        return text
    if "\\u0000" in text:
        text = text.replace("\\u0000", "\\\\u0000")
    return text.replace("\\", "\\\\")


def copy_field(text: str) -> str:
    """A value in COPY's text format (backslash, tab, newline and CR escaped)."""
    return text.translate(_COPY_ESCAPES)


_PLAIN_ELEMENTS = re.compile(r'[^"\\\x00-\x1f]*')


def array_literal(values: list[str]) -> str:
    """A PostgreSQL text[] literal in COPY text form: elements quoted, specials escaped."""
    if not values:
        return "{}"
    joined = '","'.join(values)
    if _PLAIN_ELEMENTS.fullmatch(joined):  # the common case: IPs, names, ids
        return '{"' + joined + '"}'
    quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return copy_field("{" + ",".join(quoted) + "}")


def copy_rows(
    events: list[ParsedEvent], source_id: int | None, object_key: str, object_version: str
) -> bytes:
    """The batch in COPY text format, built in one go (much faster than a row at a time)."""
    source = "\\N" if source_id is None else str(source_id)
    key = copy_field(object_key)
    version = copy_field(object_version)
    lines = []
    append = lines.append
    for event in events:
        indicators = event.indicators
        entries = array_literal(indicator_entries(indicators)) if indicators else "{}"
        append(
            "\t".join(
                (
                    event.row_id,
                    copy_field(event.log_type),
                    source,
                    event.event_time.isoformat(),
                    event.parse_time.isoformat(),
                    jsonb_copy_text(event.fields),
                    jsonb_copy_text(event.extra) if event.extra else "{}",
                    key,
                    version,
                    str(event.line),
                    entries,
                )
            )
        )
    append("")
    return "\n".join(lines).encode("utf-8", "surrogateescape")
