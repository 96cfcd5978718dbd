"""Timestamp parsing for the schema time formats, normalized to UTC.

Each parser returns ``(text, datetime)`` where text is RFC3339 UTC with microseconds ending in
``Z`` (nanoseconds when the value has 7 to 9 fractional digits: Teleport writes nanoseconds, and
the field keeps them, as Panther did; the datetime holds microseconds); ``None`` when the value
does not match; ``ZERO_TIME`` for Go's zero time (meaning unset).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from parsers import strftime

UTC = UTC
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ZERO_TIME = object()  # sentinel: Go's zero time 0001-01-01T00:00:00Z means "unset"
_ZERO_TEXT = "0001-01-01T00:00:00.000000Z"

_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-]\d{2}:\d{2}))",
    re.ASCII,
)
_UNIX_TEXT = re.compile(r"\s*-?\d+(?:\.\d+)?\s*", re.ASCII)
_UNIX_DIVISOR = {"unix": 1, "unix_ms": 1_000, "unix_us": 1_000_000, "unix_ns": 1_000_000_000}
_fromisoformat = datetime.fromisoformat

Parsed = tuple[str, datetime]
TimeParser = Callable[[object], "Parsed | object | None"]


def format_utc(dt: datetime) -> str:
    """RFC3339 UTC text with microseconds and a trailing Z."""
    if dt.tzinfo is UTC:  # what the parsers make: one isoformat, "+00:00" swapped for "Z"
        return dt.isoformat(timespec="microseconds")[:-6] + "Z"
    if dt.tzinfo is not None and dt.utcoffset():
        dt = dt.astimezone(UTC)
    return dt.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_rfc3339(value: object) -> Parsed | object | None:
    """RFC3339 with 0-9 fractional digits and Z or an offset, normalized to UTC."""
    if type(value) is not str:
        return None
    # Fast paths for what Teleport writes (Z with 0, 3, 6 or 9 digits): string slicing, with
    # fromisoformat checking the digits; anything else goes through the full pattern.
    n = len(value)
    if n < 20 or value[10] != "T" or value[-1] != "Z" or not value[4] == value[7] == "-":
        return _parse_rfc3339(value)
    if n == 24 and value[19] == ".":
        text = value[:23] + "000Z"
    elif n == 20:
        text = value[:19] + ".000000Z"
    elif n == 30 and value[19] == "." and value[26:29].isdigit() and value[26:29].isascii():
        if value[13] != ":" or value[16] != ":":
            return None
        try:
            return value, _fromisoformat(value[:26] + "Z")
        except ValueError:
            return None
    elif n == 27 and value[19] == ".":
        text = value
    else:
        return _parse_rfc3339(value)
    if value[13] != ":" or value[16] != ":":
        return None
    if text == _ZERO_TEXT:
        return ZERO_TIME
    try:
        return text, _fromisoformat(text)
    except ValueError:
        return None


def _parse_rfc3339(value: str) -> Parsed | object | None:
    m = _RFC3339.fullmatch(value)
    if m is None:
        return None
    date, clock, frac, zulu, offset = m.groups()
    frac6 = (frac + "00000")[:6] if frac else "000000"
    nanos = frac[6:].ljust(3, "0") if frac and len(frac) > 6 else ""
    if zulu:
        text = f"{date}T{clock}.{frac6}Z"
        if text == _ZERO_TEXT:
            return ZERO_TIME
        try:
            return f"{text[:-1]}{nanos}Z", _fromisoformat(text)
        except ValueError:
            return None
    try:
        dt = _fromisoformat(f"{date}T{clock}.{frac6}{offset}").astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    text = format_utc(dt)
    return ZERO_TIME if text == _ZERO_TEXT else (f"{text[:-1]}{nanos}Z", dt)


def _unix_parser(divisor: int) -> TimeParser:
    per_micro = 1_000_000 / divisor

    def parse_unix(value: object) -> Parsed | None:
        kind = type(value)
        try:
            if kind is int:
                micros = value * 1_000_000 // divisor  # type: ignore[operator]
            elif kind is float:
                if not math.isfinite(value):  # type: ignore[arg-type]
                    return None
                micros = round(value * per_micro)  # type: ignore[operator]
            elif kind is str and _UNIX_TEXT.fullmatch(value):  # type: ignore[arg-type]
                micros = int(Decimal(value.strip()) * 1_000_000 / divisor)  # type: ignore[union-attr]
            else:
                return None
            dt = EPOCH + timedelta(microseconds=micros)
        except (OverflowError, InvalidOperation, ValueError):
            return None
        return format_utc(dt), dt

    return parse_unix


def _strftime_parser(pattern: str) -> TimeParser:
    fast = strftime.compile(pattern)  # the usual directives without strptime (see strftime.py)

    def parse_strftime(value: object) -> Parsed | None:
        if type(value) is not str:
            return None
        if fast is not None and (parsed := fast(value.strip())) is not None:
            return parsed
        try:
            dt = datetime.strptime(value.strip(), pattern)
            dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
        except (ValueError, OverflowError):
            return None
        return format_utc(dt), dt

    return parse_strftime


def time_parser(fmt: str) -> TimeParser:
    if fmt == "rfc3339":
        return parse_rfc3339
    if fmt in _UNIX_DIVISOR:
        return _unix_parser(_UNIX_DIVISOR[fmt])
    return _strftime_parser(fmt)


def compile_time_formats(formats: tuple[str, ...]) -> TimeParser:
    """One function trying each format in order."""
    parsers = [time_parser(f) for f in formats]
    if len(parsers) == 1:
        return parsers[0]

    def parse_any(value: object) -> Parsed | object | None:
        for parse in parsers:
            result = parse(value)
            if result is not None:
                return result
        return None

    return parse_any
