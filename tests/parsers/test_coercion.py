"""Coercion rules: what each column type accepts, and where values that do not fit go."""

from datetime import UTC, datetime

import orjson
import pytest

from parsers import ParsedEvent, ParseFailure

WHEN = "2024-03-01T10:00:00Z"


def event(parse, **values) -> ParsedEvent:
    result = parse({"when": WHEN, **values})
    assert isinstance(result, ParsedEvent), result
    return result


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        (200, "200"),
        (-1.5, "-1.5"),
        (True, "true"),
        (False, "false"),
        ({"b": 1, "a": [1, "x"]}, '{"b":1,"a":[1,"x"]}'),
        ([1, 2], "[1,2]"),
        ("", ""),
    ],
)
def test_string_columns_take_any_json_value_as_text(parse_all, value, text):
    assert event(parse_all, text=value).fields["text"] == text


@pytest.mark.parametrize(
    ("column", "value", "stored"),
    [
        ("count", 7, 7),
        ("count", "7", 7),
        ("count", " -12 ", -12),
        ("count", 3.0, 3),
        ("count", "3.0", 3),
        ("count", 2147483647, 2147483647),
        ("count", -2147483648, -2147483648),
        ("small", 32767, 32767),
        ("big", 4294967372, 4294967372),
        ("big", 9223372036854775807, 9223372036854775807),
        ("big", "-9223372036854775808", -9223372036854775808),
    ],
)
def test_integer_columns_take_integers_numeric_strings_and_integral_floats(
    parse_all, column, value, stored
):
    result = event(parse_all, **{column: value})
    assert result.fields[column] == stored
    assert type(result.fields[column]) is int
    assert (result.warnings, result.extra) == (0, {})


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("count", 2147483648),
        ("count", -2147483649),
        ("small", 32768),
        ("big", 9223372036854775808),
        ("count", 1.5),
        ("count", "1.5"),
        ("count", "12abc"),
        ("count", "1_000"),
        ("count", "\u0663"),
        ("count", True),
        ("count", [1]),
        ("count", {"n": 1}),
        ("ratio", "fast"),
        ("ratio", True),
        ("flag", "yes"),
        ("flag", 1),
        ("tags", "not-a-list"),
        ("tags", {"a": 1}),
        ("ports", [80, "http"]),
        ("peer", {"port": 22}),
        ("peer", "10.0.0.1"),
        ("embedded", "{not json"),
    ],
)
def test_values_that_do_not_fit_stay_in_extra_with_a_warning(parse_all, column, value):
    result = event(parse_all, **{column: value})
    assert column not in result.fields
    assert result.extra == {column: value}
    assert result.warnings == 1


def test_float_column(parse_all):
    result = event(parse_all, ratio=1)
    assert result.fields["ratio"] == 1.0
    assert type(result.fields["ratio"]) is float
    assert event(parse_all, ratio="2.5e3").fields["ratio"] == 2500.0
    assert event(parse_all, ratio=0.25).fields["ratio"] == 0.25


@pytest.mark.parametrize(
    ("value", "stored"), [(True, True), (False, False), ("true", True), ("FALSE", False)]
)
def test_boolean_column(parse_all, value, stored):
    assert event(parse_all, flag=value).fields["flag"] is stored


def test_json_column_keeps_any_value_as_it_is(parse_all):
    for value in [{"a": {"b": [1, None]}}, [1, "x"], "s", 3, False]:
        assert event(parse_all, blob=value).fields["blob"] == value


def test_embedded_json_is_decoded(parse_all):
    assert event(parse_all, embedded='{"a": [1, 2]}').fields["embedded"] == {"a": [1, 2]}
    assert event(parse_all, embedded={"already": "decoded"}).fields["embedded"] == {
        "already": "decoded"
    }


def test_arrays_coerce_each_element_and_drop_nulls(parse_all):
    result = event(parse_all, tags=["a", 1, True, None], ports=["80", 443])
    assert result.fields["tags"] == ["a", "1", "true"]
    assert result.fields["ports"] == [80, 443]


def test_objects_coerce_their_fields_and_feed_indicators(parse_all):
    result = event(parse_all, peer={"ip": "10.1.2.3", "port": "22"})
    assert result.fields["peer"] == {"ip": "10.1.2.3", "port": 22}
    assert result.indicators["p_any_ip_addresses"] == ["10.1.2.3"]


def test_null_is_absent(parse_all):
    result = event(parse_all, text=None, count=None, blob=None, tags=None, later=None)
    assert result.fields == {"when": "2024-03-01T10:00:00.000000Z"}
    assert (result.extra, result.warnings) == ({}, 0)


