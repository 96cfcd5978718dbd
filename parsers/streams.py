"""Stream handling: decompress by magic bytes and split a body into raw records.

This is the one stream splitter of the project. Everything streams in chunks: memory stays flat
however large the object is (a single record is bounded by ``max_line_bytes``).

Record numbering: for ``lines`` the physical line number (1-based, blank lines counted but not
yielded); for the JSON stream types, the 1-based ordinal of the record. ``offset`` is the byte
offset of the record (for ``cloudwatch`` and enveloped arrays: of its envelope) in the
decompressed stream. Parts that cannot be split are yielded with ``error`` set, never dropped.

Compressed data that ends early or is corrupt ends the records with one ``BrokenRecord``: its
raw bytes are the partial record decoded before the break (for ``lines``, the bytes after the last
newline, possibly none), its offset is the decompressed byte where the data breaks, and its number
follows the complete records before it.
"""

from __future__ import annotations

import bz2
import codecs
import io
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Any, NamedTuple

import orjson

STREAM_TYPES = ("auto", "lines", "json", "json_array", "cloudwatch")
CHUNK_SIZE = 1 << 20
DEFAULT_MAX_LINE_BYTES = 16 << 20

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BZIP2_MAGIC = b"BZh"
_BOM = b"\xef\xbb\xbf"

_NOT_WS = re.compile(rb"[^ \t\r\n]")
_NOT_WS_OR_COMMA = re.compile(rb"[^ \t\r\n,]")
_STRUCTURAL = re.compile(rb'[{}\[\]"]')
_STRING_STOP = re.compile(rb'["\\]')
_TOKEN_END = re.compile(rb'[ \t\r\n{}\[\]",]')


class RawLine(NamedTuple):
    line: int
    offset: int
    raw: bytes
    error: str | None = None  # set when the splitter itself could not cut a clean record


class BrokenRecord(RawLine):
    """The partial record where compressed data breaks (`error` says how): nothing follows it."""

    __slots__ = ()


# --- decompression ---------------------------------------------------------------------------


class SourceReadError(Exception):
    """Reading the underlying object failed (network, disk, a body cut short): retry it.

    Raised from the original exception (``__cause__``) so decompression errors, which are data
    problems, can be told apart from it.
    """


class DecompressionError(Exception):
    """The data cannot be decompressed (an object named `.gz` holding other bytes)."""


class BrokenStream(DecompressionError):
    """Compressed data that ends early (the body ended cleanly, the stream did not) or is corrupt.

    Raised only after every byte decoded before the break was returned; `offset` is the number
    of decompressed bytes before it. Reading again cannot get past it.
    """

    def __init__(self, compression: str, offset: int, *, truncated: bool, detail: str = "") -> None:
        self.compression = compression
        self.offset = offset
        self.truncated = truncated
        self.detail = detail
        super().__init__(self.describe(None, "records"))

    def describe(self, complete: int | None, unit: str) -> str:
        """One sentence: what broke, at which decompressed byte, after how many complete records."""
        where = f"decompressed byte {self.offset}"
        if self.truncated:
            after = f" after {complete} complete {unit}" if complete is not None else ""
            return f"{self.compression} data ends early at {where}: the object is truncated{after}"
        after = f"after {complete} complete {unit}" if complete is not None else "after it"
        return (
            f"{self.compression} data is corrupt at {where} ({self.detail}): "
            f"nothing {after} can be read"
        )


