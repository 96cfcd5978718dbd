"""strftime time formats compiled into one regular expression and a direct datetime build.

`datetime.strptime` re-reads its format on every call and is about half the work of parsing an
access log line; the usual directives (%Y %m %d %e %H %M %S %f %b %z and literal text) are
compiled once here instead. A format using any other directive returns None from `compile`, and
the caller keeps strptime.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DIRECTIVES = {
    "Y": r"(?P<Y>\d{4})",
    "m": r"(?P<m>\d{1,2})",
    "d": r"(?P<d>\d{1,2})",
    "e": r" ?(?P<d>\d{1,2})",
    "H": r"(?P<H>\d{1,2})",
    "M": r"(?P<M>\d{1,2})",
    "S": r"(?P<S>\d{1,2})",
    "f": r"(?P<f>\d{1,6})",
    "b": r"(?P<b>[A-Za-z]{3})",
    "z": r"(?P<z>Z|[+-]\d{2}:?\d{2})",
    "%": "%",
}
_DIRECTIVE = re.compile(r"%(.)")

Parsed = Callable[[str], "datetime | None"]


def compile(pattern: str) -> Parsed | None:
    """A parser of `pattern` returning an aware UTC datetime (None: no match); None when the
    pattern uses a directive this module does not know (or one twice)."""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for found in _DIRECTIVE.finditer(pattern):
        letter = found.group(1)
        if letter not in _DIRECTIVES or (letter in seen and letter != "%"):
            return None
        seen.add("d" if letter == "e" else letter)
        parts.append(re.escape(pattern[position : found.start()]))
        parts.append(_DIRECTIVES[letter])
        position = found.end()
    parts.append(re.escape(pattern[position:]))
    if not {"Y", "d"} <= seen or not ({"m", "b"} & seen):
        return None  # no full date: strptime's defaults (1900) are its own business
    match = re.compile("".join(parts)).fullmatch

    def parse(text: str) -> datetime | None:
        found = match(text)
        if found is None:
            return None
        groups = found.groupdict()
        month = groups.get("m")
        if month is None:
            try:
                month_number = _MONTHS.index(groups["b"].lower()) + 1
            except ValueError:
                return None
        else:
            month_number = int(month)
        fraction = groups.get("f")
        try:
            value = datetime(
                int(groups["Y"]),
                month_number,
                int(groups["d"]),
                int(groups.get("H") or 0),
                int(groups.get("M") or 0),
                int(groups.get("S") or 0),
                int(fraction.ljust(6, "0")) if fraction else 0,
                tzinfo=_zone(groups.get("z")),
            )
        except ValueError:
            return None
        return value.astimezone(UTC) if value.tzinfo is not UTC else value

    return parse


def _zone(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return UTC if not offset else timezone(sign * offset)
