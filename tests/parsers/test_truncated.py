"""Truncated and corrupt compressed bodies: every line decoded before the break is kept, the break
is one failure (the partial line, the decompressed byte of the break), and a body whose *read*
fails is a SourceReadError (a retry), never a break.

"Complete decodable lines" are counted independently of the code under test: the truncated or
damaged bytes go straight into zlib / zstandard / bz2 decompressors, and the newlines of what
they give back are counted.
"""

import bz2
import io
import random
import zlib

import orjson
import pytest
import zstandard
from botocore.exceptions import IncompleteReadError, ResponseStreamingError
from botocore.response import StreamingBody
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from urllib3.exceptions import ProtocolError

from parsers import FailureKind, Origin, ParsedEvent, ParseFailure, default_registry, parse_stream
from parsers.streams import (
    BrokenRecord,
    BrokenStream,
    SourceReadError,
    open_decompressed,
    split,
)

TELEPORT = default_registry().get("Gravitational.TeleportAudit").parser
ORIGIN = Origin("1", "teleport/2026/11/27/10/cut.json", "")
EVENT = {"event": "user.login", "code": "T1000I", "time": "2026-11-27T10:00:00Z"}


def lines_body(count: int, seed: int = 1) -> bytes:
    """Valid Teleport events of varied length (random hex compresses poorly: many blocks)."""
    rng = random.Random(seed)
    return b"".join(
        orjson.dumps({**EVENT, "uid": str(i), "pad": rng.randbytes(rng.randint(0, 120)).hex()})
        + b"\n"
        for i in range(count)
    )


MAGIC_LENGTH = {"gzip": 2, "zstd": 4, "bzip2": 3}
COMPRESS = {
    "gzip": lambda data: zlib.compress(data, 6, wbits=31),
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
    "bzip2": lambda data: bz2.compress(data, 1),  # 100 kB blocks: a cut keeps whole blocks
}


def reference_decode(compression: str, data: bytes, *, step: int = 0) -> bytes:
    """What a plain decoder makes of `data` until it ends or fails, fed `step` bytes at a time
    (0: all at once). Multiple members/frames/streams are followed like the tools do."""
    new = {
        "gzip": lambda: zlib.decompressobj(wbits=31),
        "zstd": lambda: zstandard.ZstdDecompressor().decompressobj(),
        "bzip2": bz2.BZ2Decompressor,
    }[compression]
    decoder, out = new(), []
    pieces = [data] if not step else [data[i : i + step] for i in range(0, len(data), step)]
    try:
        for piece in pieces:
            while piece:
                out.append(decoder.decompress(piece))
                piece = b""
                if decoder.eof and decoder.unused_data:
                    piece, decoder = decoder.unused_data, new()
    except (zlib.error, zstandard.ZstdError, OSError, EOFError):
        pass
    return b"".join(out)


def parse(body: bytes, stream_type: str = "lines", **limits) -> list:
    return list(
        parse_stream(body, classifier=TELEPORT, origin=ORIGIN, stream_type=stream_type, **limits)
    )


def assert_kept_up_to_the_break(results: list, decoded: bytes, original: bytes) -> ParseFailure:
    """events + failures == complete decoded lines + 1; the last result is the break."""
    complete = decoded.count(b"\n")
    tail = decoded[decoded.rfind(b"\n") + 1 :]
    *before, last = results
    assert isinstance(last, ParseFailure)
    assert last.kind == FailureKind.STREAM_BREAK
    assert len(before) + 1 == complete + 1
    assert [r.line for r in before] == list(range(1, complete + 1))
    assert (last.line, last.offset, last.raw) == (complete + 1, len(decoded), tail)
    assert f"after {complete} complete lines" in last.error
    assert f"decompressed byte {len(decoded)}" in last.error
    assert ORIGIN.object_key in last.error
    good, got = original.split(b"\n"), decoded.split(b"\n")
    for result in before:  # what decoded like the original is an event, at its own line
        if got[result.line - 1] == good[result.line - 1]:
            assert isinstance(result, ParsedEvent)
            assert result.fields["uid"] == orjson.loads(good[result.line - 1])["uid"]
    return last


BODY = lines_body(3000)
COMPRESSED = {name: compress(BODY) for name, compress in COMPRESS.items()}
CHECKSUMMED_ZSTD = zstandard.ZstdCompressor(write_checksum=True).compress(BODY)


