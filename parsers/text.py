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

from parsers.codegen import NOFAST, compile_line_plan
from parsers.parser import Origin, ParsedEvent, ParseFailure, Parser, _as_bytes, _loads
from parsers.schema import Field, ParserSpec, Schema, Transform

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


class Splitter:
    """Turns one line into {name: text} (None when it does not match): the reference path.

    `cut_code` hands the compiled parser the same cut as source lines setting v0, v1... (one
    local per name in `slots`) for its generated per-schema function (parsers.codegen)."""

    kind = ""
    header_lines = 0  # lines at the top of each object that are not records
    learns_header = False  # the columns come from the object's first line

    def __init__(self, empty: frozenset[str], trim: bool) -> None:
        self.empty = empty
        self.trim = trim

    def __call__(self, text: str, columns: list[str] | None = None) -> dict[str, Any] | None:
        raise NotImplementedError

    def cut_code(self, columns: list[str] | None = None) -> CutCode | None:
        """(source lines, their globals, slot names), or None when names repeat (the reference
        path says which value wins)."""
        raise NotImplementedError


# source lines setting v0..vN (or returning NOFAST), the names they need, the field of each vI
CutCode = tuple[list[str], dict[str, Any], tuple[str, ...]]


def build_splitter(spec: ParserSpec) -> Splitter:
    """The splitter of a csv / regex / fastmatch spec (ValueError('option: problem'))."""
    empty = frozenset(_strings(spec.option("emptyValues", ()), "emptyValues"))
    trim = _flag(spec.option("trimSpace", False), "trimSpace")
    if spec.kind == "csv":
        return CsvSplitter(spec, empty, trim)
    patterns = spec.option("match")
    if (
        not isinstance(patterns, tuple)
        or not patterns
        or not all(isinstance(p, str) for p in patterns)
    ):
        raise ValueError("match: a non-empty list of patterns")
    if spec.kind == "regex":
        source, groups = _regex_source(patterns, spec.option("patternDefinitions", ()))
        return PatternSplitter("regex", source, groups, empty, trim)
    source, groups = _fastmatch_source(patterns)
    return PatternSplitter("fastmatch", source, groups, empty, trim)


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


NO_HEADER = (
    "no header line seen for this object: the schema takes its columns from each object's header "
    "line (csv hasHeader: true without columns), which a stored failed line does not keep; to "
    "reprocess failed lines, list the columns in the schema (columns: [...], keeping hasHeader: "
    "true to skip the header line)"
)


# --- csv ----------------------------------------------------------------------------------------


class CsvSplitter(Splitter):
    """Values under the schema's columns, or under a header read from the object's first line."""

    kind = "csv"

    def __init__(self, spec: ParserSpec, empty: frozenset[str], trim: bool) -> None:
        super().__init__(empty, trim)
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
        self.delimiter = delimiter
        self.columns = list(columns or ())
        self.header_lines = (1 if has_header else 0) + skip
        self.learns_header = has_header and columns is None

    def values(self, text: str) -> list[str]:
        """The line's values (csv.Error on a broken quote)."""
        if '"' in text:
            rows = list(csv.reader([text], delimiter=self.delimiter, strict=True))
            return rows[0] if rows else []
        return text.split(self.delimiter)  # no quoting: what csv would do, much faster

    def header(self, text: str) -> list[str]:
        """The column names a header line gives."""
        row = next(csv.reader([text], delimiter=self.delimiter), [])
        return [name.strip() for name in row]

    def __call__(self, text: str, columns: list[str] | None = None) -> dict[str, Any] | None:
        names = self.columns if columns is None else columns
        values = self.values(text)
        if len(values) != len(names):
            return None
        return _finish(dict(zip(names, values)), self.empty, self.trim)  # noqa: B905 - checked

    def cut_code(self, columns: list[str] | None = None) -> CutCode | None:
        names = tuple(self.columns if columns is None else columns)
        if not names or len(set(names)) != len(names):
            return None
        lines = [
            "    if '\"' in text:",
            "        values = quoted(text)",
            "    else:",
            f"        values = text.split({self.delimiter!r})",
            f"    if len(values) != {len(names)}:",
            "        return NOFAST",
            f"    {_unpack(len(names))} = values",
        ]
        return lines, {"quoted": self.values}, names


