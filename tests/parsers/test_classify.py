"""Several log types on one source."""

import orjson
import pytest

from parsers import Classifier, ParsedEvent, ParseFailure, default_registry

TELEPORT = orjson.dumps(
    {"event": "user.login", "code": "T1000I", "time": "2024-03-01T00:00:00Z", "user": "alice"}
)
SSH = orjson.dumps(
    {
        "ts": 1709251200,
        "host": "bastion-1",
        "user": "root",
        "src_ip": "198.51.100.4",
        "result": "failed",
        "method": "password",
    }
)


@pytest.fixture
def classifier():
    registry = default_registry()
    return Classifier([registry.get("Gravitational.TeleportAudit"), registry.get("Sluice.SSHAuth")])


def test_each_line_gets_the_log_type_that_accepts_it(classifier, origin):
    assert classifier.parse(TELEPORT, origin, 1).log_type == "Gravitational.TeleportAudit"
    ssh = classifier.parse(SSH, origin, 2)
    assert isinstance(ssh, ParsedEvent)
    assert ssh.log_type == "Sluice.SSHAuth"
    assert ssh.indicators == {
        "p_any_domain_names": ["bastion-1"],
        "p_any_usernames": ["root"],
        "p_any_ip_addresses": ["198.51.100.4"],
    }
    assert classifier.matches == {"Gravitational.TeleportAudit": 1, "Sluice.SSHAuth": 1}


def test_the_last_matched_log_type_is_tried_first(classifier, origin):
    classifier.parse(SSH, origin, 1)
    assert classifier.parsers[classifier._last].log_type == "Sluice.SSHAuth"
    classifier.parse(SSH, origin, 2)
    assert classifier.parsers[classifier._last].log_type == "Sluice.SSHAuth"
    classifier.parse(TELEPORT, origin, 3)
    assert classifier.parsers[classifier._last].log_type == "Gravitational.TeleportAudit"


def test_a_line_no_log_type_accepts_fails_with_every_reason(classifier, origin):
    failure = classifier.parse(b'{"user": "x"}', origin, 7)
    assert isinstance(failure, ParseFailure)
    assert failure.error.startswith("no log type matched (")
    assert "Gravitational.TeleportAudit: required field 'event' is missing" in failure.error
    assert "Sluice.SSHAuth: required field 'ts' is missing" in failure.error
    assert failure.raw == b'{"user": "x"}'
    assert failure.line == 7


def test_a_failed_attempt_does_not_spoil_the_next_one(classifier, origin):
    # Teleport is tried first and fails on this line; SSHAuth must see the original object.
    line = orjson.loads(SSH)
    line["time"] = "2024-03-01T00:00:00Z"
    result = classifier.parse(orjson.dumps(line), origin, 1)
    assert result.log_type == "Sluice.SSHAuth"
    assert result.extra == {"time": "2024-03-01T00:00:00Z"}


def test_invalid_json_is_one_failure(classifier, origin):
    failure = classifier.parse(b"{nope", origin, 3)
    assert isinstance(failure, ParseFailure)
    assert failure.error.startswith("invalid JSON")


def test_second_schema_proves_the_engine_is_generic(origin):
    parser = default_registry().get("Sluice.SSHAuth").parser
    line = orjson.dumps(
        {
            "ts": "1709251200.25",
            "host": "10.0.0.5",
            "pid": "4242",
            "user": "deploy",
            "src_ip": "2001:db8::7",
            "src_port": 50022,
            "method": "publickey",
            "result": "accepted",
            "key_fingerprint": "SHA256:abc",
            "duration_ms": "12.5",
            "tty": "false",
            "session": {"id": "sess-1", "started": "2024-03-01 00:00:01"},
            "tags": ["prod"],
            "geo": {"country": "NL"},
            "agent": "shipper/1.2",
        }
    )
    event = parser.parse(line, origin, 1)
    assert isinstance(event, ParsedEvent), event
    assert event.fields == {
        "ts": "2024-03-01T00:00:00.250000Z",
        "host": "10.0.0.5",
        "pid": 4242,
        "user": "deploy",
        "src_ip": "2001:db8::7",
        "src_port": 50022,
        "method": "publickey",
        "result": "accepted",
        "key_fingerprint": "SHA256:abc",
        "duration_ms": 12.5,
        "tty": False,
        "session": {"id": "sess-1", "started": "2024-03-01T00:00:01.000000Z"},
        "tags": ["prod"],
        "geo": {"country": "NL"},
    }
    assert event.extra == {"agent": "shipper/1.2"}
    assert event.indicators == {
        "p_any_ip_addresses": ["10.0.0.5", "2001:db8::7"],
        "p_any_usernames": ["deploy"],
        "p_any_sha256_hashes": ["SHA256:abc"],
        "p_any_trace_ids": ["sess-1"],
    }
    rejected = parser.parse(line.replace(b'"accepted"', b'"maybe"'), origin, 2)
    assert isinstance(rejected, ParseFailure)
    assert rejected.error == "required field 'result' has an invalid value: maybe"
