"""parse_stream: decompress + split + classify, the loop the CLI and the workers share."""

import bz2
import gzip
import io

import orjson
import pytest
import zstandard

from parsers import (
    Classifier,
    FailureKind,
    ParsedEvent,
    ParseFailure,
    ParseStats,
    default_registry,
    parse_stream,
)
from parsers.streams import SourceReadError

EVENT = {"event": "user.login", "code": "T1000I", "time": "2024-03-01T00:00:00Z", "x": 1}


@pytest.fixture
def teleport():
    return default_registry().get("Gravitational.TeleportAudit").parser


def body(count: int) -> bytes:
    return b"\n".join(orjson.dumps({**EVENT, "uid": str(i)}) for i in range(count)) + b"\n"


@pytest.mark.parametrize(
    "compress",
    [lambda b: b, gzip.compress, bz2.compress, lambda b: zstandard.ZstdCompressor().compress(b)],
)
def test_any_compression_gives_the_same_events(teleport, origin, compress):
    results = list(parse_stream(io.BytesIO(compress(body(30))), classifier=teleport, origin=origin))
    assert [r.fields["uid"] for r in results] == [str(i) for i in range(30)]
    assert len({r.row_id for r in results}) == 30


def test_reprocessing_gives_the_same_row_ids(teleport, origin):
    first = [r.row_id for r in parse_stream(body(5), classifier=teleport, origin=origin)]
    again = [
        r.row_id for r in parse_stream(gzip.compress(body(5)), classifier=teleport, origin=origin)
    ]
    assert first == again


def test_cloudwatch_body_through_the_classifier(origin):
    envelope = {
        "messageType": "DATA_MESSAGE",
        "logEvents": [{"id": "1", "timestamp": 0, "message": orjson.dumps(EVENT).decode()}],
    }
    classifier = Classifier([default_registry().get("Gravitational.TeleportAudit")])
    (result,) = parse_stream(
        gzip.compress(orjson.dumps(envelope)), classifier=classifier, origin=origin
    )
    assert isinstance(result, ParsedEvent)
    assert result.extra == {"x": 1}


def test_truncated_gzip_keeps_what_was_read_and_ends_with_one_failure(teleport, origin):
    data = gzip.compress(body(2000))
    results = list(parse_stream(data[: len(data) // 2], classifier=teleport, origin=origin))
    assert isinstance(results[-1], ParseFailure)
    assert results[-1].kind == FailureKind.STREAM_BREAK
    assert results[-1].error.startswith("gzip data ends early at decompressed byte")
    events = results[:-1]
    assert events
    assert all(isinstance(r, ParsedEvent) for r in events)
    assert results[-1].line == events[-1].line + 1


def test_a_failing_source_is_raised_for_a_retry(teleport, origin):
    class Flaky(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise ConnectionResetError("peer went away")

    with pytest.raises(SourceReadError) as caught:
        list(parse_stream(Flaky(), classifier=teleport, origin=origin))
    assert isinstance(caught.value.__cause__, ConnectionResetError)


def test_stats_count_events_failures_warnings_and_unknown_keys(teleport, origin):
    stats = ParseStats()
    lines = body(3) + b'{"event": 1}\n' + orjson.dumps({**EVENT, "ei": "many"}) + b"\n"
    for result in parse_stream(lines, classifier=teleport, origin=origin):
        stats.add(result)
    assert (stats.events, stats.failures, stats.warnings) == (4, 1, 1)
    assert stats.extra_keys == {"x": 4, "ei": 1}
    assert stats.by_log_type == {"Gravitational.TeleportAudit": 4}
