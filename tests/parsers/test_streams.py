"""Decompression by magic bytes and splitting by stream type."""

import bz2
import gzip
import io

import orjson
import pytest
import zstandard

from parsers.streams import RawLine, detect_compression, open_decompressed, split

BODY = b'{"a":1}\n{"a":2}\n'


def raws(records):
    return [r.raw for r in records]


@pytest.mark.parametrize(
    ("compress", "kind"),
    [
        (lambda b: b, "none"),
        (gzip.compress, "gzip"),
        (lambda b: gzip.compress(b[:8]) + gzip.compress(b[8:]), "gzip"),  # multi-member
        (lambda b: zstandard.ZstdCompressor().compress(b), "zstd"),
        (
            lambda b: (
                zstandard.ZstdCompressor().compress(b[:8])
                + zstandard.ZstdCompressor().compress(b[8:])
            ),
            "zstd",
        ),
        (bz2.compress, "bzip2"),
    ],
)
def test_decompression_is_detected_from_magic_bytes(compress, kind):
    data = compress(BODY)
    assert detect_compression(data[:4]) == kind
    assert open_decompressed(io.BytesIO(data)).read() == BODY


def test_decompression_streams_in_chunks():
    many = b"".join(b'{"n":%d}\n' % i for i in range(200_000))
    compressed = gzip.compress(many)
    stream = open_decompressed(io.BytesIO(compressed))
    assert stream.read(1000) == many[:1000]
    records = split(open_decompressed(io.BytesIO(compressed)), "lines")
    assert next(records) == (1, 0, b'{"n":0}', None)
    assert sum(1 for _ in records) == 199_999


def test_tiny_and_empty_inputs():
    assert open_decompressed(io.BytesIO(b"")).read() == b""
    assert open_decompressed(io.BytesIO(b"{}")).read() == b"{}"
    assert list(split(b"", "auto")) == []


def test_lines_numbers_offsets_blank_lines_and_crlf():
    body = b'{"a":1}\r\n\r\n   \n  {"a":2}  \n{"a":3}'
    records = list(split(body, "lines"))
    assert [(r.line, r.offset) for r in records] == [(1, 0), (4, 15), (5, 27)]
    assert raws(records) == [b'{"a":1}', b'  {"a":2}  ', b'{"a":3}']
    assert all(r.error is None for r in records)


def test_lines_keep_invalid_utf8_verbatim():
    body = b'{"a":"\xff\xfe"}\nnot json \xc3\x28\n'
    assert raws(split(body, "lines")) == [b'{"a":"\xff\xfe"}', b"not json \xc3\x28"]


def test_lines_across_chunk_boundaries(monkeypatch):
    monkeypatch.setattr("parsers.streams.CHUNK_SIZE", 7)
    lines = [b'{"n":%d,"pad":"%s"}' % (i, b"x" * i) for i in range(30)]
    records = list(split(io.BytesIO(b"\n".join(lines)), "lines"))
    assert raws(records) == lines
    offsets = [sum(len(x) + 1 for x in lines[:i]) for i in range(30)]
    assert [r.offset for r in records] == offsets


def test_over_long_lines_become_errors_without_losing_the_rest(monkeypatch):
    monkeypatch.setattr("parsers.streams.CHUNK_SIZE", 16)
    body = b'{"a":1}\n' + b"x" * 100 + b'\n{"a":2}\n'
    records = list(split(io.BytesIO(body), "lines", max_line_bytes=20))
    assert [(r.line, r.error is not None) for r in records] == [(1, False), (2, True), (3, False)]
    assert records[1].raw == b"x" * 20
    assert "record of 100 bytes is longer than the 20-byte limit" in records[1].error
    assert records[2].raw == b'{"a":2}'
    assert records[2].offset == 109


