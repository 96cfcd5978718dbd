"""The generated fast paths give exactly what the one-key-at-a-time reference path gives."""

import gc
import hashlib
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import Classifier, ParsedEvent
from parsers.parser import compile_schema
from parsers.timestamps import parse_rfc3339

MILLIS = "2024-03-01T10:20:30.123Z"
MICROS = "2024-03-01T10:20:30.123456Z"
EDGE_TIMES = [
    MILLIS,
    MICROS,
    "0001-01-01T00:00:00.000Z",  # Go's zero time: unset
    "0001-01-01T00:00:00.000000Z",
    "2024-02-30T10:20:30.123Z",  # right layout, impossible date
    "2024-03-01T24:20:30.123Z",
    "2024-03-01T10:20:30.1a3Z",  # right separators, a letter among the digits
    "2024-03-01T10:20:30.12345aZ",
    "2024-03-01 10:20:30.123Z",  # space separator: the full parser's business
    "2024-03-01T10:20:30.123+02:00",
    "2024-03-01T10:20:30.123456789Z",
    "2024-03-01T10:20:30Z",
    "2024-W09-5T10:20:30.123Z",  # ISO week date: fromisoformat reads it, RFC3339 does not
    "2024-03-01T10:20:30.123z",
    "２０２４-03-01T10:20:30.123Z",  # non-ASCII digits
    "",
]


def both_paths(parser, origin, event):
    """(fast path result, reference result) for one event, same parse time."""
    now = datetime(2026, 1, 2, tzinfo=UTC)
    first = parser.parse(orjson.dumps(event), origin, 7, parse_time=now)  # a new shape: generic
    fast = parser.parse(orjson.dumps(event), origin, 7, parse_time=now)  # seen again: compiled
    assert fast == first
    if not isinstance(fast, ParsedEvent):
        reference = parser._build_generic(event, b"", origin, 7, 0, None)
        assert not isinstance(reference, ParsedEvent)
        return fast, reference
    reference = parser._build_generic(dict(event), b"", origin, 7, 0, fast.parse_time)
    return fast, reference


def same_event(fast, reference):
    assert (fast.fields, fast.extra, fast.indicators, fast.warnings, fast.event_time) == (
        reference.fields,
        reference.extra,
        reference.indicators,
        reference.warnings,
        reference.event_time,
    )


@pytest.mark.parametrize("value", EDGE_TIMES)
def test_generated_timestamps_match_the_reference_on_edge_values(all_types_parser, origin, value):
    event = {"when": MILLIS, "later": value, "text": "x"}
    fast, reference = both_paths(all_types_parser, origin, event)
    same_event(fast, reference)
    parsed = parse_rfc3339(value)
    if parsed is None:
        assert fast.extra == {"later": value}
        assert fast.warnings == 1
    elif isinstance(parsed, tuple):
        assert fast.fields["later"] == parsed[0]


@pytest.mark.parametrize("value", EDGE_TIMES)
def test_generated_event_time_matches_the_reference(all_types_parser, origin, value):
    fast, reference = both_paths(all_types_parser, origin, {"when": value, "text": "x"})
    if isinstance(fast, ParsedEvent):
        same_event(fast, reference)
        assert fast.event_time == parse_rfc3339(value)[1]
    else:
        assert "when" in fast.error


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from([MILLIS, MICROS]),
    st.lists(st.tuples(st.integers(0, 26), st.characters(codec="utf-8")), max_size=3),
)
def test_generated_timestamps_match_the_reference_on_mutated_values(
    all_types_parser, origin, template, edits
):
    value = list(template)
    for at, char in edits:
        value[at % len(value)] = char
    event = {"when": MILLIS, "later": "".join(value)}
    same_event(*both_paths(all_types_parser, origin, event))


def test_one_scanner_source_needs_no_sorting(all_types_parser, origin):
    fast, reference = both_paths(
        all_types_parser, origin, {"when": MILLIS, "addr.remote": "10.0.0.9:22"}
    )
    same_event(fast, reference)
    assert fast.indicators == {"p_any_ip_addresses": ["10.0.0.9"]}


def test_several_sources_are_sorted_and_unique(all_types_parser, origin):
    event = {
        "when": MILLIS,
        "addr.remote": "10.0.0.9:22",
        "peer": {"ip": "10.0.0.1"},
        "client_ip": "10.0.0.9",
    }
    fast, reference = both_paths(all_types_parser, origin, event)
    same_event(fast, reference)
    assert fast.indicators == {"p_any_ip_addresses": ["10.0.0.1", "10.0.0.9"]}


def test_row_id_is_the_origin_hash_then_the_line_in_hex(all_types_parser, origin):
    key = "\x00".join((origin.source_id, origin.object_key, origin.version)).encode()
    prefix = hashlib.blake2b(key, digest_size=12).hexdigest()
    for line in (0, 1, 255, 0xFFFFFFFF):
        result = all_types_parser.parse(orjson.dumps({"when": MILLIS}), origin, line)
        assert result.row_id == f"{prefix}{line:08x}"


def test_a_single_log_type_classifier_is_the_parser_itself(all_types_parser, origin):
    classifier = Classifier([all_types_parser])
    lines = [orjson.dumps({"when": MILLIS, "count": 3}), b"not json", b"[1]", b'{"count": 1}']
    now = datetime(2026, 1, 2, tzinfo=UTC)
    for number, raw in enumerate(lines, 1):
        direct = all_types_parser.parse(raw, origin, number, offset=10, parse_time=now)
        assert classifier.parse(raw, origin, number, offset=10, parse_time=now) == direct
    assert classifier.matches == {"Test.AllTypes": 1}


def test_events_stay_out_of_the_cycle_collector(all_types_parser, origin):
    event = all_types_parser.parse(orjson.dumps({"when": MILLIS}), origin, 1)
    assert not gc.is_tracked(event)


def test_a_shape_is_compiled_only_when_it_comes_again(all_types_parser, origin):
    parser = compile_schema(all_types_parser.schema)
    line = orjson.dumps({"when": MILLIS, "addr.remote": "10.0.0.9:22", "x_once": 1})
    first = parser.parse(line, origin, 1)
    assert parser._plans == {}
    second = parser.parse(line, origin, 2)
    assert len(parser._plans) == 1
    assert (first.fields, first.extra, first.indicators) == (
        second.fields,
        second.extra,
        second.indicators,
    )


def test_lines_of_one_off_key_sets_compile_nothing(all_types_parser, origin):
    parser = compile_schema(all_types_parser.schema)
    for index in range(200):
        event = {"when": MILLIS, f"x_{index}": index, "addr.remote": "10.0.0.9:22"}
        result = parser.parse(orjson.dumps(event), origin, index)
        assert result.extra == {f"x_{index}": index}
        assert result.indicators == {"p_any_ip_addresses": ["10.0.0.9"]}
    assert parser._plans == {}