@pytest.mark.parametrize("compression", sorted(COMPRESS))
@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.33, 0.5, 0.71, 0.999])
def test_a_truncated_object_keeps_every_complete_line_and_ends_with_one_failure(
    compression, fraction
):
    data = COMPRESSED[compression]
    cut = data[: max(4, int(len(data) * fraction))]
    decoded = reference_decode(compression, cut)
    assert BODY.startswith(decoded)  # a cut loses data, never changes it

    last = assert_kept_up_to_the_break(parse(cut), decoded, BODY)
    assert all(type(r) is ParsedEvent for r in parse(cut)[:-1])  # every line was valid
    assert f"{compression} data ends early" in last.error
    assert "the object is truncated" in last.error


def test_the_reported_object_is_counted_line_for_line():
    """1,000 lines, the file cut in half: 471 complete lines decode; 471 events + 1 failure."""
    body = lines_body(1000, seed=471)
    data = zlib.compress(body, 6, wbits=31)
    cut = data[: len(data) // 2]
    decoded = reference_decode("gzip", cut)
    results = parse(cut)
    events = [r for r in results if type(r) is ParsedEvent]
    failures = [r for r in results if type(r) is not ParsedEvent]
    assert len(events) == decoded.count(b"\n") > 0
    assert len(failures) == 1
    assert_kept_up_to_the_break(results, decoded, body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(COMPRESS)), st.integers(0, 10**9), st.integers(1, 400))
def test_any_cut_point_of_a_small_object(compression, where, count):
    body = lines_body(count, seed=count)
    data = COMPRESS[compression](body)
    cut = data[: where % len(data)]
    decoded = reference_decode(compression, cut)
    results = parse(cut)
    if len(cut) < MAGIC_LENGTH[compression]:  # not even the magic bytes: plain text
        return
    assert_kept_up_to_the_break(results, decoded, body)


@pytest.mark.parametrize("compression", sorted(COMPRESS))
def test_a_cut_right_after_a_newline_gives_an_empty_partial_line(compression):
    """Ten lines in one member, then a second member cut before any of its data decodes."""
    first, rest = lines_body(10), lines_body(40, seed=2)
    data = COMPRESS[compression](first) + COMPRESS[compression](rest)[:8]
    last = assert_kept_up_to_the_break(parse(data), first, first + rest)
    assert (last.line, last.offset, last.raw) == (11, len(first), b"")


@pytest.mark.parametrize("compression", sorted(COMPRESS))
def test_a_corrupt_object_keeps_what_decoded_before_the_damage(compression):
    # zstd blocks carry no checksum of their own: with the frame's checksum the damage is found
    data = bytearray(CHECKSUMMED_ZSTD if compression == "zstd" else COMPRESSED[compression])
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0x5A for b in data[middle : middle + 8])
    data = bytes(data)
    results = parse(data)
    decoded = _decoded_by_open_decompressed(data)
    last = assert_kept_up_to_the_break(results, decoded, BODY)
    assert f"{compression} data is corrupt" in last.error
    assert "nothing after" in last.error
    # Nothing a plain decoder gets out of the damaged bytes is lost (fed in 64 KiB steps, the
    # way a streaming reader would; gzip is recovered byte for byte, so compared exactly).
    plain = reference_decode(compression, data, step=1 if compression == "gzip" else 1 << 16)
    if compression == "gzip":
        assert decoded == plain
    else:
        assert len(decoded) >= len(plain)
        assert decoded.startswith(plain)
    assert decoded.count(b"\n") > 0


@pytest.mark.parametrize("compression", sorted(COMPRESS))
def test_garbage_after_a_complete_stream_is_one_failure_after_every_line(compression):
    data = COMPRESSED[compression] + b"\x00 not compressed \xff"
    last = assert_kept_up_to_the_break(parse(data), BODY, BODY)
    assert last.raw == b""
    assert last.line == 3001


@pytest.mark.parametrize("compression", sorted(COMPRESS))
def test_a_second_member_cut_short_keeps_the_first_whole(compression):
    second = lines_body(400, seed=2)
    data = COMPRESSED[compression] + COMPRESS[compression](second)[:-30]
    decoded = reference_decode(compression, data)
    assert decoded.startswith(BODY)
    assert_kept_up_to_the_break(parse(data), decoded, BODY + second)


def read_all(reader) -> bytes:
    out = []
    while chunk := reader.read(1 << 20):
        out.append(chunk)
    return b"".join(out)


def _decoded_by_open_decompressed(data: bytes) -> bytes:
    """What our reader returns before it raises BrokenStream."""
    reader, out = open_decompressed(io.BytesIO(data)), []
    while True:
        try:
            chunk = reader.read(1 << 20)
        except BrokenStream:
            return b"".join(out)
        assert chunk, "the damage went unnoticed"
        out.append(chunk)


