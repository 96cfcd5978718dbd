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
from functools import lru_cache

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DIRECTIVES = {
    "Y": r"(\d{4})",
    "m": r"(\d{1,2})",
    "d": r"(\d{1,2})",
    "e": r" ?(\d{1,2})",
    "H": r"(\d{1,2})",
    "M": r"(\d{1,2})",
    "S": r"(\d{1,2})",
    "f": r"(\d{1,6})",
    "b": r"([A-Za-z]{3})",
    "z": r"(Z|[+-]\d{2}:?\d{2})",
    "%": "%",
}
_DIRECTIVE = re.compile(r"%(.)")
# datetime() arguments by directive: the group's text as it goes in, or the default
_ARGUMENTS = (
    ("Y", "int(Y)", None),
    ("m", "int(m)", "month"),  # %b sets month when there is no %m
    ("d", "int(d)", None),
    ("H", "int(H)", "0"),
    ("M", "int(M)", "0"),
    ("S", "int(S)", "0"),
    ("f", "int(f.ljust(6, '0'))", "0"),
)

Parsed = Callable[[str], "datetime | None"]


def compile(pattern: str) -> Parsed | None:
    """A parser of `pattern` returning an aware UTC datetime (None: no match); None when the
    pattern uses a directive this module does not know (or one twice).

    The parser is generated source: one fullmatch, the groups unpacked by position, one
    datetime() call (about a third of the work of a dict of named groups)."""
    parts: list[str] = []
    letters: list[str] = []  # the groups, in order
    position = 0
    for found in _DIRECTIVE.finditer(pattern):
        letter = found.group(1)
        name = "d" if letter == "e" else letter
        if letter not in _DIRECTIVES or name in letters:
            return None
        if letter != "%":
            letters.append(name)
        parts.append(re.escape(pattern[position : found.start()]))
        parts.append(_DIRECTIVES[letter])
        position = found.end()
    parts.append(re.escape(pattern[position:]))
    if not {"Y", "d"} <= set(letters) or not ({"m", "b"} & set(letters)):
        return None  # no full date: strptime's defaults (1900) are its own business
    arguments = []
    for letter, given, default in _ARGUMENTS:
        arguments.append(given if letter in letters else default)
    zone = "zone(z)" if "z" in letters else "UTC"
    lines = [
        "def parse(text):",
        "    found = match(text)",
        "    if found is None:",
        "        return None",
        f"    {', '.join(letters)}, = found.groups()",
    ]
    if "b" in letters and "m" not in letters:
        lines += [
            "    month = MONTHS.get(b.lower())",
            "    if month is None:",
            "        return None",
        ]
    lines += [
        "    try:",
        f"        value = datetime({', '.join(arguments)}, tzinfo={zone})",
        "    except ValueError:",
        "        return None",
        "    return value if value.tzinfo is UTC else value.astimezone(UTC)",
    ]
    env = {
        "match": re.compile("".join(parts)).fullmatch,
        "datetime": datetime,
        "UTC": UTC,
        "MONTHS": _MONTHS,
        "zone": _zone,
    }
    exec("\n".join(lines), env)  # noqa: S102 - our own code
    return env["parse"]


_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}


@lru_cache(maxsize=1024)
def _zone(text: str) -> timezone:
    """The zone of a %z value (ValueError beyond a day's offset)."""
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return UTC if not offset else timezone(sign * offset)
