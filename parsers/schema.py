"""Panther-format log schemas: load a YAML document, check it, and describe it as dataclasses.

A schema that is wrong raises `SchemaError`, whose message names the file, the field path and
the problem, e.g. ``custom.yml: fields[3] (addr.local).type: unknown type 'strin'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml is much faster; fall back to the pure-Python loader when it is missing
    _YamlLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader

SCALAR_TYPES = frozenset(
    {"string", "int", "smallint", "bigint", "float", "boolean", "timestamp", "json"}
)
FIELD_TYPES = SCALAR_TYPES | {"array", "object"}
UNIX_TIME_FORMATS = frozenset({"unix", "unix_ms", "unix_us", "unix_ns"})
NAMED_TIME_FORMATS = UNIX_TIME_FORMATS | {"rfc3339"}
INDICATORS = frozenset(
    {
        "ip",
        "domain",
        "hostname",
        "net_addr",
        "url",
        "trace_id",
        "username",
        "email",
        "aws_arn",
        "aws_account_id",
        "aws_instance_id",
        "aws_tag",
        "md5",
        "sha1",
        "sha256",
    }
)
IP_KINDS = frozenset({"ipv4", "ipv6", "any"})

# Panther's field transformations (top-level fields): the value comes from elsewhere in the event
TRANSFORMS = ("rename", "copy", "concat", "split", "mask")
TRANSFORM_KEYS = {
    "rename": {"from"},
    "copy": {"from"},
    "concat": {"paths", "separator"},
    "split": {"from", "separator", "index"},
    "mask": {"type", "salt"},
}
MASK_TYPES = frozenset({"sha256", "md5", "redact"})
# Panther's parsers for logs that are not JSON, and their options
PARSER_OPTIONS = {
    "csv": {"delimiter", "hasHeader", "columns", "emptyValues", "trimSpace", "skipHeaderLines"},
    "regex": {"patternDefinitions", "match", "emptyValues", "trimSpace"},
    "fastmatch": {"match", "emptyValues", "trimSpace"},
}

FIELD_KEYS = frozenset(
    {
        "name",
        "required",
        "description",
        "type",
        "timeFormat",
        "timeFormats",
        "isEventTime",
        "indicators",
        "validate",
        "isEmbeddedJSON",
        "element",
        "fields",
        *TRANSFORMS,
    }
)
ELEMENT_KEYS = FIELD_KEYS - {"name", "required", "isEventTime", *TRANSFORMS}
VALIDATE_KEYS = frozenset({"allow", "deny", "ip", "cidr"})
# Catalog metadata the console shows on the log-type tile; optional in a schema document.
METADATA_KEYS = frozenset({"title", "vendor", "category", "icon", "transports"})
SCHEMA_KEYS = frozenset({"schema", "description", "referenceURL", "fields", "version", "parser"})

_COLUMN_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_SCHEMA_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


class SchemaError(ValueError):
    """A schema document is invalid; the message names file, field path and problem."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        where = f"{source}: {path}" if path else source
        super().__init__(f"{where}: {problem}")


def valid_log_type_name(name: str) -> bool:
    """Vendor.LogType: letters, digits and '_', dotted, starting with a letter."""
    return bool(_SCHEMA_NAME.match(name))


def column_name(name: str) -> str:
    """Panther's column naming: characters outside [A-Za-z0-9_] become '_'."""
    return _COLUMN_UNSAFE.sub("_", name)


@dataclass(frozen=True, slots=True)
class Validation:
    allow: frozenset[str] | None = None
    deny: frozenset[str] | None = None
    ip: str | None = None  # "ipv4" | "ipv6" | "any"
    cidr: str | None = None


@dataclass(frozen=True, slots=True)
class Transform:
    """A field transformation: where the field's value comes from (see TRANSFORM_KEYS)."""

    kind: str
    source: str = ""  # rename, copy, split: the key or dotted path read
    paths: tuple[str, ...] = ()  # concat
    separator: str = ""  # concat, split
    index: int = 0  # split
    mask: str = ""  # mask: sha256, md5 or redact
    salt: str = ""


