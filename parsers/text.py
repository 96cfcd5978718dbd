"""Logs that are not JSON, in Panther's schema format: `parser: csv`, `regex` or `fastmatch` cut a
line into named string values; Panther's field transformations (rename, copy, concat, split,
mask) move values around. The result is handed to the compiled JSON parser as a decoded object,
so types, coercion, indicators, p_extra and failures follow the same rules as JSON logs.

    parser:
      csv: {delimiter: ",", hasHeader: true}            # or columns: [a, b, c]; skipHeaderLines
      regex: {match: ['%{IP:client} %{WORD:verb}'], patternDefinitions: {...}}   # or (?P<n>...)
      fastmatch: {match: ['%{client} - %{user} [%{time}] "%{request}" %{status}']}
    # each with emptyValues: ["-"] (values meaning "absent") and trimSpace: true
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from parsers.parser import Origin, ParsedEvent, ParseFailure, Parser, _as_bytes, _loads
from parsers.schema import Field, ParserSpec, Schema, Transform

Splitter = Callable[[str], "dict[str, Any] | None"]

# Grok-style patterns a regex schema may name as %{NAME} or %{NAME:field}
GROK = {
    "WORD": r"\b\w+\b",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "DATA": r".*?",
    "GREEDYDATA": r".*",
    "INT": r"[+-]?\d+",
    "POSINT": r"\b[1-9]\d*\b",
    "NUMBER": r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)",
    "IPV4": r"(?:\d{1,3}\.){3}\d{1,3}",
    "IPV6": r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]+",
    "IP": r"(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]+)",
    "HOSTNAME": r"\b[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*\.?\b",
    "USER": r"[a-zA-Z0-9._-]+",
    "QUOTEDSTRING": r'"(?:[^"\\]|\\.)*"',
    "HTTPDATE": r"\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}",
    "SYSLOGTIMESTAMP": r"\w{3} +\d{1,2} \d{2}:\d{2}:\d{2}",
    "TIMESTAMP_ISO8601": (
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::?\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    ),
}
_GROK_REF = re.compile(r"%\{(\w+)(?::([^}]+))?\}")
_NAMED_GROUP = re.compile(r"\(\?P?<(?!sluice_g\d)([A-Za-z_][\w.]*)>")  # not ours (sluice_gN)
_FASTMATCH_REF = re.compile(r"%\{([^}]*)\}")


# --- checking a parser spec (schema.py asks while loading) ------------------------------------


def check_spec(spec: ParserSpec) -> None:
    """ValueError('option: problem') when the spec cannot work."""
    build_splitter(spec)


def build_splitter(spec: ParserSpec) -> Splitter:
    """The function turning one line into {name: text} (None when it does not match)."""
    empty = frozenset(_strings(spec.option("emptyValues", ()), "emptyValues"))
    trim = _flag(spec.option("trimSpace", False), "trimSpace")
    if spec.kind == "csv":
        return _csv_splitter(spec, empty, trim)
    patterns = spec.option("match")
    if (
        not isinstance(patterns, tuple)
        or not patterns
        or not all(isinstance(p, str) for p in patterns)
    ):
        raise ValueError("match: a non-empty list of patterns")
    if spec.kind == "regex":
        return _regex_splitter(patterns, spec.option("patternDefinitions", ()), empty, trim)
    return _fastmatch_splitter(patterns, empty, trim)


def _strings(value: Any, option: str) -> tuple[str, ...]:
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{option}: a list of strings")
    return value


def _flag(value: Any, option: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{option}: true or false")
    return value


def _finish(values: dict[str, str], empty: frozenset[str], trim: bool) -> dict[str, Any]:
    """Trimmed values; empty ones (and the emptyValues) left out."""
    if not trim and "" not in empty:
        empty = empty | {""}
    if not trim and empty.isdisjoint(values.values()) and None not in values.values():
        return values  # the usual line: nothing to drop (one C-level pass)
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        if trim:
            value = value.strip()
        if value and value not in empty:
            out[key] = value
    return out


# --- csv ----------------------------------------------------------------------------------------


def _csv_splitter(spec: ParserSpec, empty: frozenset[str], trim: bool) -> Splitter:
    delimiter = spec.option("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValueError("delimiter: one character (not a quote or a line break)")
    columns = spec.option("columns")
    has_header = _flag(spec.option("hasHeader", False), "hasHeader")
    if columns is not None:
        columns = _strings(columns, "columns")
        if not columns:
            raise ValueError("columns: a non-empty list of strings")
    elif not has_header:
        raise ValueError("columns: give the columns, or hasHeader: true")
    skip = spec.option("skipHeaderLines", 0)
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        raise ValueError("skipHeaderLines: a number of lines, 0 or more")
    names = list(columns or ())

    def split_csv(text: str, names: list[str] = names) -> dict[str, Any] | None:
        """The values under `names` (the schema's columns, or a header read from the object)."""
        if '"' in text:
            rows = list(csv.reader([text], delimiter=delimiter, strict=True))
            values = rows[0] if rows else []
        else:  # no quoting: a plain split is what csv would do, much faster
            values = text.split(delimiter)
        if len(values) != len(names):
            return None
        return _finish(dict(zip(names, values)), empty, trim)  # noqa: B905 - lengths checked

    split_csv.header_lines = (1 if has_header else 0) + skip  # type: ignore[attr-defined]
    split_csv.learns_header = has_header and columns is None  # type: ignore[attr-defined]
    split_csv.columns = names  # type: ignore[attr-defined]
    split_csv.delimiter = delimiter  # type: ignore[attr-defined]
    return split_csv


# --- regex --------------------------------------------------------------------------------------


def _regex_splitter(
    patterns: tuple[str, ...], definitions: Any, empty: frozenset[str], trim: bool
) -> Splitter:
    if definitions and not (
        isinstance(definitions, tuple) and all(isinstance(v, str) for _, v in definitions)
    ):
        raise ValueError("patternDefinitions: a mapping of names to patterns")
    known = {**GROK, **dict(definitions or ())}
    groups: dict[str, str] = {}  # regex group -> field name (field names may hold dots)

    def group_for(name: str) -> str:
        group = f"sluice_g{len(groups)}"
        groups[group] = name
        return group

    def expand(pattern: str, depth: int = 0) -> str:
        if depth > 10:
            raise ValueError("patternDefinitions: patterns refer to each other in a loop")

        def ref(match: re.Match[str]) -> str:
            name, field = match.group(1), match.group(2)
            if name not in known:
                raise ValueError(f"match: unknown pattern %{{{name}}}")
            body = expand(known[name], depth + 1)
            return f"(?P<{group_for(field)}>{body})" if field else f"(?:{body})"

        pattern = _GROK_REF.sub(ref, pattern)
        return _NAMED_GROUP.sub(lambda m: f"(?P<{group_for(m.group(1))}>", pattern)

    source = expand("".join(patterns))
    try:
        compiled = re.compile(source)
    except re.error as exc:
        raise ValueError(f"match: invalid regular expression: {exc}") from None
    if not groups:
        raise ValueError("match: no named group (%{PATTERN:field} or (?P<field>...))")
    fullmatch = compiled.fullmatch
    names = groups

    def split_regex(text: str) -> dict[str, Any] | None:
        found = fullmatch(text)
        if found is None:
            return None
        values: dict[str, Any] = {}
        for group, value in found.groupdict().items():
            if value is not None:
                values.setdefault(names[group], value)
        return _finish(values, empty, trim)

    split_regex.pattern = compiled  # type: ignore[attr-defined]
    return split_regex


# --- fastmatch ----------------------------------------------------------------------------------


def _fastmatch_splitter(patterns: tuple[str, ...], empty: frozenset[str], trim: bool) -> Splitter:
    compiled = [_fastmatch_pattern(p) for p in patterns]

    def split_fastmatch(text: str) -> dict[str, Any] | None:
        for prefix, steps in compiled:
            values = _fastmatch(text, prefix, steps)
            if values is not None:
                return _finish(values, empty, trim)
        return None

    return split_fastmatch


def _fastmatch_pattern(pattern: str) -> tuple[str, list[tuple[str, str]]]:
    """(literal prefix, [(field, literal after it)]); '' or '_…' fields are skipped."""
    parts = _FASTMATCH_REF.split(pattern)
    if len(parts) < 3:
        raise ValueError("match: a pattern needs at least one %{field}")
    prefix, rest = parts[0], parts[1:]
    steps = []
    for index in range(0, len(rest), 2):
        name, literal = rest[index], rest[index + 1]
        if not literal and index + 2 < len(rest):
            raise ValueError(f"match: %{{{name}}} needs text between it and the next field")
        steps.append((name, literal))
    return prefix, steps


def _fastmatch(text: str, prefix: str, steps: list[tuple[str, str]]) -> dict[str, str] | None:
    if not text.startswith(prefix):
        return None
    values: dict[str, str] = {}
    pos = len(prefix)
    last = len(steps) - 1
    for index, (name, literal) in enumerate(steps):
        if not literal:  # the last field takes the rest of the line
            end = len(text)
        elif index == last:  # the last literal ends the line
            if not text.endswith(literal) or len(text) - len(literal) < pos:
                return None
            end = len(text) - len(literal)
        else:
            end = text.find(literal, pos)
            if end < 0:
                return None
        if name and not name.startswith("_"):
            values[name] = text[pos:end]
        pos = end + len(literal)
    return values


# --- transformations ----------------------------------------------------------------------------


def _path(obj: dict[str, Any], path: str) -> Any:
    """The value at a key, else at a dotted path of nested objects (None when absent)."""
    if path in obj:
        return obj[path]
    value: Any = obj
    for part in path.split("."):
        if type(value) is not dict:
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    return value if type(value) is str else orjson.dumps(value).decode()


def compile_transforms(fields: tuple[Field, ...]) -> Callable[[dict[str, Any]], None] | None:
    """One function applying the fields' transformations to a decoded object in place."""
    steps = [(f.name, f.transform) for f in fields if f.transform is not None]
    if not steps:
        return None

    def transform(obj: dict[str, Any]) -> None:
        for name, spec in steps:
            value = _apply(spec, obj, name)
            if value is None:
                obj.pop(name, None) if spec.kind == "mask" else None
            else:
                obj[name] = value

    return transform


def _apply(spec: Transform, obj: dict[str, Any], name: str) -> Any:
    kind = spec.kind
    if kind == "rename":
        return obj.pop(spec.source, None)
    if kind == "copy":
        return _path(obj, spec.source)
    if kind == "concat":
        parts = [_path(obj, p) for p in spec.paths]
        present = [_text(p) for p in parts if p is not None]
        return spec.separator.join(present) if present else None
    if kind == "split":
        value = _path(obj, spec.source)
        if value is None:
            return None
        pieces = _text(value).split(spec.separator)
        return pieces[spec.index] if -len(pieces) <= spec.index < len(pieces) else None
    value = obj.get(name)  # mask: the field's own value
    if value is None:
        return None
    if spec.mask == "redact":
        return "****"
    digest = hashlib.sha256 if spec.mask == "sha256" else hashlib.md5
    return digest((spec.salt + _text(value)).encode("utf-8")).hexdigest()


# --- the parser ---------------------------------------------------------------------------------


class TextParser(Parser):
    """A schema whose lines are cut by csv/regex/fastmatch (or JSON with transformations): the
    values become a decoded object for the JSON parser's own normalization."""

    __slots__ = ("_header_lines", "_headers", "_learns_header", "_split", "_transform")

    takes_text = True  # a classifier hands it the raw line, not a decoded JSON object

    def __init__(self, schema: Schema) -> None:
        super().__init__(schema)
        self._split = build_splitter(schema.parser) if schema.parser is not None else None
        self._transform = compile_transforms(schema.fields)
        self._header_lines = getattr(self._split, "header_lines", 0)
        self._learns_header = getattr(self._split, "learns_header", False)
        self._headers: list[Any] = [None, None]  # (origin, its columns) learnt from line 1

    def parse(
        self,
        raw: bytes | str,
        origin: Origin,
        line: int,
        *,
        offset: int = 0,
        parse_time: datetime | None = None,
    ) -> ParsedEvent | ParseFailure | None:
        """An event, a failure, or None for a header line (nothing to store)."""
        if line <= self._header_lines:
            self._header(raw, origin, line)
            return None
        try:
            obj = self._decode(raw, origin)
        except (ValueError, TypeError, RecursionError, csv.Error) as exc:
            return ParseFailure(line, offset, str(exc), _as_bytes(raw))
        try:
            if self._transform is not None:
                self._transform(obj)
            return self._build(obj, raw, origin, line, offset, parse_time)
        except Exception as exc:  # a bug must not lose the line: keep it as a failure
            return ParseFailure(line, offset, f"internal error: {exc!r}", _as_bytes(raw))

    def parse_object(self, obj: dict[str, Any], raw: bytes | str, origin: Origin, line: int, **kw):
        if self._split is not None:  # a classifier decoded a JSON line: not ours
            return self.parse(raw, origin, line, offset=kw.get("offset", 0))
        obj = dict(obj)
        if self._transform is not None:
            self._transform(obj)
        kw["owned"] = True
        return Parser.parse_object(self, obj, raw, origin, line, **kw)

    def _decode(self, raw: bytes | str, origin: Origin) -> dict[str, Any]:
        if self._split is None:
            try:
                obj = _loads(raw)
            except ValueError as exc:
                raise ValueError(f"invalid JSON: {exc}") from None
            if type(obj) is not dict:
                raise ValueError("expected a JSON object")
            return obj
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
        text = text.rstrip("\r\n")
        split = self._split
        if self._learns_header:
            columns = self._headers[1] if self._headers[0] is origin else None
            if columns is None:
                raise ValueError("no header line seen for this object")
            obj = split(text, columns)  # type: ignore[call-arg]
        else:
            obj = split(text)
        if obj is None:
            raise ValueError(f"the line does not match the {self.schema.parser.kind} pattern")  # type: ignore[union-attr]
        return obj

    @property
    def line_based(self) -> bool:
        """csv/regex/fastmatch logs are lines, whatever their first character looks like."""
        return self._split is not None

    def _header(self, raw: bytes | str, origin: Origin, line: int) -> None:
        """skipHeaderLines are skipped; with hasHeader the line after them names the columns."""
        if line == self._header_lines and self._learns_header:
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else raw
            delimiter = self._split.delimiter  # type: ignore[union-attr]
            columns = next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), [])
            self._headers[:] = [origin, [c.strip() for c in columns]]


def compile_text_parser(schema: Schema) -> TextParser:
    return TextParser(schema)
