"""The hostile corpus, the two read limits, wrong magic bytes, and what the store keeps."""

import gzip
import io
import tracemalloc

import pytest

from devtools.hostile import COUNTS, MB, corpus, gzip_bomb, hostile_lines
from events.models import Failure
from events.store import write_batch
from parsers import (
    Classifier,
    FailureKind,
    Origin,
    ParsedEvent,
    ParseFailure,
    default_registry,
    parse_stream,
)
from parsers.parser import MAX_NESTING
from parsers.streams import split
from sources.transports.aws import unwrap_sns

TELEPORT = default_registry().get("Gravitational.TeleportAudit").parser
EVENT = b'{"event":"user.login","code":"T1000I","time":"2026-11-27T10:00:00Z","user":"alice"'


def parse(body: bytes, key: str = "k.json.gz", **limits) -> list:
    origin = Origin("1", key, "v")
    return list(parse_stream(body, classifier=TELEPORT, origin=origin, **limits))


def test_the_corpus_has_ten_thousand_lines_of_every_category_the_same_on_every_run():
    lines = corpus()
    assert {name: len(category) for name, category in lines.items()} == COUNTS
    assert sum(COUNTS.values()) >= 10_000
    assert lines == corpus()
    assert list(hostile_lines("garbage", 50, seed=1)) != lines["garbage"][:50]
    for category in lines.values():
        assert all(b"\n" not in line and b"\r" not in line and line.strip() for line in category)
    assert any(len(line) > 16 * MB for line in lines["huge_lines"])


def test_a_gzip_bomb_is_read_only_up_to_the_object_limit():
    bomb = gzip_bomb(256 * MB, b'{"event":"x"}\n')
    assert len(bomb) < 512 * 1024
    results = parse(bomb, max_object_bytes=256 * 1024)
    stopped = results[-1]
    assert isinstance(stopped, ParseFailure)
    assert stopped.offset == 256 * 1024
    assert stopped.line == len(results)
    assert "larger than 262144 bytes decompressed (SLUICE_MAX_OBJECT_BYTES)" in stopped.error
    assert "k.json.gz" in stopped.error
    assert len(results) - 1 == 256 * 1024 // len(b'{"event":"x"}\n')


def test_a_gzip_bomb_is_read_in_flat_memory():
    bomb = gzip_bomb(256 * MB)
    tracemalloc.start()
    try:
        results = parse(bomb, max_object_bytes=64 * MB, max_line_bytes=1 * MB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.offset for r in results] == [64 * MB]
    assert peak < 16 * MB  # a few 1 MB chunks, never the 64 MB read nor the 256 MB


def test_an_object_exactly_at_the_limit_is_read_whole_one_byte_more_is_not():
    body = gzip.compress(EVENT + b"}\n")
    size = len(EVENT) + 2
    assert [type(r) for r in parse(body, max_object_bytes=size)] == [ParsedEvent]
    (stopped,) = parse(body, max_object_bytes=size - 1)
    assert (stopped.line, stopped.offset) == (1, size - 1)


@pytest.mark.parametrize("stream_type", ["lines", "json"])
def test_an_over_long_record_keeps_a_prefix_and_says_its_real_length(stream_type, monkeypatch):
    monkeypatch.setattr("parsers.streams.CHUNK_SIZE", 64)
    long = EVENT + b',"blob":"' + b"z" * 5000 + b'"}'
    body = EVENT + b"}\n" + long + b"\n" + EVENT + b"}\n"
    results = parse(body, "logs/a.jsonl", stream_type=stream_type, max_line_bytes=1000)
    assert [type(r) for r in results] == [ParsedEvent, ParseFailure, ParsedEvent]
    cut = results[1]
    assert cut.raw == long[:1000]
    assert f"record of {len(long)} bytes" in cut.error
    assert "1000-byte limit (SLUICE_MAX_LINE_BYTES)" in cut.error
    assert "logs/a.jsonl" in cut.error


def test_an_over_long_line_at_the_end_of_the_object_says_its_length(monkeypatch):
    monkeypatch.setattr("parsers.streams.CHUNK_SIZE", 64)
    records = list(split(io.BytesIO(b"{}\n" + b"x" * 700), "lines", max_line_bytes=100))
    assert records[-1].raw == b"x" * 100
    assert "record of 700 bytes" in records[-1].error


@pytest.mark.parametrize(
    ("key", "body", "magic"),
    [
        ("a.json.gz", b"PK\x03\x04" + bytes(range(40)), "gzip starts with 1f 8b"),
        ("a.json.zst", b"\x00\x01\x02\x03garbage", "zstd starts with 28 b5 2f fd"),
        ("a.bz2", b"\x89PNG\r\n\x1a\n", "bzip2 starts with 42 5a 68"),
    ],
)
def test_a_compressed_name_over_other_binary_data_fails_the_object_clearly(key, body, magic):
    (failure,) = parse(body, key)
    assert failure.kind == FailureKind.UNREADABLE  # the object fails (the ledger keeps the message)
    assert failure.offset == 0
    assert f"{key} is named" in failure.error
    assert magic in failure.error
    assert body[:4].hex(" ") in failure.error


def test_plain_text_under_a_gz_name_is_still_read():
    assert [type(r) for r in parse(EVENT + b"}\nnot json\n", "a.json.gz")] == [
        ParsedEvent,
        ParseFailure,
    ]


@pytest.mark.parametrize("body", [b"", gzip.compress(b""), b"\n\n  \n", gzip.compress(b"\n")])
def test_an_empty_object_yields_nothing(body):
    assert parse(body) == []


@pytest.mark.parametrize("classifier", ["parser", "classifier"])
def test_nesting_deeper_than_the_store_can_write_is_a_failure(classifier):
    origin = Origin("1", "k", "v")
    other = default_registry().get("Sluice.SSHAuth").parser
    parse_line = TELEPORT.parse if classifier == "parser" else Classifier([other, TELEPORT]).parse

    def nested(depth: int) -> bytes:  # `depth` levels in all, the event object included
        inner = depth - 1
        return EVENT + b',"x":' + b"[" * inner + b"1" + b"]" * inner + b"}"

    deepest = parse_line(nested(MAX_NESTING), origin, 1)
    too_deep = parse_line(nested(MAX_NESTING + 1), origin, 2)
    assert type(deepest) is ParsedEvent
    assert type(too_deep) is ParseFailure
    assert too_deep.error == f"JSON nested deeper than {MAX_NESTING} levels cannot be stored"


def test_an_sns_envelope_whose_message_is_not_text_is_not_unwrapped():
    for message in ("5", "null", '{"a": 1}', "[]"):
        body = '{"Type": "Notification", "Message": ' + message + "}"
        assert unwrap_sns(body) == body
    assert unwrap_sns('{"Type": "Notification", "Message": ""}') == ""


def test_nul_bytes_and_invalid_utf8_survive_in_stored_failures(db):
    raw = b'{"event":"\x00\xff\xfe\xed\xa0\x80","time":"\x00"}'
    failures = [
        ParseFailure(1, 0, "required field 'time' has an invalid value: \x00", raw),
        ParseFailure(2, 40, "invalid JSON", b"\x00" * 100),
    ]
    result = write_batch([], failures, source_id=None, object_key="k", object_version="v")
    assert result.failures == 2
    stored = {f.line: f for f in Failure.objects.all()}
    assert bytes(stored[1].raw) == raw
    assert bytes(stored[2].raw) == b"\x00" * 100
    assert stored[1].error == "required field 'time' has an invalid value: \\x00"
