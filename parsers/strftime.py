"""strftime time formats compiled into one regular expression and a direct datetime build.

`datetime.strptime` re-reads its format on every call and is about half the work of parsing an
access log line; the usual directives (%Y %m %d %e %H %M %S %f %b %z and literal text) are
compiled once here instead. A format using any other directive returns None from `compile`, and
the caller keeps strptime.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

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
Parsed = Callable[[str], "tuple[str, datetime] | None"]
_UTC_ZONES = frozenset({"Z", "+0000", "+00:00", "-0000", "-00:00"})


def compile(pattern: str) -> Parsed | None:
    """A parser of `pattern` returning (RFC3339 UTC text with microseconds, aware UTC datetime),
    None when the text does not match; None when the pattern uses a directive this module does
    not know (or one twice).

    The parser is generated source: one fullmatch, the groups unpacked by position into ISO 8601
    text, which `datetime.fromisoformat` checks and reads in C (a datetime() of int()s and its
    isoformat cost several times as much)."""
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
    lines = [
        "def parse(text):",
        "    found = match(text)",
        "    if found is None:",
        "        return None",
        f"    {', '.join(letters)}{',' if len(letters) == 1 else ''} = found.groups()",
    ]
    if "m" in letters:
        month = "{m:0>2}"
    else:
        lines += [
            "    month = MONTHS.get(b.lower())",
            "    if month is None:",
            "        return None",
        ]
        month = "{month}"
    clock = ":".join(f"{{{x}:0>2}}" if x in letters else "00" for x in "HMS")
    fraction = "{f:0<6}" if "f" in letters else "000000"
    local = f'f"{{Y}}-{month}-{{d:0>2}}T{clock}.{fraction}"'
    if "z" not in letters:
        lines.append(f"    iso = {local} + 'Z'")
    else:  # a zone: UTC written directly, other offsets converted
        lines += [
            f"    iso = {local}",
            "    if z in UTC_ZONES:",
            "        iso += 'Z'",
            "    else:",
            "        try:",
            "            moment = fromisoformat(iso + z).astimezone(UTC)",
            "        except (ValueError, OverflowError):",
            "            return None",
            "        return format_utc(moment), moment",
        ]
    lines += [
        "    try:",
        "        return iso, fromisoformat(iso)",
        "    except ValueError:",
        "        return None",
    ]
    env = {
        "match": re.compile("".join(parts)).fullmatch,
        "fromisoformat": datetime.fromisoformat,
        "format_utc": _format_utc,
        "UTC": UTC,
        "UTC_ZONES": _UTC_ZONES,
        "MONTHS": _MONTHS,
    }
    exec("\n".join(lines), env)  # noqa: S102 - our own code
    return env["parse"]


_MONTHS = {name: f"{number:02d}" for number, name in enumerate(_MONTH_NAMES, 1)}


def _format_utc(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"
