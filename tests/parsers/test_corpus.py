"""Conformance on real Teleport audit events (../shared/corpus; skipped when absent)."""

from datetime import datetime

import orjson
import pytest

from parsers import ParsedEvent, default_registry, parse_stream
from parsers.schema import Field
from tests.parsers.conftest import corpus_file

# The only lines allowed to fail: events that truly lack a required field.
ALLOWED_FAILURES = {
    "elastic_teleport_inputs.jsonl": {},
    "teleport_real_events.jsonl": {
        4: "required field 'code' is missing",  # a session "print" chunk: no code, no uid
        207: "required field 'code' is missing",  # docs example session.exec without a code
        208: "required field 'code' is missing",
        209: "required field 'code' is missing",  # docs example session.open without a code
        210: "required field 'code' is missing",
    },
}

INT_RANGES = {"smallint": 2**15, "int": 2**31, "bigint": 2**63}


@pytest.fixture(scope="module")
def teleport():
    return default_registry().get("Gravitational.TeleportAudit")


def check_type(field: Field, value) -> None:
    """Every stored value has its column's type."""
    if field.type == "string":
        assert type(value) is str
    elif field.type in INT_RANGES:
        assert type(value) is int
        assert -INT_RANGES[field.type] <= value < INT_RANGES[field.type]
    elif field.type == "float":
        assert type(value) is float
    elif field.type == "boolean":
        assert type(value) is bool
    elif field.type == "timestamp":
        assert value.endswith("Z")
        assert len(value) in {27, 30}  # microseconds, or the nanoseconds the source wrote
        datetime.fromisoformat(value[:26] + "Z")
    elif field.type == "array":
        assert type(value) is list
        for item in value:
            check_type(field.element, item)
    elif field.type == "object":
        assert type(value) is dict
    else:
        orjson.dumps(value)


@pytest.mark.parametrize("name", sorted(ALLOWED_FAILURES))
def test_every_corpus_event_parses_with_typed_columns(teleport, origin, name):
    path = corpus_file(name)
    parser = teleport.parser
    by_column = {f.column: f for f in teleport.schema.fields}
    failures = {}
    events = 0
    with path.open("rb") as body:
        for result in parse_stream(body, classifier=parser, origin=origin, stream_type="lines"):
            if not isinstance(result, ParsedEvent):
                failures[result.line] = result.error
                continue
            events += 1
            for column, value in result.fields.items():
                check_type(by_column[column], value)
            orjson.dumps(result.to_json_dict())
    assert failures == ALLOWED_FAILURES[name]
    lines = sum(1 for line in path.read_bytes().splitlines() if line.strip())
    assert events + len(failures) == lines


@pytest.mark.parametrize("name", sorted(ALLOWED_FAILURES))
def test_nothing_is_lost(teleport, origin, name):
    """Every input key is either a column (possibly renamed/normalized) or in p_extra."""
    path = corpus_file(name)
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        result = teleport.parser.parse(line, origin, number)
        if not isinstance(result, ParsedEvent):
            continue
        original = orjson.loads(line)
        columns = {f.name: f.column for f in teleport.schema.fields}
        for key, value in original.items():
            if value is None:
                continue
            kept = key in result.extra or columns.get(key) in result.fields
            zero_time = value == "0001-01-01T00:00:00Z"
            assert kept or zero_time, (number, key)


def test_panther_v1_oracle(teleport, origin):
    inputs = corpus_file("panther_v1_inputs.jsonl").read_bytes().splitlines()
    expected = [
        orjson.loads(x)["result"]
        for x in corpus_file("panther_v1_expected.jsonl").read_bytes().splitlines()
    ]
    assert len(inputs) == len(expected) == 10
    for number, (line, want) in enumerate(zip(inputs, expected, strict=True), 1):
        event = teleport.parser.parse(line, origin, number)
        assert isinstance(event, ParsedEvent)
        out = event.to_json_dict()
        want_time = datetime.fromisoformat(want["p_event_time"])
        assert event.event_time == want_time, want.get("name", number)
        indicators = {k: sorted(v) for k, v in want.items() if k.startswith("p_any_")}
        assert {k: v for k, v in out.items() if k.startswith("p_any_")} == indicators


def test_quirks_listed_in_the_corpus_readme(teleport, origin):
    parse = teleport.parser.parse
    base = {"event": "exec", "code": "T3002I", "time": "2024-03-01T00:00:00Z"}
    event = parse(
        orjson.dumps(
            {
                **base,
                "exitCode": "0",
                "dst_port": "3000",
                "status_code": 200,
                "ei": 2147483647,
                "cgroup_id": 4294967372,
                "expires": "0001-01-01T00:00:00Z",
                "user": {"name": "device-user"},
                "action": 1,
            }
        ),
        origin,
        1,
    )
    assert event.fields["exitCode"] == 0
    assert event.fields["dst_port"] == 3000
    assert event.fields["status_code"] == "200"
    assert event.fields["ei"] == 2147483647
    assert event.fields["cgroup_id"] == 4294967372
    assert "expires" not in event.fields
    assert "expires" not in event.extra
    assert event.fields["user"] == '{"name":"device-user"}'
    assert event.fields["action"] == "1"
    integer_expiry = parse(orjson.dumps({**base, "expires": 1709251200}), origin, 2)
    assert integer_expiry.extra == {"expires": 1709251200}
    assert integer_expiry.warnings == 1
