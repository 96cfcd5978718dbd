"""Compiled parsers: a schema becomes a table of per-field coercers, built once.

`Parser.parse` never raises: it returns a `ParsedEvent` or a `ParseFailure` keeping the raw line.
Values that do not fit their column stay, untouched, in `extra` (p_extra) and count as warnings;
keys the schema does not know go to `extra` too. Nothing in the input is dropped except nulls.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from operator import itemgetter
from typing import Any

import msgspec
import orjson

from parsers.codegen import MISFIT, compile_plan
from parsers.indicators import Accumulator, collect, compile_scanners, finish, ip_version
from parsers.schema import Field, Schema, Validation
from parsers.timestamps import ZERO_TIME, compile_time_formats, format_utc

UTC = UTC
INVALID = object()  # sentinel: the value does not fit the column
ABSENT = object()  # sentinel: the value means "unset" (null, Go zero time)

_INT_TEXT = re.compile(r"\s*[-+]?\d+\s*", re.ASCII)
_FLOAT_TEXT = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*", re.ASCII)
_INT_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
_MAX_RAW_IN_ERROR = 120

# Kinds of column, dispatched inline in the hot loop (cheaper than a call per value).
_STRING = 0  # string column, no indicators: strings pass through
_STRING_SCAN = 1  # string column with indicator scanners
_TIMESTAMP = 2
_JSON = 3  # any JSON value as it is
_OTHER = 4  # coercer(value, acc) -> value | INVALID | ABSENT
_OTHER_GROUPED = 5  # like _OTHER, with a C-checkable fast path: entry[3] is the group key


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a line came from; with the line number it makes the row id deterministic."""

    source_id: str
    object_key: str
    version: str  # etag / version id / SQS message id


class ParsedEvent(msgspec.Struct, gc=False):
    """One normalized event.

    A msgspec Struct rather than a dataclass: it is built in C (a dataclass __init__ is a Python
    call per event), and gc=False keeps it out of the cyclic collector (it never holds a cycle).
    """

    row_id: str
    log_type: str
    event_time: datetime
    parse_time: datetime
    fields: dict[str, Any]
    extra: dict[str, Any]
    indicators: dict[str, list[str]]
    warnings: int
    line: int

    def to_json_dict(self) -> dict[str, Any]:
        """The flat normalized event: columns, p_ fields, indicator columns, p_extra."""
        out = dict(self.fields)
        out["p_log_type"] = self.log_type
        out["p_row_id"] = self.row_id
        out["p_event_time"] = format_utc(self.event_time)
        out["p_parse_time"] = _format_parse_time(self.parse_time)
        out.update(self.indicators)
        if self.extra:
            out["p_extra"] = self.extra
        return out


_last_parse_time: tuple[datetime | None, str] = (None, "")


def _format_parse_time(parse_time: datetime) -> str:
    """format_utc, once per parse time: a stream shares one among many events."""
    global _last_parse_time
    last = _last_parse_time
    if last[0] is parse_time:
        return last[1]
    text = format_utc(parse_time)
    _last_parse_time = (parse_time, text)
    return text


class FailureKind(StrEnum):
    """What a ParseFailure stands for."""

    RECORD = "record"  # one record did not parse (or was cut at a limit): stored, reading goes on
    STREAM_BREAK = "stream_break"  # compressed data ends early or is corrupt here: stored, and
    # nothing follows (raw: the partial record before the break; offset: the decompressed byte
    # where the data breaks)
    UNREADABLE = "unreadable"  # the object cannot be decompressed at all (not the compression its
    # name says): the only result, nothing is stored


