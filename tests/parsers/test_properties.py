"""Property-based: hostile input never raises, and every line is accounted for exactly once."""

import gzip
import io
import json

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import Origin, ParsedEvent, ParseFailure, default_registry, parse_stream
from parsers.parser import _loads
from parsers.streams import split

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ORIGIN = Origin("prop", "key", "v1")
TELEPORT = default_registry().get("Gravitational.TeleportAudit").parser
GOOD = {
    "event": "session.start",
    "code": "T2000I",
    "time": "2024-03-01T00:00:00.123Z",
    "addr.remote": "10.0.0.1:22",
    "ei": 5,
    "sid": "abc",
    "argv": ["-l"],
    "success": True,
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
schema_keys = st.sampled_from([f.name for f in TELEPORT.schema.fields])
events = st.dictionaries(schema_keys | st.text(max_size=10), json_values, max_size=12).map(
    lambda extra: {**GOOD, **extra}
)


@st.composite
def mutated_lines(draw):
    line = bytearray(encode(draw(events)))
    for _ in range(draw(st.integers(0, 3))):
        if not line:
            break
        at = draw(st.integers(0, len(line) - 1))
        action = draw(st.sampled_from(["flip", "drop", "insert"]))
        if action == "flip":
            line[at] = draw(st.integers(0, 255))
        elif action == "drop":
            del line[at]
        else:
            line.insert(at, draw(st.integers(0, 255)))
    return bytes(line)


def encode(value, indent=None) -> bytes:
    """The stdlib encoder: unlike orjson it writes integers beyond 64 bits, as logs may."""
    return json.dumps(value, indent=indent, ensure_ascii=False).encode()


lines = st.one_of(mutated_lines(), st.binary(max_size=80), events.map(encode))


@SETTINGS
@given(events)
def test_any_event_shape_parses_without_raising(event):
    result = TELEPORT.parse(encode(event), ORIGIN, 1)
    assert isinstance(result, ParsedEvent | ParseFailure)
    if isinstance(result, ParsedEvent):
        json.dumps(result.to_json_dict())
        reference = TELEPORT._build_generic(
            _loads(encode(event)), b"", ORIGIN, 1, 0, result.parse_time
        )
        assert (result.fields, result.extra, result.indicators, result.warnings) == (
            reference.fields,
            reference.extra,
            reference.indicators,
            reference.warnings,
        )


@SETTINGS
@given(st.lists(lines, max_size=12), st.sampled_from([b"\n", b"\r\n"]), st.booleans())
def test_every_line_is_one_event_one_failure_or_one_skipped_blank(batch, newline, compress):
    batch = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in batch]
    body = newline.join(batch)
    if compress:
        body = gzip.compress(body)
    results = list(
        parse_stream(io.BytesIO(body), classifier=TELEPORT, origin=ORIGIN, stream_type="lines")
    )
    # a UTF-8 byte order mark opening the body is dropped
    blank = {
        number
        for number, line in enumerate(batch, 1)
        if not (line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line).strip()
    }
    seen = [r.line for r in results]
    assert sorted(seen) == seen  # input order
    if results and isinstance(results[-1], ParseFailure) and results[-1].kind != "record":
        return  # a broken or unreadable compressed body: what came before it is checked above
    assert set(seen) | blank == set(range(1, len(batch) + 1))
    assert len(seen) == len(set(seen))
    assert not set(seen) & blank
    for result in results:
        if isinstance(result, ParseFailure) and result.kind != "record":
            # the body starts with compression magic bytes: the stream ends with one failure
            assert result.kind == "stream_break"
            assert "data ends early" in result.error or "data is corrupt" in result.error
            assert result is results[-1]
        elif isinstance(result, ParseFailure):
            assert result.raw == batch[result.line - 1].rstrip(b"\r")
            orjson.dumps(result.to_json_dict())
        else:
            json.dumps(result.to_json_dict())


@SETTINGS
@given(
    st.binary(max_size=300), st.sampled_from(["auto", "lines", "json", "json_array", "cloudwatch"])
)
def test_any_bytes_in_any_stream_type_never_raise(body, stream_type):
    for result in parse_stream(body, classifier=TELEPORT, origin=ORIGIN, stream_type=stream_type):
        assert isinstance(result, ParsedEvent | ParseFailure)


@SETTINGS
@given(st.lists(events, max_size=6), st.sampled_from(["json", "json_array", "auto"]))
def test_json_streams_yield_each_object_once(batch, stream_type):
    if stream_type == "json_array":
        body = encode(batch)
    else:
        body = b"\n".join(encode(e, indent=2) for e in batch)
    assert [json.loads(r.raw) for r in split(body, stream_type)] == batch
