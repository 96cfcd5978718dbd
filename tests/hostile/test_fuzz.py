"""Fuzzing with hypothesis: the parser, the stream splitter with its limits, and the query language.
A short budget in CI; `SLUICE_FUZZ=1` (as `bin/hostile` sets it) runs SLUICE_FUZZ_EXAMPLES each."""

import gzip
import json

from hypothesis import given
from hypothesis import strategies as st

from devtools.hostile import corpus
from events.copyformat import copy_rows, dumps_json
from events.filters import to_q
from events.models import Event
from events.query import QueryError, parse
from parsers import (
    Classifier,
    FailureKind,
    Origin,
    ParsedEvent,
    ParseFailure,
    default_registry,
    parse_stream,
)

from .conftest import FUZZ, report

ORIGIN = Origin("fuzz", "fuzz.json.gz", "v1")
REGISTRY = default_registry()
TELEPORT = REGISTRY.get("Gravitational.TeleportAudit").parser
CLASSIFIER = Classifier([REGISTRY.get(name).parser for name in REGISTRY.names()])
SEEDS = [line for name, lines in corpus().items() if name != "huge_lines" for line in lines[:40]]
REQUIRED = {"event": "user.login", "code": "T1000I", "time": "2026-11-27T10:00:00Z"}

strings = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["\x00", "a\x00b", "\u202e", "\ufeff", "2026-13-45T99:99:99Z", "", "10.0.0.1:22"]
)
numbers = st.integers(min_value=-(2**200), max_value=2**200) | st.floats(allow_nan=False)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | strings,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(strings, children, max_size=3)
    ),
    max_leaves=10,
)


@st.composite
def deeply_nested(draw) -> bytes:
    depth = draw(st.integers(1, 2000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
    return opener * depth + b"1" + closer * draw(st.integers(0, depth))


@st.composite
def hostile_line(draw) -> bytes:
    """A JSON event with hostile values, a mutated corpus line, nesting, or any bytes."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        event = {**REQUIRED, **draw(st.dictionaries(strings, json_values, max_size=6))}
        return json.dumps(event, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if kind == 1:
        line = bytearray(draw(st.sampled_from(SEEDS)))
        for _ in range(draw(st.integers(0, 4))):
            at = draw(st.integers(0, len(line)))
            line[at:at] = draw(st.binary(min_size=1, max_size=3))
        return bytes(line)
    if kind == 2:
        prefix = json.dumps(REQUIRED).encode()[:-1] + b',"x":'
        return draw(st.sampled_from([b"", prefix])) + draw(deeply_nested()) + b"}"
    return draw(st.binary(max_size=200))


def assert_storable(result) -> None:
    """An event can be written by the store's encoders; a failure keeps the exact input."""
    if type(result) is ParsedEvent:
        copy_rows([result], 1, ORIGIN.object_key, ORIGIN.version)
        dumps_json(result.fields)
        dumps_json(result.extra)
    else:
        assert isinstance(result, ParseFailure)


def assert_every_line_counted(body: bytes, results: list) -> None:
    """A JSON-lines body: each line that is not blank is exactly one event or one failure
    (events + failures = lines), unless the stream itself ended early (a limit, a break)."""
    lines = body.split(b"\n")
    blank = {
        number
        for number, line in enumerate(lines, 1)
        if not (line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line).strip()
    }
    numbers = [result.line for result in results]
    assert len(numbers) == len(set(numbers))  # no line twice
    if results and type(results[-1]) is ParseFailure and results[-1].kind != FailureKind.RECORD:
        return  # the stream stopped there: the lines after it are not read, by design
    if results and "SLUICE_MAX_OBJECT_BYTES" in getattr(results[-1], "error", ""):
        return
    assert set(numbers) | blank == set(range(1, len(lines) + 1))
    assert not set(numbers) & blank


def test_the_parser_turns_any_line_into_a_storable_event_or_a_failure():
    seen = []

    @FUZZ
    @given(hostile_line())
    def check(raw: bytes) -> None:
        seen.append(raw)
        for parser in (TELEPORT, CLASSIFIER):
            result = parser.parse(raw, ORIGIN, 1)
            assert_storable(result)
            if type(result) is ParseFailure:
                assert result.raw == raw

    check()
    report("fuzz", "parser: any line (hypothesis)", lines=len(seen), outcome="no exception")


def test_any_body_with_any_limits_is_split_into_counted_records():
    seen = []

    @FUZZ
    @given(
        st.lists(hostile_line(), max_size=8),
        st.sampled_from([b"\n", b"\r\n", b"", b","]),
        st.sampled_from(["auto", "lines", "json", "json_array", "cloudwatch"]),
        st.booleans(),
        st.integers(8, 4096),
        st.integers(16, 1 << 16),
    )
    def check(lines, separator, stream_type, compress, max_line, max_object) -> None:
        body = separator.join(lines)
        seen.append(body)
        if compress:
            body = gzip.compress(body)
        results = list(
            parse_stream(
                body,
                classifier=TELEPORT,
                origin=ORIGIN,
                stream_type=stream_type,
                max_line_bytes=max_line,
                max_object_bytes=max_object,
            )
        )
        numbers = [r.line for r in results]
        assert numbers == sorted(numbers)
        for result in results:
            assert_storable(result)
            if type(result) is ParseFailure and (
                result.kind != FailureKind.RECORD or "SLUICE_MAX_OBJECT_BYTES" in result.error
            ):
                assert result is results[-1]  # the object ends there, once
                assert result.offset >= 0
            elif type(result) is ParseFailure:
                assert len(result.raw) <= max(max_line, len(body) * 8)
        if stream_type == "lines" and separator in (b"\n", b"\r\n"):
            assert_every_line_counted(separator.join(lines), results)

    check()
    report(
        "fuzz",
        "streams: any body, stream type and limits",
        lines=len(seen),
        outcome="no exception; limit failures last",
    )


QUERY_PIECES = st.sampled_from(
    [
        "event", "user", "time", "ei", "addr.remote", "p_event_time", "source", "ip", "log_type",
        "p_row_id", "p_any_ip_addresses", ":", ">", ">=", "<", "<=", "*", "\\", '"', "(", ")",
        "-", "NOT", "AND", "OR", " ", "1", "-1e999", "9" * 30, "true", "2026-11-27T10:00:00Z",
        "2026-13-45", "\x00", "%", "_", "'", ";", "é", "\u202e", "a.b.c", "@",
    ]
)  # fmt: skip
queries = st.lists(QUERY_PIECES | st.text(max_size=3), max_size=30).map("".join)


def test_any_query_parses_or_points_at_its_error_and_runs(db):
    outcomes = {"ran": 0, "refused": 0}

    @FUZZ
    @given(queries)
    def check(text: str) -> None:
        try:
            q = to_q(parse(text))
        except QueryError as exc:
            error = exc
        else:
            Event.objects.filter(q).count()
            outcomes["ran"] += 1
            return
        assert 0 <= error.position <= len(text)
        assert str(error)
        outcomes["refused"] += 1

    check()
    report(
        "fuzz",
        "query language: any text (parse, compile, run)",
        lines=sum(outcomes.values()),
        outcome=f"{outcomes['ran']} ran, {outcomes['refused']} refused with a position",
    )
