"""Timestamp formats, normalized to RFC3339 UTC with microseconds (nanoseconds when the source
wrote more than six digits, as Teleport does) and a trailing Z."""

from datetime import UTC, datetime

import pytest

from parsers.timestamps import ZERO_TIME, compile_time_formats, format_utc, parse_rfc3339


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("2020-08-07T07:52:09Z", "2020-08-07T07:52:09.000000Z"),
        ("2020-08-07T07:52:09.8Z", "2020-08-07T07:52:09.800000Z"),
        ("2020-08-07T07:52:09.82Z", "2020-08-07T07:52:09.820000Z"),
        ("2020-08-07T07:52:09.821Z", "2020-08-07T07:52:09.821000Z"),
        ("2020-08-07T07:52:09.8216Z", "2020-08-07T07:52:09.821600Z"),
        ("2020-08-07T07:52:09.82163Z", "2020-08-07T07:52:09.821630Z"),
        ("2020-08-07T07:52:09.821638Z", "2020-08-07T07:52:09.821638Z"),
        ("2020-08-07T07:52:09.8216381Z", "2020-08-07T07:52:09.821638100Z"),
        ("2020-08-07T07:52:09.82163813Z", "2020-08-07T07:52:09.821638130Z"),
        ("2020-08-07T07:52:09.817638134Z", "2020-08-07T07:52:09.817638134Z"),
        ("2020-08-07T09:52:09.817638134+02:00", "2020-08-07T07:52:09.817638134Z"),
        ("2020-08-07 07:52:09.817638134Z", "2020-08-07T07:52:09.817638134Z"),
        ("2020-08-07t07:52:09z", "2020-08-07T07:52:09.000000Z"),
        ("2020-08-07 07:52:09Z", "2020-08-07T07:52:09.000000Z"),
        ("2020-08-07T09:52:09.5+02:00", "2020-08-07T07:52:09.500000Z"),
        ("2020-08-07T01:22:09-06:30", "2020-08-07T07:52:09.000000Z"),
        ("2020-12-31T23:30:00-01:00", "2021-01-01T00:30:00.000000Z"),
        ("2020-08-07T07:52:09+00:00", "2020-08-07T07:52:09.000000Z"),
    ],
)
def test_rfc3339_with_0_to_9_fractional_digits_and_offsets(text, normalized):
    result = parse_rfc3339(text)
    assert result is not None
    assert result is not ZERO_TIME
    assert result[0] == normalized
    assert result[1].tzinfo is not None
    assert result[1].utcoffset().total_seconds() == 0
    assert format_utc(result[1]) == normalized[:26] + "Z"  # the datetime: microseconds


@pytest.mark.parametrize(
    "text",
    [
        "2020-08-07",
        "2020-08-07T07:52:09",
        "2020-08-07T07:52:09.Z",
        "2020-08-07T07:52:09.1234567890Z",
        "2020-13-07T07:52:09Z",
        "2020-02-30T07:52:09Z",
        "2020-08-07T25:52:09Z",
        "2020-08-07T07:52:09+0200",
        "20200807T075209Z",
        " 2020-08-07T07:52:09Z",
        "",
        "yesterday",
        "2024-03-01T00:00:50.0a2Z",
        "2024-03-01T0a:00:50Z",
        "2024-03-01T00:00:50.+12Z",
        "2024-03-01T00:00:50.12345678\u0663Z",
        "\u0662\u0660\u0662\u0664-03-01T00:00:50Z",
        "2024-03-01T00:00:50,123Z",
        "2024-03-01x00:00:50Z",
    ],
)
def test_not_rfc3339(text):
    assert parse_rfc3339(text) is None


def test_go_zero_time_means_unset():
    assert parse_rfc3339("0001-01-01T00:00:00Z") is ZERO_TIME
    assert parse_rfc3339("0001-01-01T00:00:00.000Z") is ZERO_TIME


def test_non_strings_are_not_rfc3339():
    assert parse_rfc3339(1596786729) is None
    assert parse_rfc3339(None) is None


@pytest.mark.parametrize(
    ("fmt", "value", "normalized"),
    [
        ("unix", 1596786729, "2020-08-07T07:52:09.000000Z"),
        ("unix", 1596786729.821, "2020-08-07T07:52:09.821000Z"),
        ("unix", "1596786729.5", "2020-08-07T07:52:09.500000Z"),
        ("unix", 0, "1970-01-01T00:00:00.000000Z"),
        ("unix", -1, "1969-12-31T23:59:59.000000Z"),
        ("unix_ms", 1596786729821, "2020-08-07T07:52:09.821000Z"),
        ("unix_ms", "1596786729821", "2020-08-07T07:52:09.821000Z"),
        ("unix_us", 1596786729821638, "2020-08-07T07:52:09.821638Z"),
        ("unix_ns", 1596786729817638134, "2020-08-07T07:52:09.817638Z"),
        ("unix_ns", "1596786729817638134", "2020-08-07T07:52:09.817638Z"),
        ("%Y-%m-%d %H:%M:%S", "2020-08-07 07:52:09", "2020-08-07T07:52:09.000000Z"),
        ("%d/%b/%Y:%H:%M:%S %z", "07/Aug/2020:09:52:09 +0200", "2020-08-07T07:52:09.000000Z"),
    ],
)
def test_unix_and_strftime_formats(fmt, value, normalized):
    result = compile_time_formats((fmt,))(value)
    assert result is not None
    assert result[0] == normalized


@pytest.mark.parametrize(
    ("fmt", "value"),
    [
        ("unix", "12abc"),
        ("unix", True),
        ("unix", float("nan")),
        ("unix", 10**30),
        ("unix_ms", [1]),
        ("%Y-%m-%d %H:%M:%S", "2020-08-07T07:52:09Z"),
        ("%Y-%m-%d %H:%M:%S", 1596786729),
    ],
)
def test_values_not_matching_a_format(fmt, value):
    assert compile_time_formats((fmt,))(value) is None


def test_formats_are_tried_in_order():
    parse = compile_time_formats(("rfc3339", "unix"))
    assert parse("2020-08-07T07:52:09Z")[0] == "2020-08-07T07:52:09.000000Z"
    assert parse(1596786729)[0] == "2020-08-07T07:52:09.000000Z"
    assert parse("soon") is None


def test_format_utc_pads_small_years():
    assert format_utc(datetime(33, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == "0033-01-02T03:04:05.000006Z"