def test_json_stream_of_concatenated_and_pretty_printed_objects():
    body = b'{"a":1}{"a":2}\n{\n  "a": "}{ \\" ]",\n  "b": [1, {"c": 2}]\n}\n  {"a":4}'
    records = list(split(body, "json"))
    assert [orjson.loads(r.raw) for r in records] == [
        {"a": 1},
        {"a": 2},
        {"a": '}{ " ]', "b": [1, {"c": 2}]},
        {"a": 4},
    ]
    assert [r.line for r in records] == [1, 2, 3, 4]
    assert records[1].offset == 7


def test_json_stream_keeps_garbage_and_truncated_tail_as_records():
    records = list(split(b'{"a":1} garbage {"b":', "json"))
    assert raws(records) == [b'{"a":1}', b"garbage", b'{"b":']


def test_json_stream_across_chunk_boundaries(monkeypatch):
    monkeypatch.setattr("parsers.streams.CHUNK_SIZE", 5)
    objs = [{"n": i, "s": 'a\\"b}' * i, "l": [1, [2, {"x": "]"}]]} for i in range(20)]
    body = b" \n".join(orjson.dumps(o, option=orjson.OPT_INDENT_2) for o in objs)
    assert [orjson.loads(r.raw) for r in split(io.BytesIO(body), "json")] == objs


def test_json_array_with_and_without_envelope():
    assert raws(split(b' [ {"a":1} , {"a":[2]} ]', "json_array")) == [b'{"a":1}', b'{"a":[2]}']
    body = b'{"Records": [{"a":1}, {"a":2}]}{"Records": [{"a":3}]}'
    records = list(split(body, "json_array", envelope="Records"))
    assert [orjson.loads(r.raw) for r in records] == [{"a": 1}, {"a": 2}, {"a": 3}]
    assert [r.line for r in records] == [1, 2, 3]


def test_json_array_that_is_not_an_array_is_an_error_record():
    records = list(split(b'{"a":1}', "json_array"))
    assert len(records) == 1
    assert records[0].error
    assert records[0].raw == b'{"a":1}'
    wrapped = list(split(b'{"Other": []}', "json_array", envelope="Records"))
    assert len(wrapped) == 1
    assert "Records" in wrapped[0].error


def test_cloudwatch_envelope():
    envelope = {
        "messageType": "DATA_MESSAGE",
        "logGroup": "teleport",
        "logEvents": [
            {"id": "1", "timestamp": 1, "message": '{"a":1}'},
            {"id": "2", "timestamp": 2, "message": '{"a":2}'},
        ],
    }
    control = {"messageType": "CONTROL_MESSAGE", "logEvents": [{"message": "CWL CONTROL"}]}
    body = orjson.dumps(control) + orjson.dumps(envelope) + b"\n" + orjson.dumps(envelope)
    records = list(split(gzip.decompress(gzip.compress(body)), "cloudwatch"))
    assert raws(records) == [b'{"a":1}', b'{"a":2}'] * 2
    assert [r.line for r in records] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a":1}\n{"a":2}\n', "lines"),
        (b'{\n  "a": 1\n}\n{"a": 2}', "json"),
        (b'[{"a":1},{"a":2}]', "json_array"),
        (b'{"messageType":"DATA_MESSAGE","logEvents":[{"message":"{\\"a\\":1}"}]}', "cloudwatch"),
        (b"plain text\n", "lines"),
    ],
)
def test_auto_detects_the_stream_type(body, expected):
    assert list(split(body, "auto")) == list(split(body, expected))


def test_auto_with_envelope_and_bom():
    body = b'\xef\xbb\xbf{"Records":[{"a":1}]}'
    assert raws(split(body, "auto", envelope="Records")) == [b'{"a":1}']
    assert raws(split(b'\xef\xbb\xbf{"a":1}\n', "auto")) == [b'{"a":1}']


def test_unknown_stream_type_is_rejected():
    with pytest.raises(ValueError, match="unknown stream type"):
        list(split(b"", "xml"))


def test_raw_line_is_a_small_tuple():
    assert RawLine(1, 0, b"x") == (1, 0, b"x", None)