def _unpack(count: int) -> str:
    """The targets v0, v1... of an unpacking assignment."""
    return ", ".join(f"v{i}" for i in range(count)) + ("," if count == 1 else "")


# --- regex and fastmatch ------------------------------------------------------------------------


class PatternSplitter(Splitter):
    """One regular expression whose groups sluice_gN hold the fields (fastmatch compiles to one)."""

    def __init__(
        self, kind: str, source: str, groups: dict[str, str], empty: frozenset[str], trim: bool
    ) -> None:
        super().__init__(empty, trim)
        self.kind = kind
        try:
            self.pattern = re.compile(source, re.DOTALL if kind == "fastmatch" else 0)
        except re.error as exc:
            raise ValueError(f"match: invalid regular expression: {exc}") from None
        if not groups and kind == "regex":  # fastmatch may only skip (%{_})
            raise ValueError("match: no named group (%{PATTERN:field} or (?P<field>...))")
        self.groups = groups  # regex group -> field name (field names may hold dots)

    def __call__(self, text: str, columns: list[str] | None = None) -> dict[str, Any] | None:
        found = self.pattern.fullmatch(text)
        if found is None:
            return None
        names = self.groups
        values: dict[str, Any] = {}
        for group, value in found.groupdict().items():
            if value is not None:
                values.setdefault(names[group], value)  # alternatives: the one that matched
        return _finish(values, self.empty, self.trim)

    def cut_code(self, columns: list[str] | None = None) -> CutCode:
        index = self.pattern.groupindex
        positions: dict[str, list[int]] = {}  # field -> its groups' positions in groups()
        for group, at in sorted(index.items(), key=lambda item: item[1]):  # as groupdict()
            if group in self.groups:
                positions.setdefault(self.groups[group], []).append(at - 1)
        names = tuple(positions)
        lines = [
            "    found = fullmatch(text)",
            "    if found is None:",
            "        return NOFAST",
        ]
        flat = [p[0] for p in positions.values() if len(p) == 1]
        if len(flat) == len(names) == self.pattern.groups and flat == sorted(flat):
            if names:  # (fastmatch may skip every field)
                lines.append(f"    {_unpack(len(names))} = found.groups()")
        else:
            lines.append("    g = found.groups()")
            for slot, found_at in enumerate(positions.values()):
                # several groups (alternatives) for one field: the first that matched, else None
                expr = f"g[{found_at[-1]}]"
                for position in reversed(found_at[:-1]):
                    expr = f"(g[{position}] if g[{position}] is not None else {expr})"
                lines.append(f"    v{slot} = {expr}")
        return lines, {"fullmatch": self.pattern.fullmatch}, names


def _regex_source(patterns: tuple[str, ...], definitions: Any) -> tuple[str, dict[str, str]]:
    """The expression with %{PATTERN:field} expanded, and its groups' field names."""
    if definitions and not (
        isinstance(definitions, tuple) and all(isinstance(v, str) for _, v in definitions)
    ):
        raise ValueError("patternDefinitions: a mapping of names to patterns")
    known = {**GROK, **dict(definitions or ())}
    groups: dict[str, str] = {}

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

    return expand("".join(patterns)), groups