@dataclass(frozen=True, slots=True)
class ParserSpec:
    """`parser:` of a schema whose logs are not JSON: csv, regex or fastmatch, with its options."""

    kind: str
    options: tuple[tuple[str, Any], ...]

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    column: str
    path: str
    required: bool = False
    description: str = ""
    time_formats: tuple[str, ...] = ()
    is_event_time: bool = False
    indicators: tuple[str, ...] = ()
    validate: Validation | None = None
    is_embedded_json: bool = False
    element: Field | None = None
    fields: tuple[Field, ...] = ()
    transform: Transform | None = None


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    description: str
    reference_url: str
    fields: tuple[Field, ...]
    source_name: str = "<schema>"
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)
    text: str = field(default="", repr=False, compare=False)
    parser: ParserSpec | None = None  # None: JSON

    @property
    def has_transforms(self) -> bool:
        return any(f.transform is not None for f in self.fields)

    @property
    def field_count(self) -> int:
        return len(self.fields)


def load_schema(path_or_text: str | Path, *, source_name: str | None = None) -> Schema:
    """Load a Panther-format schema from a path or from YAML text."""
    text, source = _read_source(path_or_text, source_name)
    try:
        doc = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - CSafeLoader/SafeLoader only
    except yaml.YAMLError as exc:
        # the context ("while parsing a flow sequence") starts where the user has to look
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise SchemaError(source, where, f"invalid YAML: {_first_line(exc)}") from None
    return _build_schema(doc, source, text)


def _read_source(path_or_text: str | Path, source_name: str | None) -> tuple[str, str]:
    if isinstance(path_or_text, Path) or (
        "\n" not in path_or_text and path_or_text.endswith((".yml", ".yaml"))
    ):
        path = Path(path_or_text)
        try:
            return path.read_text(encoding="utf-8"), source_name or str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise SchemaError(source_name or str(path), "", f"cannot read: {exc}") from None
    return path_or_text, source_name or "<schema>"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _build_schema(doc: Any, source: str, text: str) -> Schema:
    if not isinstance(doc, dict):
        raise SchemaError(source, "", "a schema must be a YAML mapping")
    unknown = set(doc) - SCHEMA_KEYS - METADATA_KEYS
    if unknown:
        raise SchemaError(
            source, "", f"unknown top-level key(s): {', '.join(sorted(map(str, unknown)))}"
        )
    name = doc.get("schema")
    if not isinstance(name, str) or not name:
        raise SchemaError(source, "schema", "missing or not a string (e.g. 'Vendor.LogType')")
    if not _SCHEMA_NAME.match(name):
        raise SchemaError(source, "schema", f"invalid log type name {name!r}")
    fields_doc = doc.get("fields")
    if not isinstance(fields_doc, list) or not fields_doc:
        raise SchemaError(source, "fields", "must be a non-empty list")
    fields = _build_fields(fields_doc, source, "fields")
    metadata = {k: doc[k] for k in METADATA_KEYS if k in doc}
    for key in ("description", "referenceURL"):
        if key in doc and not isinstance(doc[key], str):
            raise SchemaError(source, key, "must be a string")
    return Schema(
        name=name,
        description=(doc.get("description") or "").strip(),
        reference_url=(doc.get("referenceURL") or "").strip(),
        fields=fields,
        source_name=source,
        metadata=metadata,
        text=text,
        parser=_parser_spec(doc.get("parser"), source),
    )


def _parser_spec(raw: Any, source: str) -> ParserSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) != 1:
        raise SchemaError(source, "parser", f"one of {', '.join(PARSER_OPTIONS)} with its options")
    ((kind, options),) = raw.items()
    if kind not in PARSER_OPTIONS:
        raise SchemaError(
            source, "parser", f"unknown parser {kind!r} (one of {', '.join(PARSER_OPTIONS)})"
        )
    if not isinstance(options, dict):
        raise SchemaError(source, f"parser.{kind}", "must be a mapping of options")
    unknown = set(options) - PARSER_OPTIONS[kind]
    if unknown:
        raise SchemaError(
            source, f"parser.{kind}", f"unknown option(s): {', '.join(sorted(map(str, unknown)))}"
        )
    spec = ParserSpec(kind, tuple((k, _frozen(v)) for k, v in options.items()))
    from parsers.text import check_spec  # the text parsers know what their options need

    try:
        check_spec(spec)
    except ValueError as exc:
        where, _, problem = str(exc).partition(": ")
        raise SchemaError(source, f"parser.{kind}.{where}", problem) from None
    return spec


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    return value