def test_unknown_keys_are_kept_in_extra(parse_all):
    result = event(parse_all, user_kind=1, device={"id": "x"}, nothing=None)
    assert result.extra == {"user_kind": 1, "device": {"id": "x"}, "nothing": None}
    assert result.warnings == 0


def test_column_names_replace_unsafe_characters(parse_all):
    result = event(parse_all, **{"addr.remote": "1.2.3.4:22"})
    assert result.fields["addr_remote"] == "1.2.3.4:22"
    assert "addr.remote" not in result.fields


def test_validation_allow_list_and_ip(parse_all):
    assert event(parse_all, method="password").fields["method"] == "password"
    rejected = event(parse_all, method="telepathy", client_ip="::1")
    assert rejected.extra == {"method": "telepathy", "client_ip": "::1"}
    assert rejected.warnings == 2
    assert event(parse_all, client_ip="192.0.2.1").fields["client_ip"] == "192.0.2.1"


def test_required_field_missing_or_invalid_makes_a_failure(parse_all):
    missing = parse_all({"text": "x"})
    assert isinstance(missing, ParseFailure)
    assert missing.error == "required field 'when' is missing"
    invalid = parse_all({"when": "yesterday"})
    assert isinstance(invalid, ParseFailure)
    assert invalid.error == "required field 'when' has an invalid value: yesterday"
    assert orjson.loads(invalid.raw) == {"when": "yesterday"}


def test_event_time_is_the_first_event_time_field_with_a_value(parse_all):
    result = event(parse_all, later="2024-03-02T00:00:00Z")
    assert result.event_time == datetime(2024, 3, 1, 10, tzinfo=UTC)


def test_event_time_falls_back_to_parse_time(all_types_parser, origin):
    from parsers import load_schema
    from parsers.parser import compile_schema

    parser = compile_schema(load_schema("schema: A.B\nfields:\n  - name: x\n    type: string\n"))
    result = parser.parse(b'{"x": "1"}', origin, 1)
    assert result.event_time == result.parse_time
    assert result.event_time.tzinfo is not None


def test_row_ids_are_deterministic_and_distinct(all_types_parser, origin):
    from parsers import Origin

    line = b'{"when": "2024-03-01T10:00:00Z"}'
    first = all_types_parser.parse(line, origin, 5).row_id
    assert first == all_types_parser.parse(line, origin, 5).row_id
    assert len(first) == 32
    assert int(first, 16) >= 0
    others = {
        all_types_parser.parse(line, origin, 6).row_id,
        all_types_parser.parse(line, Origin("source-1", origin.object_key, "etag-2"), 5).row_id,
        all_types_parser.parse(line, Origin("source-2", origin.object_key, "etag-1"), 5).row_id,
        all_types_parser.parse(line, origin, 2**40).row_id,
    }
    assert first not in others
    assert len(others) == 4


def test_to_json_dict_is_the_flat_normalized_event(parse_all):
    result = event(parse_all, **{"addr.remote": "[2001:db8::1]:22", "x": 1})
    out = result.to_json_dict()
    assert out["p_log_type"] == "Test.AllTypes"
    assert out["p_row_id"] == result.row_id
    assert out["p_event_time"] == "2024-03-01T10:00:00.000000Z"
    assert out["p_parse_time"].endswith("Z")
    assert len(out["p_parse_time"]) == 27
    assert out["p_any_ip_addresses"] == ["2001:db8::1"]
    assert out["p_extra"] == {"x": 1}
    assert out["addr_remote"] == "[2001:db8::1]:22"
    orjson.dumps(out)


def test_fast_and_reference_paths_agree_on_quirky_events(all_types_parser, origin):
    """The per-shape fast path must give exactly what the key-by-key reference gives."""
    events = [
        {"when": WHEN, "text": "a", "count": 1, "flag": True, "blob": {"a": 1}},
        {"when": WHEN, "text": 5, "count": "2", "flag": "true", "blob": None},
        {"when": WHEN, "text": None, "count": 2**40, "flag": 1, "blob": [1]},
        {"when": WHEN, "text": "a", "count": 1, "flag": True, "blob": {"a": 1}},
        {"when": "bad", "text": "a", "count": 1, "flag": True, "blob": {"a": 1}},
    ]
    for number, obj in enumerate(events):
        raw = orjson.dumps(obj)
        fast = all_types_parser.parse(raw, origin, number)
        reference = all_types_parser._build_generic(dict(obj), raw, origin, number, 0, None)
        assert type(fast) is type(reference)
        if isinstance(fast, ParsedEvent):
            assert (fast.fields, fast.extra, fast.indicators, fast.warnings) == (
                reference.fields,
                reference.extra,
                reference.indicators,
                reference.warnings,
            )
        else:
            assert fast.error == reference.error
