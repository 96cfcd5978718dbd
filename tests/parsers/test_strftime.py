"""The compiled strftime formats agree with datetime.strptime wherever they answer."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import strftime
from parsers.timestamps import format_utc, time_parser

FORMATS = [
    "%d/%b/%Y:%H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%b %d %Y %H:%M:%S",
    "%Y%m%d%H%M%S",
]


def reference(text: str, pattern: str) -> datetime | None:
    try:
        dt = datetime.strptime(text, pattern)
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


@pytest.mark.parametrize("pattern", FORMATS)
@settings(deadline=None)  # no wall-clock limit: the machine may be busy
@given(moment=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)))
def test_formatted_times_parse_as_strptime_parses_them(pattern, moment):
    text = moment.strftime(pattern.replace("%z", "+0130"))
    fast = strftime.compile(pattern)
    assert fast is not None
    expected = reference(text, pattern)
    assert fast(text) == (format_utc(expected), expected)


@pytest.mark.parametrize(
    "text", ["32/Nov/2026:10:00:00 +0000", "27/Foo/2026:10:00:00 +0000", "27/Nov/2026 10:00"]
)
def test_impossible_dates_and_other_text_do_not_parse(text):
    assert strftime.compile("%d/%b/%Y:%H:%M:%S %z")(text) is None
    assert time_parser("%d/%b/%Y:%H:%M:%S %z")(text) is None


def test_unknown_directives_are_left_to_strptime():
    assert strftime.compile("%Y-%j") is None
    assert time_parser("%Y-%j")("2026-331")[0] == "2026-11-27T00:00:00.000000Z"