@pytest.mark.parametrize("stream_type", ["json", "json_array", "auto"])
def test_json_stream_types_end_with_the_partial_record(stream_type):
    records = [orjson.dumps({**EVENT, "uid": str(i)}) for i in range(2000)]
    text = b"[" + b",\n".join(records) + b"]" if stream_type == "json_array" else b"".join(records)
    data = zlib.compress(text, 6, wbits=31)
    cut = data[: len(data) // 2]
    decoded = reference_decode("gzip", cut)
    *events, last = parse(cut, stream_type)
    assert all(type(r) is ParsedEvent for r in events)
    assert [r.fields["uid"] for r in events] == [str(i) for i in range(len(events))]
    assert last.kind == FailureKind.STREAM_BREAK
    assert last.offset == len(decoded)
    assert decoded.endswith(last.raw)
    assert records[len(events)].startswith(last.raw)  # the partial record, from its start
    assert last.line == len(events) + 1


def test_a_partial_line_longer_than_the_limit_keeps_its_head():
    body = lines_body(10) + b'{"event": "' + b"L" * 5000
    cut = zlib.compress(body, 6, wbits=31)[:-12]  # cut in the trailer: every byte decodes
    decoded = reference_decode("gzip", cut)
    *_, last = parse(cut, max_line_bytes=1000)
    assert last.kind == FailureKind.STREAM_BREAK
    assert (last.line, last.offset) == (11, len(decoded))
    assert last.raw == decoded[decoded.rfind(b"\n") + 1 :][:1000]


def test_the_object_size_limit_still_wins_over_a_later_break():
    data = COMPRESSED["gzip"][:-100]
    *_, last = parse(data, max_object_bytes=10_000)
    assert last.kind == FailureKind.RECORD
    assert "SLUICE_MAX_OBJECT_BYTES" in last.error


def test_split_marks_only_the_break_record():
    data = COMPRESSED["zstd"][: len(COMPRESSED["zstd"]) // 3]
    records = list(split(open_decompressed(io.BytesIO(data)), "lines"))
    assert [type(r) for r in records].count(BrokenRecord) == 1
    assert isinstance(records[-1], BrokenRecord)


def test_a_name_promising_gzip_over_other_bytes_is_unreadable_not_a_break():
    origin = Origin("1", "x.json.gz", "")
    (result,) = parse_stream(b"PK\x03\x04" + bytes(range(64)), classifier=TELEPORT, origin=origin)
    assert result.kind == FailureKind.UNREADABLE
    assert "is not gzip data" in result.error
    assert result.offset == 0


# --- a body whose read fails is a read error, not a truncated stream --------------------------


class _CutConnection(io.RawIOBase):
    """A raw HTTP body that delivers the first `cut` bytes, then ends or raises."""

    def __init__(self, data: bytes, cut: int, error: Exception | None = None) -> None:
        self._data = io.BytesIO(data[:cut])
        self._error = error

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._data.read(size)
        if not data and self._error is not None:
            raise self._error
        return data


@pytest.mark.parametrize("compression", [*sorted(COMPRESS), "none"])
def test_a_body_shorter_than_its_content_length_is_a_read_error(compression):
    """botocore's StreamingBody over a connection that closed early: IncompleteReadError."""
    data = COMPRESSED.get(compression, BODY)
    body = StreamingBody(_CutConnection(data, len(data) // 2), len(data))
    with pytest.raises(SourceReadError) as caught:
        parse(body)
    assert isinstance(caught.value.__cause__, IncompleteReadError)


@pytest.mark.parametrize("compression", sorted(COMPRESS))
@pytest.mark.parametrize(
    "error",
    [
        ProtocolError("Connection broken: IncompleteRead(10 bytes read, 90 more expected)"),
        ConnectionResetError("peer went away"),
        TimeoutError("read timed out"),
    ],
    ids=["protocol", "reset", "timeout"],
)
def test_a_connection_failing_mid_body_is_a_read_error(compression, error):
    data = COMPRESSED[compression]
    body = StreamingBody(_CutConnection(data, len(data) // 2, error), len(data))
    with pytest.raises(SourceReadError) as caught:
        parse(body)
    cause = caught.value.__cause__
    expected = ResponseStreamingError if isinstance(error, ProtocolError) else type(error)
    assert isinstance(cause, expected)


def test_a_read_error_after_a_clean_prefix_is_not_swallowed_as_truncation():
    """Raised by the read after the decoder has output data: still a read error."""
    data = COMPRESSED["gzip"]
    half = len(data) // 2
    body = StreamingBody(_CutConnection(data, half, ConnectionResetError("reset")), len(data))
    reader = open_decompressed(body)
    with pytest.raises(SourceReadError):
        read_all(reader)