class ObjectTooLarge(Exception):
    """The decompressed object goes on past the per-object limit; reading stopped at `offset`."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"reading stopped at byte {offset} of the decompressed data")
        self.offset = offset


class _Prefixed(io.RawIOBase):
    """Replays the bytes read for sniffing, then the rest of the stream.

    Every error of the underlying stream becomes SourceReadError: botocore's IncompleteReadError
    (fewer bytes than Content-Length), urllib3's ProtocolError and ReadTimeoutError, a reset
    connection. A body that ends early without an error is not told apart here.
    """

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        try:
            data = self._rest.read(len(buffer))
        except Exception as exc:
            raise SourceReadError(f"{type(exc).__name__}: {exc}") from exc
        n = len(data)
        buffer[:n] = data
        return n


def _read_exactly(fileobj: IO[bytes], size: int) -> bytes:
    parts = []
    while size > 0:
        data = fileobj.read(size)
        if not data:
            break
        parts.append(data)
        size -= len(data)
    return b"".join(parts)


def detect_compression(head: bytes) -> str:
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    if head.startswith(_BZIP2_MAGIC):
        return "bzip2"
    return "none"


_SUFFIX_COMPRESSION = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".bz2": "bzip2"}
_MAGIC_NAME = {"gzip": "1f 8b", "zstd": "28 b5 2f fd", "bzip2": "42 5a 68"}
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")


def open_decompressed(
    fileobj: IO[bytes], *, name: str = "", max_bytes: int | None = None
) -> IO[bytes]:
    """A binary reader of the decompressed content (gzip, zstd, bzip2 detected by magic bytes).

    Compressed data that ends early or is corrupt raises BrokenStream on the read after the last
    bytes decoded before the break; a failing source raises SourceReadError. `name` (an object
    key or path) whose suffix promises a compression the bytes lack raises DecompressionError
    unless the bytes are plain text. With `max_bytes`, reading past that many decompressed bytes
    raises ObjectTooLarge (a gzip bomb is never inflated beyond it).
    """
    try:
        head = _read_exactly(fileobj, 4)
    except Exception as exc:
        raise SourceReadError(f"{type(exc).__name__}: {exc}") from exc
    stream = io.BufferedReader(_Prefixed(head, fileobj), buffer_size=CHUNK_SIZE)
    kind = detect_compression(head)
    _check_magic(name, kind, head)
    reader: Any = stream
    if kind != "none":
        reader = _Decompressing(stream, kind)
    if max_bytes:
        reader = _Bounded(reader, max_bytes)
    return reader  # type: ignore[no-any-return]


def _check_magic(name: str, kind: str, head: bytes) -> None:
    """A `.gz` (`.zst`, `.bz2`) name over bytes that are neither that nor text is an error; a
    plain-text object under such a name is still read (detection goes by magic bytes)."""
    suffix = name[name.rfind(".") :].lower() if "." in name.rsplit("/", 1)[-1] else ""
    claimed = _SUFFIX_COMPRESSION.get(suffix)
    if claimed is None or kind != "none" or not head or _looks_like_text(head):
        return
    raise DecompressionError(
        f"{name} is named {suffix} but is not {claimed} data: it starts with bytes "
        f"{head.hex(' ')}, {claimed} starts with {_MAGIC_NAME[claimed]}"
    )


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 (a sequence may be cut at the end) without control characters other than spaces."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return not _BINARY.search(head)


class _Bounded:
    """Stops a decompressed stream at `limit` bytes: one more byte raises ObjectTooLarge."""

    def __init__(self, reader: Any, limit: int) -> None:
        self._reader = reader
        self._limit = limit
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        room = self._limit - self._pos
        if room <= 0:
            if self._reader.read(1):
                raise ObjectTooLarge(self._limit)
            return b""
        data = self._reader.read(room if size is None or size < 0 else min(size, room))
        self._pos += len(data)
        return data

    def close(self) -> None:
        self._reader.close()


class _CodecError(Exception):
    """A decoder refused its input; `salvaged` is what it decoded before the bad byte."""

    def __init__(self, salvaged: bytes, detail: str) -> None:
        super().__init__(detail)
        self.salvaged = salvaged
        self.detail = detail


class _GzipMember:
    """One gzip member (zlib checks its header and its CRC/length trailer).

    On corrupt data the output of the failing step is recovered byte by byte from a copy of the
    decoder taken before it, so every byte zlib can decode before the damage is kept.
    """

    INPUT_STEP = 1 << 16

    def __init__(self) -> None:
        self._zlib = zlib.decompressobj(wbits=31)
        self._input = b""

    @property
    def eof(self) -> bool:
        return self._zlib.eof

    @property
    def unused_data(self) -> bytes:
        return self._zlib.unused_data

    def feed(self, data: bytes) -> None:
        self._input += data

    def pull(self, limit: int) -> bytes:
        if self._zlib.eof:
            return b""
        before = self._zlib.copy()
        try:
            out = self._zlib.decompress(self._input, limit)
        except zlib.error as exc:
            raise _CodecError(_decoded_before_error(before, self._input), str(exc)) from exc
        self._input = self._zlib.unconsumed_tail
        return out


def _decoded_before_error(zlib_copy: Any, data: bytes) -> bytes:
    parts = []
    for i in range(len(data)):
        try:
            parts.append(zlib_copy.decompress(data[i : i + 1]))
        except zlib.error:
            break
    return b"".join(parts)


class _ZstdFrame:
    """One zstd frame. Its input comes in small steps: zstandard's decompressobj has no output
    limit, and a step of 4 KiB inflates to at most 128 MiB (RLE blocks)."""

    INPUT_STEP = 1 << 12

    def __init__(self) -> None:
        import zstandard

        self._error = zstandard.ZstdError
        self._zstd = zstandard.ZstdDecompressor().decompressobj()
        self._input = b""

    @property
    def eof(self) -> bool:
        return self._zstd.eof

    @property
    def unused_data(self) -> bytes:
        return self._zstd.unused_data

    def feed(self, data: bytes) -> None:
        self._input += data

    def pull(self, limit: int) -> bytes:
        if self._zstd.eof or not self._input:
            return b""
        data, self._input = self._input, b""
        try:
            return self._zstd.decompress(data)
        except self._error as exc:
            raise _CodecError(b"", str(exc)) from exc


class _Bzip2Stream:
    """One bzip2 stream (every block checked against its CRC as its output ends).

    Input comes in small steps: the decoder goes on from the end of a block's output into the
    next block in the same call, and damage found there loses that call's output; with little
    input at hand, the damage must be in the first kilobyte of a block for that to happen.
    """

    INPUT_STEP = 1 << 10

    def __init__(self) -> None:
        self._bz2 = bz2.BZ2Decompressor()
        self._input = b""

    @property
    def eof(self) -> bool:
        return self._bz2.eof

    @property
    def unused_data(self) -> bytes:
        return self._bz2.unused_data

    def feed(self, data: bytes) -> None:
        self._input += data

    def pull(self, limit: int) -> bytes:
        if self._bz2.eof or (not self._input and self._bz2.needs_input):
            return b""
        data, self._input = self._input, b""
        try:
            return self._bz2.decompress(data, limit)
        except (OSError, EOFError, ValueError) as exc:
            raise _CodecError(b"", str(exc)) from exc


_CODECS: dict[str, Any] = {"gzip": _GzipMember, "zstd": _ZstdFrame, "bzip2": _Bzip2Stream}


class _Decompressing:
    """Decompresses gzip members, zstd frames or bzip2 streams one after another.

    Tells a read error from a data error: an exception of the source (SourceReadError) passes
    through at once; a source that ends cleanly in the middle of a member is truncated data; a
    decoder error is corrupt data. Either way everything decoded before the break is returned
    first, and the read after it raises BrokenStream (again on every later read).
    """

    OUTPUT_STEP = 1 << 16

    def __init__(self, source: IO[bytes], compression: str) -> None:
        self._source = source
        self._compression = compression
        self._codec = _CODECS[compression]
        self._member: Any = self._codec()
        self._pending = b""  # decoded, not yet returned
        self._decoded = 0  # decompressed bytes produced so far
        self._broken: BrokenStream | None = None

    def read(self, size: int = -1) -> bytes:
        wanted = size if size is not None and size >= 0 else 1 << 62
        parts: list[bytes] = []
        while wanted > 0:
            data = self._pending or self._decode_step(min(wanted, self.OUTPUT_STEP))
            if not data:
                break
            parts.append(data[:wanted])
            self._pending = data[wanted:]
            wanted -= len(parts[-1])
        if not parts and wanted and self._broken is not None:
            raise self._broken
        return b"".join(parts)

    def _decode_step(self, limit: int) -> bytes:
        """Some decompressed bytes; b"" at the clean end of the body or at a break (kept)."""
        if self._broken is not None:
            return b""
        while True:
            try:
                out = self._member.pull(limit)
            except _CodecError as exc:
                self._decoded += len(exc.salvaged)
                self._broken = self._break(truncated=False, detail=exc.detail)
                return exc.salvaged
            if out:
                self._decoded += len(out)
                return out
            data = self._member.unused_data if self._member.eof else b""
            if not data:
                data = self._source.read(self._codec.INPUT_STEP)  # SourceReadError passes
            if not data:
                if not self._member.eof:
                    self._broken = self._break(truncated=True)
                return b""
            if self._member.eof:
                self._member = self._codec()
            self._member.feed(data)

    def _break(self, *, truncated: bool, detail: str = "") -> BrokenStream:
        return BrokenStream(self._compression, self._decoded, truncated=truncated, detail=detail)

    def close(self) -> None:
        self._source.close()


# --- splitting -------------------------------------------------------------------------------


class _Body:
    """The chunks of a body. A broken compressed stream ends them early: the break is kept in
    `broken` for the splitter to turn the partial record before it into one last record."""

    def __init__(self, source: IO[bytes] | bytes | bytearray | memoryview) -> None:
        self.source = source
        self.broken: BrokenStream | None = None

    def __iter__(self) -> Iterator[bytes]:
        source = self.source
        if isinstance(source, bytes | bytearray | memoryview):
            if source:
                yield bytes(source)
            return
        read = source.read
        while True:
            try:
                data = read(CHUNK_SIZE)
            except BrokenStream as exc:
                self.broken = exc
                return
            if not data:
                return
            yield data


def _break_record(broken: BrokenStream, complete: int, tail: bytes, unit: str) -> BrokenRecord:
    """The partial record where the data breaks: numbered after the complete ones, at the
    decompressed byte of the break."""
    return BrokenRecord(complete + 1, broken.offset, tail, broken.describe(complete, unit))


def split(
    fileobj_or_bytes: IO[bytes] | bytes,
    stream_type: str,
    *,
    envelope: str | None = None,
    max_line_bytes: int | None = None,
) -> Iterator[RawLine]:
    """Cut a (decompressed) body into raw records by stream type."""
    if stream_type not in STREAM_TYPES:
        raise ValueError(f"unknown stream type {stream_type!r} (one of {', '.join(STREAM_TYPES)})")
    limit = max_line_bytes or 0
    body = _Body(fileobj_or_bytes)
    chunks = iter(body)
    first = next(chunks, b"")
    skipped = 0
    if first.startswith(_BOM):
        first, skipped = first[len(_BOM) :], len(_BOM)
    if stream_type == "auto":
        stream_type = _detect(first, chunks, envelope)
        if isinstance(stream_type, tuple):  # detection needed more data
            stream_type, first = stream_type
    data = _prepend(first, chunks)
    if stream_type == "lines":
        return _split_lines(data, limit, skipped, body)
    if stream_type == "json":
        return _split_json(data, limit, skipped, body, in_array=False)
    if stream_type == "json_array":
        if envelope:
            return _unwrap(_split_json(data, limit, skipped, body, in_array=False), envelope)
        return _split_json(data, limit, skipped, body, in_array=True)
    return _split_cloudwatch(_split_json(data, limit, skipped, body, in_array=False))


def _prepend(first: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from chunks


def _detect(first: bytes, chunks: Iterator[bytes], envelope: str | None) -> Any:
    start = _NOT_WS.search(first)
    if start is None:
        return "lines"
    lead = first[start.start() : start.start() + 1]
    if lead == b"[":
        return "json_array"
    if lead != b"{":
        return "lines"
    head = first[: 1 << 16]
    if envelope and b'"' + envelope.encode() + b'"' in head:
        return "json_array"
    if b'"logEvents"' in head and b'"messageType"' in head:
        return "cloudwatch"
    newline = first.find(b"\n", start.start())
    while newline < 0 and len(first) < 4 * CHUNK_SIZE:
        more = next(chunks, b"")
        if not more:
            break
        first += more
        newline = first.find(b"\n", start.start())
    line = first[start.start() : newline if newline >= 0 else len(first)]
    try:
        one_object = isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        one_object = False
    return ("lines" if one_object else "json"), first


def _split_lines(
    chunks: Iterable[bytes], limit: int, offset: int, body: _Body
) -> Iterator[RawLine]:
    line_no = 0
    rest = b""
    dropping = 0  # > 0: inside an over-long line; bytes already dropped
    rest_head = b""
    for chunk in chunks:
        if rest:
            chunk = rest + chunk
        parts = chunk.split(b"\n")
        rest = parts.pop()
        for part in parts:
            line_no += 1
            size = len(part) + 1
            if dropping:
                yield _too_long(line_no, offset, rest_head, limit, dropping + len(part))
                offset += dropping + size
                dropping = 0
                continue
            if part.endswith(b"\r"):
                part = part[:-1]
            if part and not part.isspace():
                if limit and len(part) > limit:
                    yield _too_long(line_no, offset, part[:limit], limit, len(part))
                else:
                    yield RawLine(line_no, offset, part)
            offset += size
        if limit and len(rest) > limit:  # keep memory flat: drop the tail of an over-long line
            if not dropping:
                rest_head = rest[:limit]
            dropping += len(rest)
            rest = b""
    if body.broken is not None:  # the bytes after the last newline, verbatim (cut to the limit)
        tail = rest_head if dropping else rest[:limit] if limit else rest
        yield _break_record(body.broken, line_no, tail, "lines")
    elif dropping:
        yield _too_long(line_no + 1, offset, rest_head, limit, dropping + len(rest))
    elif rest:
        if rest.endswith(b"\r"):
            rest = rest[:-1]
        if not rest.isspace():
            if limit and len(rest) > limit:
                yield _too_long(line_no + 1, offset, rest[:limit], limit, len(rest))
            else:
                yield RawLine(line_no + 1, offset, rest)


def _too_long(line: int, offset: int, head: bytes, limit: int, length: int) -> RawLine:
    return RawLine(
        line,
        offset,
        head,
        f"record of {length} bytes is longer than the {limit}-byte limit "
        f"(SLUICE_MAX_LINE_BYTES): its first {limit} bytes are kept",
    )


class _JsonScanner:
    """Finds the extent of top-level JSON values across chunk boundaries.

    Positions are indexes into ``buf``; a refill drops the bytes before the current record and
    shifts positions, so memory holds one record plus one chunk.
    """

    def __init__(
        self, chunks: Iterable[bytes], limit: int, offset: int, in_array: bool, body: _Body
    ) -> None:
        self.chunks = iter(chunks)
        self.body = body
        self.cut = False  # the record being scanned runs into the end of the stream
        self.buf = b""
        self.base = offset  # stream offset of buf[0]
        self.limit = limit
        self.array_mode = in_array
        self.in_array = False
        self.count = 0
        self.eof = False
        self.start = 0  # start of the record being scanned

    def _more(self, keep_from: int) -> int:
        """Append a chunk, dropping buf[:keep_from]; returns the shift (0 at end of stream)."""
        chunk = next(self.chunks, b"")
        if not chunk:
            self.eof = True
            return 0
        self.buf = self.buf[keep_from:] + chunk
        self.base += keep_from
        self.start -= keep_from
        return keep_from

    def records(self) -> Iterator[RawLine]:
        pos = 0
        while True:
            pos = self._skip_separators(pos)
            if pos is None:
                if self.body.broken is not None:
                    yield _break_record(self.body.broken, self.count, b"", "records")
                return
            lead = self.buf[pos : pos + 1]
            error = None
            self.start = pos
            self.cut = False
            if self.array_mode and not self.in_array:
                if lead == b"[":
                    self.in_array = True
                    pos += 1
                    continue
                error = "expected a JSON array"
            if self.in_array and lead == b"]":
                self.in_array = False
                pos += 1
                continue
            elif lead in (b"{", b"["):
                end = self._container_end(pos + 1)
            elif lead == b'"':
                end = self._string_end(pos + 1)
            else:
                end = self._token_end(pos + 1)
            self.count += 1
            if self.eof and self.body.broken is not None and (self.cut or end < 0):
                head = self.buf[self.start : self.start + self.limit if self.limit else None]
                yield _break_record(self.body.broken, self.count - 1, head, "records")
                return
            if end < 0 or (self.limit and end - self.start > self.limit):
                offset = self.base + self.start
                head = self.buf[self.start : self.start + self.limit]
                pos = end if end >= 0 else self._skip_line(self.start + self.limit)
                newline = end < 0 and self.buf[pos - 1 : pos] == b"\n"
                length = self.base + pos - offset - newline
                yield _too_long(self.count, offset, head, self.limit, length)
                continue
            yield RawLine(self.count, self.base + self.start, self.buf[self.start : end], error)
            pos = end

    def _skip_separators(self, pos: int) -> int | None:
        pattern = _NOT_WS_OR_COMMA if self.in_array else _NOT_WS
        while True:
            m = pattern.search(self.buf, pos)
            if m is not None:
                return m.start()
            self.start = len(self.buf)
            self._more(len(self.buf))
            if self.eof:
                return None
            pos = 0

    def _refill(self, pos: int) -> int:
        """More data for the current record: the new pos, or -1 at the end / when too long."""
        if self.eof or (self.limit and len(self.buf) - self.start > self.limit + CHUNK_SIZE):
            return -1
        shift = self._more(self.start)
        return -1 if self.eof else pos - shift

    def _container_end(self, pos: int) -> int:
        depth = 1
        while True:
            m = _STRUCTURAL.search(self.buf, pos)
            if m is None:
                pos = self._refill(pos)
                if pos < 0:
                    return self._unterminated()
                continue
            ch = self.buf[m.start()]
            if ch == 0x22:  # '"'
                pos = self._string_end(m.end())
                if pos < 0:
                    return pos
                continue
            pos = m.end()
            depth += 1 if ch in (0x7B, 0x5B) else -1  # '{' '[' open, '}' ']' close
            if depth == 0:
                return pos

    def _string_end(self, pos: int) -> int:
        while True:
            m = _STRING_STOP.search(self.buf, pos)
            if m is None:
                pos = self._refill(pos)
                if pos < 0:
                    return self._unterminated()
                continue
            if self.buf[m.start()] == 0x5C:  # backslash: skip the escaped byte
                pos = m.end() + 1
                continue
            return m.end()

    def _token_end(self, pos: int) -> int:
        while True:
            m = _TOKEN_END.search(self.buf, pos)
            if m is not None:
                return m.start()
            pos = self._refill(pos)
            if pos < 0:
                return self._unterminated()

    def _unterminated(self) -> int:
        """At the end of the stream the rest is one (truncated) record; -1 when too long."""
        if self.eof and not (self.limit and len(self.buf) - self.start > self.limit):
            self.cut = True
            return len(self.buf)
        return -1

    def _skip_line(self, pos: int) -> int:
        """Drop the rest of an over-long record: resynchronize after the next newline."""
        while True:
            newline = self.buf.find(b"\n", pos)
            if newline >= 0:
                return newline + 1
            if self.eof:
                return len(self.buf)
            self.start = len(self.buf)
            self._more(len(self.buf))
            pos = 0


def _split_json(
    chunks: Iterable[bytes], limit: int, offset: int, body: _Body, *, in_array: bool
) -> Iterator[RawLine]:
    return _JsonScanner(chunks, limit, offset, in_array, body).records()


def _unwrap(records: Iterator[RawLine], envelope: str) -> Iterator[RawLine]:
    """json_array under an envelope field: {"Records": [...]} (several envelopes allowed)."""
    count = 0
    for record in records:
        if isinstance(record, BrokenRecord):
            yield record._replace(line=count + 1)
            return
        items = _envelope_items(record, envelope)
        if isinstance(items, str):
            count += 1
            yield RawLine(count, record.offset, record.raw, items)
            continue
        for item in items:
            count += 1
            yield RawLine(count, record.offset, orjson.dumps(item))


def _envelope_items(record: RawLine, envelope: str) -> list[Any] | str:
    if record.error:
        return record.error
    try:
        obj = orjson.loads(record.raw)
    except orjson.JSONDecodeError as exc:
        return f"invalid JSON envelope: {exc}"
    if not isinstance(obj, dict) or not isinstance(obj.get(envelope), list):
        return f"expected an object with a {envelope!r} array"
    return obj[envelope]


def _split_cloudwatch(records: Iterator[RawLine]) -> Iterator[RawLine]:
    """CloudWatch Logs subscription envelopes: one record per logEvents[].message."""
    count = 0
    for record in records:
        if isinstance(record, BrokenRecord):
            yield record._replace(line=count + 1)
            return
        envelope = _cloudwatch_events(record)
        if isinstance(envelope, str):
            count += 1
            yield RawLine(count, record.offset, record.raw, envelope)
            continue
        for event in envelope:
            count += 1
            message = event.get("message") if isinstance(event, dict) else None
            if isinstance(message, str):
                if message.strip():
                    yield RawLine(count, record.offset, message.encode("utf-8", "surrogatepass"))
            else:
                yield RawLine(
                    count, record.offset, orjson.dumps(event), "logEvents item without a message"
                )


def _cloudwatch_events(record: RawLine) -> list[Any] | str:
    if record.error:
        return record.error
    try:
        obj = orjson.loads(record.raw)
    except orjson.JSONDecodeError as exc:
        return f"invalid CloudWatch Logs envelope: {exc}"
    if not isinstance(obj, dict):
        return "expected a CloudWatch Logs envelope object"
    if obj.get("messageType") == "CONTROL_MESSAGE":
        return []
    events = obj.get("logEvents")
    if not isinstance(events, list):
        return "CloudWatch Logs envelope without a logEvents array"
    return events