@dataclass(slots=True)
class ParseFailure:
    line: int
    offset: int
    error: str
    raw: bytes
    kind: FailureKind = FailureKind.RECORD

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready: raw as text; when it is not valid UTF-8, also raw_base64 with exact bytes."""
        out: dict[str, Any] = {"line": self.line, "offset": self.offset, "error": self.error}
        if self.kind != FailureKind.RECORD:
            out["kind"] = str(self.kind)
        try:
            out["raw"] = self.raw.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            out["raw"] = self.raw.decode("utf-8", "backslashreplace")
            out["raw_base64"] = base64.b64encode(self.raw).decode("ascii")
        return out


# --- value coercion -------------------------------------------------------------------------


def to_text(value: Any) -> str:
    """string columns: numbers and booleans become their JSON text, objects compact JSON."""
    if type(value) is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    return dumps_text(value)


def dumps_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):  # big ints from the fallback decoder
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _int_coercer(lo: int, hi: int) -> Callable[[Any, Accumulator], Any]:
    def coerce_int(value: Any, acc: Accumulator) -> Any:
        kind = type(value)
        if kind is int:
            return value if lo <= value <= hi else INVALID
        if kind is str:
            if _INT_TEXT.fullmatch(value):
                number = int(value)
            elif _FLOAT_TEXT.fullmatch(value):
                f = float(value)
                if not f.is_integer():
                    return INVALID
                number = int(f)
            else:
                return INVALID
        elif kind is float and value.is_integer():
            number = int(value)
        else:
            return INVALID
        return number if lo <= number <= hi else INVALID

    return coerce_int


def _coerce_float(value: Any, acc: Accumulator) -> Any:
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else INVALID
    if kind is int:
        f = float(value)
        return f if math.isfinite(f) else INVALID
    if kind is str and _FLOAT_TEXT.fullmatch(value):
        f = float(value)
        return f if math.isfinite(f) else INVALID
    return INVALID


def _coerce_bool(value: Any, acc: Accumulator) -> Any:
    if value is True or value is False:
        return value
    if type(value) is str:
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return INVALID


def _coerce_json(value: Any, acc: Accumulator) -> Any:
    return value


def _embedded(coerce: Callable[[Any, Accumulator], Any]) -> Callable[[Any, Accumulator], Any]:
    """isEmbeddedJSON: a string holding JSON is decoded first."""

    def coerce_embedded(value: Any, acc: Accumulator) -> Any:
        if type(value) is str:
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                return INVALID
            if value is None:
                return ABSENT
        return coerce(value, acc)

    return coerce_embedded


def _ip_ok(text: str, kind: str) -> bool:
    version = ip_version(text)
    return bool(version) and (kind == "any" or version == (4 if kind == "ipv4" else 6))


def _cidr_ok(text: str, kind: str) -> bool:
    try:
        version = ipaddress.ip_network(text, strict=False).version
    except ValueError:
        return False
    return kind == "any" or version == (4 if kind == "ipv4" else 6)


def _validator(rule: Validation) -> Callable[[str], bool]:
    def valid(text: str) -> bool:
        if rule.allow is not None and text not in rule.allow:
            return False
        if rule.deny is not None and text in rule.deny:
            return False
        if rule.ip is not None and not _ip_ok(text, rule.ip):
            return False
        return rule.cidr is None or _cidr_ok(text, rule.cidr)

    return valid


def _string_coercer(field: Field) -> Callable[[Any, Accumulator], Any]:
    scan = compile_scanners(field.indicators)
    valid = _validator(field.validate) if field.validate is not None else None

    def coerce_string(value: Any, acc: Accumulator) -> Any:
        text = value if type(value) is str else to_text(value)
        if valid is not None and not valid(text):
            return INVALID
        if scan is not None:
            collect(acc, scan(text))
        return text

    return coerce_string


def _timestamp_coercer(field: Field) -> Callable[[Any, Accumulator], Any]:
    parse = compile_time_formats(field.time_formats)

    def coerce_timestamp(value: Any, acc: Accumulator) -> Any:
        result = parse(value)
        if result is None:
            return INVALID
        if result is ZERO_TIME:
            return ABSENT
        return result[0]  # type: ignore[index]

    return coerce_timestamp


def _array_coercer(field: Field) -> Callable[[Any, Accumulator], Any]:
    assert field.element is not None
    element = coercer_for(field.element)
    scan = compile_scanners(field.indicators)  # indicators on the array apply to each element

    def coerce_array(value: Any, acc: Accumulator) -> Any:
        if type(value) is not list:
            return INVALID
        out = []
        for item in value:
            if item is None:
                continue
            coerced = element(item, acc)
            if coerced is INVALID:
                return INVALID
            if coerced is ABSENT:
                continue
            if scan is not None and type(coerced) is str:
                collect(acc, scan(coerced))
            out.append(coerced)
        return out

    return coerce_array


def _object_coercer(field: Field) -> Callable[[Any, Accumulator], Any]:
    table = _build_table(field.fields)
    required = tuple(f.column for f in field.fields if f.required)

    def coerce_object(value: Any, acc: Accumulator) -> Any:
        if type(value) is not dict:
            return INVALID
        out: dict[str, Any] = {}
        for key, item in value.items():
            entry = table.get(key)
            if entry is None or item is None:
                if item is not None:
                    return INVALID  # unknown nested key: keep the whole object in p_extra
                continue
            coerced = entry[2](item, acc)
            if coerced is INVALID:
                return INVALID
            if coerced is not ABSENT:
                out[entry[1]] = coerced
        for column in required:
            if column not in out:
                return INVALID
        return out

    return coerce_object


def _scalar_coercer(field: Field) -> Callable[[Any, Accumulator], Any]:
    ftype = field.type
    if ftype == "string":
        return _string_coercer(field)
    if ftype in _INT_RANGES:
        coerce = _int_coercer(*_INT_RANGES[ftype])
        scan = compile_scanners(field.indicators)
        if scan is None:
            return coerce

        def coerce_int_scanned(value: Any, acc: Accumulator) -> Any:
            number = coerce(value, acc)
            if number is not INVALID:
                collect(acc, scan(str(number)))
            return number

        return coerce_int_scanned
    if ftype == "float":
        return _coerce_float
    if ftype == "boolean":
        return _coerce_bool
    if ftype == "timestamp":
        return _timestamp_coercer(field)
    return _coerce_json


def coercer_for(field: Field) -> Callable[[Any, Accumulator], Any]:
    """The function turning one JSON value into the column value (or INVALID / ABSENT)."""
    if field.type == "array":
        coerce = _array_coercer(field)
    elif field.type == "object":
        coerce = _object_coercer(field)
    else:
        coerce = _scalar_coercer(field)
    return _embedded(coerce) if field.is_embedded_json else coerce


# --- the compiled table -----------------------------------------------------------------------

# key -> (kind, column, coercer, extra) where extra is the scanner (string) or the time
# parser and event-time rank (timestamp).
Entry = tuple[int, str, Callable[[Any, Accumulator], Any], Any]


def _build_table(fields: tuple[Field, ...]) -> dict[str, Entry]:
    table: dict[str, Entry] = {}
    rank = 0
    for field in fields:
        coerce = coercer_for(field)
        if field.is_embedded_json:
            table[field.name] = (_OTHER, field.column, coerce, None)
        elif field.type == "string" and field.validate is None:
            scan = compile_scanners(field.indicators)
            kind = _STRING if scan is None else _STRING_SCAN
            table[field.name] = (kind, field.column, coerce, scan)
        elif field.type == "timestamp":
            event_rank = None
            if field.is_event_time:
                event_rank = rank
                rank += 1
            parse = compile_time_formats(field.time_formats)
            table[field.name] = (_TIMESTAMP, field.column, coerce, (parse, event_rank))
        elif field.type == "json":
            table[field.name] = (_JSON, field.column, coerce, None)
        elif field.type in _INT_RANGES and not field.indicators:
            group = (int, *_INT_RANGES[field.type])
            table[field.name] = (_OTHER_GROUPED, field.column, coerce, group)
        elif field.type == "boolean":
            table[field.name] = (_OTHER_GROUPED, field.column, coerce, bool)
        else:
            table[field.name] = (_OTHER, field.column, coerce, None)
    return table


_orjson_loads = orjson.loads


def _loads(raw: bytes | str) -> Any:
    """orjson, falling back to the stdlib only for integers beyond 64 bits (kept as text)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "64-bit" not in str(exc) and "Integer" not in str(exc):
            raise
    obj = json.loads(raw, parse_int=_big_int, parse_constant=_reject_constant)
    orjson.dumps(obj)  # lone surrogates and the like cannot be stored: fail the line
    return obj