def _transform(item: dict, source: str, where: str) -> Transform | None:
    kinds = [k for k in TRANSFORMS if k in item]
    if not kinds:
        return None
    if len(kinds) > 1:
        raise SchemaError(source, where, f"one transformation per field ({', '.join(kinds)})")
    kind = kinds[0]
    at = f"{where}.{kind}"
    if where.count("fields[") != 1 or ".element" in where:
        raise SchemaError(source, at, "transformations apply to top-level fields only")
    options = item[kind]
    if not isinstance(options, dict):
        raise SchemaError(source, at, f"a mapping with {', '.join(sorted(TRANSFORM_KEYS[kind]))}")
    unknown = set(options) - TRANSFORM_KEYS[kind]
    if unknown:
        raise SchemaError(source, at, f"unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    if kind == "mask":
        mask = options.get("type", "sha256")
        if mask not in MASK_TYPES:
            raise SchemaError(source, f"{at}.type", f"one of {', '.join(sorted(MASK_TYPES))}")
        return Transform(kind, mask=mask, salt=str(options.get("salt", "")))
    if kind == "concat":
        paths = options.get("paths")
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise SchemaError(source, f"{at}.paths", "a non-empty list of keys or dotted paths")
        return Transform(kind, paths=tuple(paths), separator=str(options.get("separator", "")))
    origin = options.get("from")
    if not isinstance(origin, str) or not origin:
        raise SchemaError(source, f"{at}.from", "the key or dotted path to read")
    if kind == "split":
        separator, index = options.get("separator"), options.get("index", 0)
        if not isinstance(separator, str) or not separator:
            raise SchemaError(source, f"{at}.separator", "a non-empty string")
        if not isinstance(index, int) or isinstance(index, bool):
            raise SchemaError(source, f"{at}.index", "an integer (negative counts from the end)")
        return Transform(kind, source=origin, separator=separator, index=index)
    return Transform(kind, source=origin)


def _build_fields(items: list[Any], source: str, path: str) -> tuple[Field, ...]:
    fields: list[Field] = []
    columns: dict[str, str] = {}
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise SchemaError(source, where, "each field must be a mapping")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise SchemaError(source, f"{where}.name", "missing or not a string")
        where = f"{where} ({name})"
        built = _build_field(item, source, where, name=name, keys=FIELD_KEYS)
        if built.column in columns:
            raise SchemaError(
                source,
                where,
                f"column {built.column!r} clashes with field {columns[built.column]!r}",
            )
        columns[built.column] = name
        fields.append(built)
    return tuple(fields)


def _build_field(item: dict, source: str, where: str, *, name: str, keys: frozenset[str]) -> Field:
    unknown = set(item) - keys
    if unknown:
        raise SchemaError(source, where, f"unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    ftype = item.get("type")
    if ftype not in FIELD_TYPES:
        raise SchemaError(
            source,
            f"{where}.type",
            f"unknown type {ftype!r} (one of {', '.join(sorted(FIELD_TYPES))})",
        )
    for flag in ("required", "isEventTime", "isEmbeddedJSON"):
        if flag in item and not isinstance(item[flag], bool):
            raise SchemaError(source, f"{where}.{flag}", "must be true or false")
    description = item.get("description") or ""
    if not isinstance(description, str):
        raise SchemaError(source, f"{where}.description", "must be a string")
    time_formats = _time_formats(item, ftype, source, where)
    if item.get("isEventTime") and ftype != "timestamp":
        raise SchemaError(
            source, f"{where}.isEventTime", "only a timestamp field can be the event time"
        )
    indicators = _indicators(item, ftype, source, where)
    validate = _validation(item.get("validate"), ftype, source, f"{where}.validate")
    if item.get("isEmbeddedJSON") and ftype not in ("json", "object", "array"):
        raise SchemaError(source, f"{where}.isEmbeddedJSON", "only json, object or array fields")
    element = None
    sub_fields: tuple[Field, ...] = ()
    if ftype == "array":
        elem = item.get("element")
        if not isinstance(elem, dict):
            raise SchemaError(source, f"{where}.element", "an array needs an 'element' mapping")
        element = _build_field(elem, source, f"{where}.element", name=name, keys=ELEMENT_KEYS)
    elif "element" in item:
        raise SchemaError(source, f"{where}.element", "only an array has an element")
    if ftype == "object":
        sub = item.get("fields")
        if not isinstance(sub, list) or not sub:
            raise SchemaError(
                source, f"{where}.fields", "an object needs a non-empty 'fields' list"
            )
        sub_fields = _build_fields(sub, source, f"{where}.fields")
    elif "fields" in item:
        raise SchemaError(source, f"{where}.fields", "only an object has fields")
    return Field(
        name=name,
        type=ftype,
        column=column_name(name),
        path=where,
        required=bool(item.get("required", False)),
        description=description.strip(),
        time_formats=time_formats,
        is_event_time=bool(item.get("isEventTime", False)),
        indicators=indicators,
        validate=validate,
        is_embedded_json=bool(item.get("isEmbeddedJSON", False)),
        element=element,
        fields=sub_fields,
        transform=_transform(item, source, where),
    )


def _time_formats(item: dict, ftype: str, source: str, where: str) -> tuple[str, ...]:
    formats: list[Any] = []
    if "timeFormats" in item:
        if not isinstance(item["timeFormats"], list) or not item["timeFormats"]:
            raise SchemaError(source, f"{where}.timeFormats", "must be a non-empty list")
        formats.extend(item["timeFormats"])
    if "timeFormat" in item:
        formats.append(item["timeFormat"])
    if ftype != "timestamp":
        if formats:
            raise SchemaError(
                source, f"{where}.timeFormats", "only a timestamp field has time formats"
            )
        return ()
    if not formats:
        raise SchemaError(
            source, f"{where}.timeFormats", "a timestamp needs timeFormats (e.g. rfc3339)"
        )
    for fmt in formats:
        if not isinstance(fmt, str) or not fmt:
            raise SchemaError(source, f"{where}.timeFormats", f"invalid time format {fmt!r}")
        if fmt not in NAMED_TIME_FORMATS and "%" not in fmt:
            raise SchemaError(
                source,
                f"{where}.timeFormats",
                f"unknown time format {fmt!r} (rfc3339, unix, unix_ms, unix_us, unix_ns "
                "or a strftime pattern)",
            )
    return tuple(dict.fromkeys(formats))


def _indicators(item: dict, ftype: str, source: str, where: str) -> tuple[str, ...]:
    raw = item.get("indicators")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        raise SchemaError(source, f"{where}.indicators", "must be a list of indicator names")
    for ind in raw:
        if ind not in INDICATORS:
            raise SchemaError(
                source,
                f"{where}.indicators",
                f"unknown indicator {ind!r} (one of {', '.join(sorted(INDICATORS))})",
            )
    if ftype not in ("string", "array", "int", "bigint", "smallint"):
        raise SchemaError(
            source, f"{where}.indicators", f"indicators do not apply to {ftype} fields"
        )
    return tuple(dict.fromkeys(raw))


def _validation(raw: Any, ftype: str, source: str, where: str) -> Validation | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SchemaError(source, where, "must be a mapping with allow, deny, ip or cidr")
    unknown = set(raw) - VALIDATE_KEYS
    if unknown:
        raise SchemaError(source, where, f"unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    if ftype != "string":
        raise SchemaError(source, where, "validation applies to string fields only")
    lists: dict[str, frozenset[str] | None] = {}
    for key in ("allow", "deny"):
        values = raw.get(key)
        if values is None:
            lists[key] = None
            continue
        if not isinstance(values, list) or not values:
            raise SchemaError(source, f"{where}.{key}", "must be a non-empty list of strings")
        lists[key] = frozenset(str(v) for v in values)
    kinds: dict[str, str | None] = {}
    for key in ("ip", "cidr"):
        value = raw.get(key)
        if value is True:
            value = "any"
        if value is not None and value not in IP_KINDS:
            raise SchemaError(
                source, f"{where}.{key}", f"must be one of {', '.join(sorted(IP_KINDS))}"
            )
        kinds[key] = value
    return Validation(allow=lists["allow"], deny=lists["deny"], ip=kinds["ip"], cidr=kinds["cidr"])