def _fastmatch_source(patterns: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """Fastmatch as one expression (the first pattern that matches wins). Each field runs to the
    first occurrence of the literal after it, as a left-to-right find would; the last literal
    ends the line."""
    groups: dict[str, str] = {}
    sources = [_fastmatch_pattern(p, groups) for p in patterns]
    return "|".join(f"(?:{s})" for s in sources) if len(sources) > 1 else sources[0], groups


def _fastmatch_pattern(pattern: str, groups: dict[str, str]) -> str:
    parts = _FASTMATCH_REF.split(pattern)
    if len(parts) < 3:
        raise ValueError("match: a pattern needs at least one %{field}")
    out = [re.escape(parts[0])]
    rest = parts[1:]
    for index in range(0, len(rest), 2):
        name, literal = rest[index], rest[index + 1]
        last = index + 2 == len(rest)
        if not literal and not last:
            raise ValueError(f"match: %{{{name}}} needs text between it and the next field")
        value = ".*" if last else _up_to(literal)
        if name and not name.startswith("_"):  # '' and '_...' fields are matched, not kept
            group = f"sluice_g{len(groups)}"
            groups[group] = name
            value = f"(?P<{group}>{value})"
        step = value + re.escape(literal)
        out.append(step if last else f"(?>{step})")  # atomic: never a later occurrence
    return "".join(out)


def _up_to(literal: str) -> str:
    """Any text before the first occurrence of `literal`: characters other than its first, or
    its first not followed by the rest (the unrolled loop runs in C, no lazy backtracking)."""
    first, rest = re.escape(literal[0]), re.escape(literal[1:])
    if not rest:
        return f"[^{first}]*"
    return f"[^{first}]*(?:{first}(?!{rest})[^{first}]*)*"


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
    values become a decoded object for the JSON parser's own normalization (the reference path).

    Without transformations, the line is also compiled into one generated function per schema
    (per header for a csv that learns it) that cuts the line and coerces each column straight
    into the event (parsers.codegen.compile_line_plan); whatever it does not settle (a line that
    does not match, a broken quote, invalid UTF-8) goes the reference path, which says why."""

    __slots__ = ("_fast", "_fast_by_header", "_header_lines", "_headers", "_split", "_transform")

    takes_text = True  # a classifier hands it the raw line, not a decoded JSON object

    def __init__(self, schema: Schema) -> None:
        super().__init__(schema)
        self._split = build_splitter(schema.parser) if schema.parser is not None else None
        self._transform = compile_transforms(schema.fields)
        self._header_lines = self._split.header_lines if self._split is not None else 0
        # (origin, its columns, their fast path): one tuple, replaced whole (threads may share)
        self._headers: tuple[Any, ...] = (None, None, None)
        self._fast_by_header: dict[tuple[str, ...], Callable[..., Any] | None] = {}
        learns = self._split is not None and self._split.learns_header
        self._fast = None if learns else self._compile_fast(None)

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
        fast = self._fast
        if fast is None and (headers := self._headers)[0] is origin:
            fast = headers[2]
        if fast is not None:
            try:
                text = raw if type(raw) is str else raw.decode("utf-8")
                result = fast(text.rstrip("\r\n"), raw, origin, line, offset, parse_time)
            except Exception:  # invalid UTF-8, a broken quote...: the reference path says why
                result = NOFAST
            if result is not NOFAST:
                return result
        return self.parse_reference(raw, origin, line, offset=offset, parse_time=parse_time)

    def parse_reference(
        self,
        raw: bytes | str,
        origin: Origin,
        line: int,
        *,
        offset: int = 0,
        parse_time: datetime | None = None,
    ) -> ParsedEvent | ParseFailure:
        """The line cut into a dict and normalized by the JSON path (tests check `parse`
        against it)."""
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
        if split.learns_header:
            headers = self._headers
            columns = headers[1] if headers[0] is origin else None
            if columns is None:
                raise ValueError(NO_HEADER)
            obj = split(text, columns)
        else:
            obj = split(text)
        if obj is None:
            raise ValueError(f"the line does not match the {split.kind} pattern")
        return obj

    @property
    def line_based(self) -> bool:
        """csv/regex/fastmatch logs are lines, whatever their first character looks like."""
        return self._split is not None

    def _header(self, raw: bytes | str, origin: Origin, line: int) -> None:
        """skipHeaderLines are skipped; with hasHeader the line after them names the columns."""
        split = self._split
        if line == self._header_lines and isinstance(split, CsvSplitter) and split.learns_header:
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else raw
            columns = split.header(text.rstrip("\r\n"))
            self._headers = (origin, columns, self._fast_for_header(columns))

    def _fast_for_header(self, columns: list[str]) -> Callable[..., Any] | None:
        key = tuple(columns)
        cache = self._fast_by_header
        if key not in cache:
            if len(cache) >= _MAX_HEADERS:  # a source whose every object differs: start over
                cache.clear()
            cache[key] = self._compile_fast(columns)
        return cache[key]

    def _compile_fast(self, columns: list[str] | None) -> Callable[..., Any] | None:
        split = self._split
        if split is None or self._transform is not None:
            return None
        code = split.cut_code(columns)
        if code is None:
            return None
        cut, env, slots = code
        return compile_line_plan(self, cut, env, slots, trim=split.trim, empty=split.empty)


_MAX_HEADERS = 256


def compile_text_parser(schema: Schema) -> TextParser:
    return TextParser(schema)