def _big_int(text: str) -> int | str:
    number = int(text)
    return number if -(2**63) <= number < 2**64 else text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


MAX_NESTING = 254  # orjson writes no deeper value (it reads 1024): the store could not hold it


def nesting_error(raw: bytes | str, obj: Any) -> str | None:
    """Why a decoded line nested too deep to be stored cannot be an event; None when it can.
    Length, then counting brackets keep the exact check off the usual path (a decoded value
    nested N deep has N opening and N closing brackets)."""
    if len(raw) < 2 * (MAX_NESTING + 1):
        return None
    if isinstance(raw, str):
        opened = raw.count("{") + raw.count("[")
    else:
        opened = raw.count(b"{") + raw.count(b"[")
    if opened <= MAX_NESTING:
        return None
    try:
        orjson.dumps(obj)
    except orjson.JSONEncodeError:
        return f"JSON nested deeper than {MAX_NESTING} levels cannot be stored"
    return None


def _describe_json(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _preview(value: Any) -> str:
    text = to_text(value)
    return text if len(text) <= _MAX_RAW_IN_ERROR else text[:_MAX_RAW_IN_ERROR] + "..."


class _Plan:
    """How to normalize objects with one particular key order (a "shape").

    Logs repeat a few shapes (one per event type), so per-key decisions are taken once per
    shape. Per event, one C-level pass (itemgetter + map(type)) checks that every string, int
    and boolean column already has its type; then the decoded dict itself becomes the fields:
    unknown keys move to extra, a few keys are renamed, and only columns needing real work
    (timestamps, arrays, floats...) are visited one by one. Any surprise sends the whole event
    to the key-by-key reference path instead.
    """

    __slots__ = (
        "demoted",
        "int_ranges",
        "json_get",
        "others",
        "renames",
        "scans",
        "typed_get",
        "typed_types",
        "unknown",
    )

    def __init__(
        self, table: dict[str, Entry], keys: tuple[str, ...], demoted: frozenset[str] = frozenset()
    ) -> None:
        self.demoted = demoted  # keys seen with a surprising type: always coerced one by one
        unknown: list[str] = []
        typed: list[tuple[str, type]] = []
        int_ranges: list[tuple[str, int, int]] = []
        json_keys: list[str] = []
        renames: list[tuple[str, str]] = []
        others: list[tuple[str, str, Entry]] = []
        scans: list[tuple[str, Any]] = []
        for key in keys:
            entry = table.get(key)
            if entry is None:
                unknown.append(key)
                continue
            kind, column = entry[0], entry[1]
            if key in demoted:
                others.append((key, column, entry))
                continue
            if kind in (_STRING, _STRING_SCAN):
                typed.append((key, str))
                if kind == _STRING_SCAN:
                    scans.append((column, entry[3]))
            elif kind == _JSON:
                json_keys.append(key)
            elif kind == _OTHER_GROUPED:
                group = entry[3]
                if group is bool:
                    typed.append((key, bool))
                else:
                    typed.append((key, int))
                    int_ranges.append((key, group[1], group[2]))
            else:
                others.append((key, column, entry))
                continue
            if column != key:
                renames.append((key, column))
        self.unknown = tuple(unknown)
        self.typed_get = _tuple_getter([k for k, _ in typed]) if typed else None
        self.typed_types = tuple(t for _, t in typed)
        self.int_ranges = tuple(int_ranges)
        self.json_get = _tuple_getter(json_keys) if json_keys else None
        self.renames = tuple(renames)
        self.others = tuple(others)
        self.scans = tuple(scans)

    def fits(self, obj: dict[str, Any]) -> bool:
        """Every typed column already has its JSON type (and ints are in range)."""
        if self.typed_get is not None and tuple(map(type, self.typed_get(obj))) != self.typed_types:
            return False
        for key, lo, hi in self.int_ranges:
            if not lo <= obj[key] <= hi:
                return False
        return self.json_get is None or None not in self.json_get(obj)

    def misfits(self, obj: dict[str, Any], table: dict[str, Entry]) -> frozenset[str]:
        """The keys that made `fits` fail."""
        bad = set()
        for key, lo, hi in self.int_ranges:
            value = obj[key]
            if type(value) is not int or not lo <= value <= hi:
                bad.add(key)
        for key, value in obj.items():
            entry = table.get(key)
            if entry is None or key in self.demoted:
                continue
            if value is None:
                bad.add(key)
                continue
            kind = entry[0]
            if kind in (_STRING, _STRING_SCAN):
                if type(value) is not str:
                    bad.add(key)
            elif kind == _OTHER_GROUPED and entry[3] is bool and type(value) is not bool:
                bad.add(key)
        return frozenset(bad)


def _has_indicators(field: Field) -> bool:
    if field.indicators:
        return True
    if field.element is not None and _has_indicators(field.element):
        return True
    return any(_has_indicators(f) for f in field.fields)


def _tuple_getter(keys: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if len(keys) == 1:
        key = keys[0]
        return lambda obj: (obj[key],)
    return itemgetter(*keys)


_MAX_PLANS = 4096
_MAX_SEEN_SHAPES = 65536


class Parser:
    """A schema compiled once; `parse` turns one raw line into an event or a failure."""

    __slots__ = (
        "_collecting",
        "_plans",
        "_required",
        "_row_state",
        "_seen_shapes",
        "_table",
        "log_type",
        "schema",
    )

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.log_type = schema.name
        self._table = _build_table(schema.fields)
        self._required = tuple((f.name, f.column) for f in schema.fields if f.required)
        # top-level keys whose coercer may add indicators (the generated code skips the final
        # sort/dedupe when at most one single-scanner column can add any)
        self._collecting = frozenset(f.name for f in schema.fields if _has_indicators(f))
        self._plans: dict[tuple[str, ...], Callable[..., Any]] = {}
        self._seen_shapes: set[tuple[str, ...]] = set()  # shapes met once, not compiled yet
        # (last origin, its row id template: 24 hex chars of the origin + "%08x" for the line)
        self._row_state: list[Any] = [(None, "")]

    def __repr__(self) -> str:
        return f"<Parser {self.log_type}>"

    def parse(
        self,
        raw: bytes | str,
        origin: Origin,
        line: int,
        *,
        offset: int = 0,
        parse_time: datetime | None = None,
    ) -> ParsedEvent | ParseFailure:
        """Parse one JSON line. Never raises."""
        try:
            obj = _orjson_loads(raw)
        except orjson.JSONDecodeError:
            try:
                obj = _loads(raw)
            except (ValueError, TypeError, RecursionError) as exc:
                return ParseFailure(line, offset, f"invalid JSON: {exc}", _as_bytes(raw))
        except TypeError as exc:
            return ParseFailure(line, offset, f"invalid JSON: {exc}", _as_bytes(raw))
        if type(obj) is not dict:
            return ParseFailure(
                line, offset, f"expected a JSON object, got {_describe_json(obj)}", _as_bytes(raw)
            )
        if (error := nesting_error(raw, obj)) is not None:
            return ParseFailure(line, offset, error, _as_bytes(raw))
        try:
            build = self._plans.get(tuple(obj))
            if build is not None:  # the usual case: a shape seen before
                result = build(obj, raw, origin, line, offset, parse_time)
                if result is not MISFIT:
                    return result
            return self._build(obj, raw, origin, line, offset, parse_time)
        except Exception as exc:  # a bug must not lose the line: keep it as a failure
            return _internal_failure(exc, raw, line, offset)

    def parse_object(
        self,
        obj: dict[str, Any],
        raw: bytes | str,
        origin: Origin,
        line: int,
        *,
        offset: int = 0,
        parse_time: datetime | None = None,
        owned: bool = False,
    ) -> ParsedEvent | ParseFailure:
        """Normalize a decoded JSON object; with `owned=True` it is reused (modified)."""
        try:
            return self._build(obj if owned else dict(obj), raw, origin, line, offset, parse_time)
        except Exception as exc:  # a bug must not lose the line: keep it as a failure
            return _internal_failure(exc, raw, line, offset)

    def _build(
        self,
        obj: dict[str, Any],
        raw: bytes | str,
        origin: Origin,
        line: int,
        offset: int,
        parse_time: datetime | None,
    ) -> ParsedEvent | ParseFailure:
        """Normalize one decoded object in place (it becomes the fields), using its shape's plan."""
        shape = tuple(obj)
        build = self._plans.get(shape)
        if build is None:
            if not self._seen_before(shape):  # a one-off shape costs no compilation
                return self._build_generic(obj, raw, origin, line, offset, parse_time)
            build = self._compile_shape(shape, frozenset())
        result = build(obj, raw, origin, line, offset, parse_time)
        if result is MISFIT:
            # Quirks repeat per event type: coerce the offending keys one by one from now on.
            plan = build.plan
            build = self._compile_shape(shape, plan.demoted | plan.misfits(obj, self._table))
            result = build(obj, raw, origin, line, offset, parse_time)
            if result is MISFIT:  # pragma: no cover - misfits() names every offending key
                return self._build_generic(obj, raw, origin, line, offset, parse_time)
        return result

    def _seen_before(self, shape: tuple[str, ...]) -> bool:
        """True from a shape's second sighting on: compiling a plan costs as much as parsing
        ~30 lines, so shapes that never repeat (a hostile or messy source) take the generic path
        instead of compiling a plan each (bench/parse.py's "new key set" row)."""
        seen = self._seen_shapes
        if shape in seen:
            return True
        if len(seen) >= _MAX_SEEN_SHAPES:
            seen.clear()
        seen.add(shape)
        return False

    def _compile_shape(self, shape: tuple[str, ...], demoted: frozenset[str]) -> Callable[..., Any]:
        if len(self._plans) >= _MAX_PLANS:  # hostile or very varied input: start over
            self._plans.clear()
        plan = _Plan(self._table, shape, demoted)
        build = compile_plan(plan, self, shape)
        build.plan = plan
        self._plans[shape] = build
        return build

    def _build_generic(
        self,
        obj: dict[str, Any],
        raw: bytes | str,
        origin: Origin,
        line: int,
        offset: int,
        parse_time: datetime | None,
    ) -> ParsedEvent | ParseFailure:
        """The reference implementation: one key at a time (tests check _build against it)."""
        fields: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        acc: Accumulator = {}
        warnings = 0
        event_time = None
        event_rank = 1 << 30
        for key, value in obj.items():
            entry = self._table.get(key)
            if entry is None:
                extra[key] = value
                continue
            if value is None:
                continue
            kind = entry[0]
            if kind == _TIMESTAMP:
                parse, rank = entry[3]
                result = parse(value)
                if result is None:
                    extra[key] = value
                    warnings += 1
                elif result is not ZERO_TIME:
                    fields[entry[1]] = result[0]
                    if rank is not None and rank < event_rank:
                        event_rank = rank
                        event_time = result[1]
                continue
            coerced = entry[2](value, acc)
            if coerced is INVALID:
                extra[key] = value
                warnings += 1
            elif coerced is not ABSENT:
                fields[entry[1]] = coerced
        for name, column in self._required:
            if column not in fields:
                return self._required_failure(name, extra, raw, line, offset)
        return self._event(origin, line, parse_time, event_time, fields, extra, acc, warnings)

    def _event(
        self,
        origin: Origin,
        line: int,
        parse_time: datetime | None,
        event_time: datetime | None,
        fields: dict[str, Any],
        extra: dict[str, Any],
        acc: Accumulator,
        warnings: int,
    ) -> ParsedEvent:
        last = self._row_state[0]
        if last[0] is not origin:
            last = self._row_state[0] = (origin, _row_template(origin))
        if parse_time is None:
            parse_time = datetime.now(UTC)
        return ParsedEvent(
            last[1] % line if 0 <= line < 0x100000000 else _row_id(origin, line),
            self.log_type,
            event_time or parse_time,
            parse_time,
            fields,
            extra,
            finish(acc) if acc else acc,
            warnings,
            line,
        )

    def _required_failure(
        self, name: str, extra: dict[str, Any], raw: bytes | str, line: int, offset: int
    ) -> ParseFailure:
        value = extra.get(name)
        if value is None:
            error = f"required field {name!r} is missing"
        else:
            error = f"required field {name!r} has an invalid value: {_preview(value)}"
        return ParseFailure(line, offset, error, _as_bytes(raw))


def _internal_failure(exc: Exception, raw: bytes | str, line: int, offset: int) -> ParseFailure:
    error = f"internal error: {type(exc).__name__}: {exc}"
    return ParseFailure(line, offset, error, _as_bytes(raw))


def _as_bytes(raw: bytes | str) -> bytes:
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)


def _origin_key(origin: Origin) -> bytes:
    return "\x00".join((origin.source_id, origin.object_key, origin.version)).encode(
        "utf-8", "surrogateescape"
    )


def _row_prefix(origin: Origin) -> str:
    """24 hex chars naming the origin; the row id appends the line as 8 hex chars."""
    return hashlib.blake2b(_origin_key(origin), digest_size=12).hexdigest()


def _row_template(origin: Origin) -> str:
    """The row id as a %-template of the line: one C-level format per event."""
    return _row_prefix(origin) + "%08x"


def _row_id(origin: Origin, line: int) -> str:
    digest = hashlib.blake2b(_origin_key(origin) + b"\x00" + str(line).encode(), digest_size=16)
    return digest.hexdigest()


def compile_schema(schema: Schema) -> Parser:
    """Compile a schema once into a parser (not JSON, or transformed: parsers.text)."""
    if schema.parser is not None or schema.has_transforms:
        from parsers.text import TextParser

        return TextParser(schema)
    return Parser(schema)
