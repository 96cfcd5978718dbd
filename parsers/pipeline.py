"""The one loop both the command line and the workers use: decompress, split, classify."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Protocol

from parsers.parser import FailureKind, Origin, ParsedEvent, ParseFailure
from parsers.streams import (
    DEFAULT_MAX_LINE_BYTES,
    BrokenRecord,
    DecompressionError,
    ObjectTooLarge,
    open_decompressed,
    split,
)

UTC = UTC
PARSE_TIME_EVERY = 1024  # lines sharing one p_parse_time (a clock read per line is measurable)


class LineParser(Protocol):
    def parse(
        self,
        raw: bytes | str,
        origin: Origin,
        line: int,
        *,
        offset: int = 0,
        parse_time: datetime | None = None,
    ) -> ParsedEvent | ParseFailure: ...


def parse_stream(
    fileobj: IO[bytes] | bytes,
    *,
    classifier: LineParser,
    origin: Origin,
    stream_type: str = "auto",
    envelope: str | None = None,
    max_line_bytes: int | None = DEFAULT_MAX_LINE_BYTES,
    max_object_bytes: int | None = None,
) -> Iterator[ParsedEvent | ParseFailure]:
    """Events and failures of a (possibly compressed) body, in input order. Never raises on data.

    `classifier` is a Classifier or a single compiled Parser. Compressed data that ends early or
    is corrupt ends the stream with one failure of kind STREAM_BREAK: every complete record
    before the break is parsed as usual, and the failure keeps the partial record (its raw bytes)
    and the decompressed byte of the break (its offset). An object that cannot be decompressed at
    all (named `.gz` but not gzip) is one failure of kind UNREADABLE. A failing source (network,
    disk, a body shorter than its Content-Length) raises SourceReadError so the caller can retry
    the whole object. A record longer than `max_line_bytes` is a failure keeping its first
    `max_line_bytes`; past `max_object_bytes` decompressed bytes reading stops with one failure
    at that offset.
    """
    if isinstance(fileobj, bytes | bytearray | memoryview):
        import io

        fileobj = io.BytesIO(fileobj)
    where = origin.object_key or "the object"
    if getattr(classifier, "line_based", False):  # csv/regex/fastmatch logs: one record a line
        stream_type = "lines"
    parse = classifier.parse
    parse_time = datetime.now(UTC)
    countdown = PARSE_TIME_EVERY
    records = None
    line = 0
    while True:
        try:
            if records is None:  # opening and the first split read the data eagerly: may fail
                body = open_decompressed(
                    fileobj, name=origin.object_key, max_bytes=max_object_bytes
                )
                records = split(body, stream_type, envelope=envelope, max_line_bytes=max_line_bytes)
            record = next(records, None)
        except DecompressionError as exc:  # only opening raises it: breaks come as records
            yield ParseFailure(
                1, 0, f"cannot decompress the object: {exc}", b"", FailureKind.UNREADABLE
            )
            return
        except ObjectTooLarge as exc:
            yield ParseFailure(
                line + 1,
                exc.offset,
                f"{where} is larger than {exc.offset} bytes decompressed "
                f"(SLUICE_MAX_OBJECT_BYTES): {exc}; records from number {line + 1} on are not read",
                b"",
            )
            return
        if record is None:
            return
        line = record.line
        if record.error is not None:
            broken = isinstance(record, BrokenRecord)
            kind = FailureKind.STREAM_BREAK if broken else FailureKind.RECORD
            error = f"{record.error} ({where})"
            yield ParseFailure(record.line, record.offset, error, record.raw, kind)
            continue
        countdown -= 1
        if not countdown:
            parse_time = datetime.now(UTC)
            countdown = PARSE_TIME_EVERY
        result = parse(record.raw, origin, record.line, offset=record.offset, parse_time=parse_time)
        if result is not None:  # None: a header line of a csv log, nothing to store
            yield result


@dataclass
class ParseStats:
    """Running totals, with unknown keys counted so the console can suggest schema additions."""

    events: int = 0
    failures: int = 0
    warnings: int = 0
    by_log_type: Counter = field(default_factory=Counter)
    extra_keys: Counter = field(default_factory=Counter)

    def add(self, result: ParsedEvent | ParseFailure) -> None:
        if type(result) is ParsedEvent:
            self.events += 1
            self.warnings += result.warnings
            self.by_log_type[result.log_type] += 1
            if result.extra:
                counts = self.extra_keys
                for key in result.extra:  # Counter.update's Mapping checks cost more than this
                    counts[key] += 1
        else:
            self.failures += 1


@contextmanager
def gc_tuned(threshold: int = 50_000) -> Iterator[None]:
    """Fewer young-generation collections while parsing many small dicts; restored after."""
    old = gc.get_threshold()
    gc.set_threshold(threshold, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)
