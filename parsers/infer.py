"""Schema inference: JSON records in, the Panther-format schema a person would write out.

`Inference` folds records into a tree of `Node`s (one per key path: how often the key was seen,
null, which JSON kinds, the range of its numbers and what all of its strings look like), and
renders that tree as a schema. Folding is a monoid: `a.merge(b)` equals folding a's records then
b's, so more samples only widen the schema (a type becomes wider, `required` can only go away).

The rules follow the parser's own coercion (`parsers.parser`), so the inferred schema parses every
record it was inferred from without a failure or a warning:

- strings whose every value parses as RFC 3339 become `timestamp` (`rfc3339`); numbers become
  Unix timestamps only when the key's name says time and every value falls in a plausible range
  for seconds, ms, us or ns;
- ints are `bigint` (a wider int than 64 bits stays `string`), ints and floats `float`, any other
  mix of scalars `string` (strings take numbers and booleans as text), a mix of objects or
  arrays with anything else `json`;
- objects with keys become `object` with `fields`; arrays `array` with the merged `element`;
- `required: true` for keys present and not null in every record (every parent object);
- indicators from what every value looks like (all IPs: `ip`, ...) and from the key's name;
- a key whose column clashes with an earlier one (`a-b` and `a_b`) stays out of the schema (its
  values land in `p_extra`); inside an object such a clash makes the object `json`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import IO, Any

import orjson
import yaml

from parsers.indicators import ip_version, split_host
from parsers.parser import _loads
from parsers.schema import column_name
from parsers.streams import split
from parsers.timestamps import ZERO_TIME, parse_rfc3339

# JSON kinds seen at a key path
K_STR, K_INT, K_FLOAT, K_BOOL, K_OBJ, K_ARR = 1, 2, 4, 8, 16, 32
K_SCALAR = K_STR | K_INT | K_FLOAT | K_BOOL

# What every string value of a key looks like (bits stay set while all values match)
S_RFC3339 = 1
S_IP = 2
S_EMAIL = 4
S_URL = 8
S_ARN = 16
S_DOMAIN = 32
S_MD5 = 64
S_SHA1 = 128
S_SHA256 = 256
S_INSTANCE = 512
S_ACCOUNT = 1024
S_NET_ADDR = 2048  # host:port with an IP or domain host
S_ALL = 4095
S_INDICATORS = S_ALL & ~S_RFC3339
S_ZERO = 8192  # not a property of all values: this one value is Go's zero time

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
MAX_OBJECT_KEYS = 200  # more distinct keys than this: a map keyed by data, better `json`

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.ASCII)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#]+[^\s]*", re.ASCII)
_DOMAIN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?", re.ASCII
)
_HEX = re.compile(r"[0-9a-fA-F]+", re.ASCII)
_INSTANCE = re.compile(r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})", re.ASCII)
_ARN = re.compile(r"arn:[^:\s]+:[^:\s]*:[^:\s]*:[^:\s]*:\S+", re.ASCII)

# Plausible Unix times (2001-09-09 .. 2096-10-02) in each unit, for numbers named like a time.
_UNIX_RANGES = (
    ("unix", 1_000_000_000, 4_000_000_000),
    ("unix_ms", 1_000_000_000_000, 4_000_000_000_000),
    ("unix_us", 1_000_000_000_000_000, 4_000_000_000_000_000),
    ("unix_ns", 1_000_000_000_000_000_000, 4_000_000_000_000_000_000),
)
_TIME_TOKENS = frozenset(
    {"time", "ts", "timestamp", "date", "datetime", "at", "epoch", "when", "created", "updated"}
)
_EVENT_TIME_NAMES = ("time", "timestamp", "ts", "eventtime", "datetime", "date", "logtime")
_DATE_TOKENS = frozenset({"time", "date"})
_TOKEN = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _tokens(name: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(name)]


def _string_bits(value: str, mask: int) -> int:
    """The bits of `mask` that `value` keeps (only the checks still open are run)."""
    if not value:  # an empty string is no indicator, but no timestamp either
        return mask & S_INDICATORS
    keep = 0
    if mask & S_RFC3339:
        parsed = parse_rfc3339(value)
        if parsed is not None:
            keep |= S_RFC3339 if parsed is not ZERO_TIME else S_RFC3339 | S_ZERO
    if mask & S_IP and ip_version(value):
        keep |= S_IP
    if mask & S_EMAIL and _EMAIL.fullmatch(value):
        keep |= S_EMAIL
    if mask & S_URL and _URL.fullmatch(value):
        keep |= S_URL
    if mask & S_ARN and _ARN.fullmatch(value):
        keep |= S_ARN
    if mask & S_DOMAIN and _DOMAIN.fullmatch(value) and not ip_version(value):
        keep |= S_DOMAIN
    if mask & (S_MD5 | S_SHA1 | S_SHA256) and _HEX.fullmatch(value):
        keep |= {32: S_MD5, 40: S_SHA1, 64: S_SHA256}.get(len(value), 0) & mask
    if mask & S_INSTANCE and _INSTANCE.fullmatch(value):
        keep |= S_INSTANCE
    if mask & S_NET_ADDR and ":" in value:
        host = split_host(value)
        if host != value and (ip_version(host) or _DOMAIN.fullmatch(host)):
            keep |= S_NET_ADDR
    if mask & S_ACCOUNT and len(value) == 12 and value.isascii() and value.isdigit():
        keep |= S_ACCOUNT
    return keep


class InferenceError(ValueError):
    """The samples hold nothing a schema could describe."""


class Node:
    """What the values at one key path (or of one array's elements) looked like."""

    __slots__ = (
        "arrays",
        "children",
        "element",
        "kinds",
        "mask",
        "nulls",
        "num_max",
        "num_min",
        "objects",
        "seen",
        "zeros",
    )

    def __init__(self) -> None:
        self.seen = 0  # times the key was there (null included)
        self.nulls = 0
        self.zeros = 0  # strings meaning Go's zero time (unset once a timestamp)
        self.kinds = 0
        self.mask = S_ALL
        self.num_min: int | float | None = None
        self.num_max: int | float | None = None
        self.objects = 0
        self.arrays = 0
        self.children: dict[str, Node] = {}
        self.element: Node | None = None

    def add(self, value: Any) -> None:
        self.seen += 1
        kind = type(value)
        if kind is str:
            self.kinds |= K_STR
            mask = self.mask
            if mask:
                bits = _string_bits(value, mask)
                self.mask = mask & bits
                if bits & S_ZERO:
                    self.zeros += 1
        elif kind is int or kind is float:
            self.kinds |= K_INT if kind is int else K_FLOAT
            if self.num_min is None or value < self.num_min:
                self.num_min = value
            if self.num_max is None or value > self.num_max:
                self.num_max = value
        elif kind is bool:
            self.kinds |= K_BOOL
        elif kind is dict:
            self.kinds |= K_OBJ
            self.add_object(value)
        elif kind is list:
            self.kinds |= K_ARR
            self.arrays += 1
            element = self.element
            if element is None:
                element = self.element = Node()
            for item in value:
                element.add(item)
        else:
            self.nulls += 1

    def add_object(self, obj: dict[str, Any]) -> None:
        self.objects += 1
        children = self.children
        for key, value in obj.items():
            child = children.get(key)
            if child is None:
                child = children[key] = Node()
            child.add(value)

    def merge(self, other: Node) -> Node:
        """A new node as if this one had also seen everything `other` saw."""
        out = Node()
        out.seen = self.seen + other.seen
        out.nulls = self.nulls + other.nulls
        out.kinds = self.kinds | other.kinds
        out.mask = self.mask & other.mask
        out.zeros = self.zeros + other.zeros if out.mask & S_RFC3339 else 0
        out.num_min = _pick(min, self.num_min, other.num_min)
        out.num_max = _pick(max, self.num_max, other.num_max)
        out.objects = self.objects + other.objects
        out.arrays = self.arrays + other.arrays
        for key in {**self.children, **other.children}:
            mine, theirs = self.children.get(key), other.children.get(key)
            if mine is None or theirs is None:
                out.children[key] = (mine or theirs).merge(Node())  # type: ignore[union-attr]
            else:
                out.children[key] = mine.merge(theirs)
        if self.element is None or other.element is None:
            element = self.element or other.element
            out.element = element.merge(Node()) if element is not None else None
        else:
            out.element = self.element.merge(other.element)
        return out

    @property
    def present(self) -> int:
        """Times the key had a value (not null, not Go's zero time when it is a timestamp)."""
        return self.seen - self.nulls - (self.zeros if self.mask & S_RFC3339 else 0)


def _pick(choose: Any, a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None else choose(a, b)


class Inference:
    """Records folded into a tree of nodes; `schema()` renders it."""

    def __init__(self) -> None:
        self.root = Node()
        self.skipped = 0  # records that were not JSON objects

    @property
    def records(self) -> int:
        return self.root.objects

    def add_record(self, raw: bytes | str) -> bool:
        """Fold one raw JSON record; False (and counted in `skipped`) when not a JSON object."""
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            try:
                obj = _loads(raw)  # the parser's own fallback (ints beyond 64 bits become text)
            except (ValueError, TypeError, RecursionError):
                obj = None
        if type(obj) is not dict:
            self.skipped += 1
            return False
        self.root.add_object(obj)
        return True

    def add_stream(
        self, fileobj: IO[bytes] | bytes, *, stream_type: str = "auto", envelope: str | None = None
    ) -> None:
        """Fold every record of a decompressed body, cut by the stream type."""
        for record in split(fileobj, stream_type, envelope=envelope):
            if record.error is not None:
                self.skipped += 1
            else:
                self.add_record(record.raw)

    def merge(self, other: Inference) -> Inference:
        out = Inference()
        out.root = self.root.merge(other.root)
        out.skipped = self.skipped + other.skipped
        return out

    def fields(self) -> list[dict[str, Any]]:
        """The schema's fields, Panther-format mappings in the order keys first appeared."""
        fields = _render_fields(self.root, top=True)
        _mark_event_time(fields or [])
        return fields or []

    def schema(self, name: str = "Custom.Inferred", description: str | None = None) -> dict:
        """The schema mapping; InferenceError when the records give no field to describe."""
        fields = self.fields()
        if not fields:
            raise InferenceError(
                f"nothing to infer from: {self.records} JSON object(s) with keys needed "
                f"({self.skipped} record(s) were not JSON objects)"
            )
        doc: dict[str, Any] = {"schema": name}
        doc["description"] = description or f"Inferred from {self.records} sample records."
        doc["fields"] = fields
        return doc

    def to_yaml(self, name: str = "Custom.Inferred", description: str | None = None) -> str:
        return dump_yaml(self.schema(name, description))


def dump_yaml(doc: dict[str, Any]) -> str:
    """A schema mapping as YAML, keys in the order Panther's documentation writes them."""
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    if yaml.safe_load(text) != doc:  # characters YAML reads back differently (NEL, LS...)
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=False, width=100)
    return text


def infer_records(records: Iterable[bytes | str]) -> Inference:
    inference = Inference()
    for raw in records:
        inference.add_record(raw)
    return inference


def _render_fields(node: Node, *, top: bool) -> list[dict[str, Any]] | None:
    """Fields of an object node; None when an object cannot be described field by field."""
    if len(node.children) > MAX_OBJECT_KEYS and not top:
        return None
    fields: list[dict[str, Any]] = []
    columns: set[str] = set()
    for name, child in node.children.items():
        column = column_name(name)
        if not name or column in columns:
            if top:
                continue  # left to p_extra
            return None
        columns.add(column)
        field: dict[str, Any] = {"name": name}
        if child.present == node.objects:
            field["required"] = True
        field.update(_render_type(child, name))
        fields.append(field)
    return fields


def _render_type(node: Node, name: str) -> dict[str, Any]:
    """type (and timeFormats, indicators, element, fields) of the values a node saw."""
    kinds = node.kinds
    if kinds == 0:
        return {"type": "string"}  # only nulls: nothing to go on
    if kinds == K_OBJ:
        fields = _render_fields(node, top=False)
        if not fields:
            return {"type": "json"}
        return {"type": "object", "fields": fields}
    if kinds == K_ARR:
        assert node.element is not None
        element = _render_type(node.element, name) if node.element.kinds else {"type": "json"}
        element.pop("indicators", None)
        out: dict[str, Any] = {"type": "array", "element": element}
        indicators = _indicators(node.element, name) if node.element.kinds == K_STR else []
        if indicators:
            out["indicators"] = indicators
        return out
    if kinds & (K_OBJ | K_ARR):
        return {"type": "json"}
    formats = _time_formats(node, name)
    if formats:
        return {"type": "timestamp", "timeFormats": formats}
    if kinds == K_BOOL:
        return {"type": "boolean"}
    if kinds == K_INT:
        if BIGINT_MIN <= node.num_min <= node.num_max <= BIGINT_MAX:  # type: ignore[operator]
            return {"type": "bigint"}
        return {"type": "string"}
    if kinds in (K_FLOAT, K_INT | K_FLOAT):
        return {"type": "float"}
    out = {"type": "string"}  # a mix of scalars: strings take numbers and booleans as text
    indicators = _indicators(node, name)
    if indicators:
        out["indicators"] = indicators
    return out


def _time_formats(node: Node, name: str) -> list[str]:
    """timeFormats when every value is a time (strings RFC 3339, numbers Unix named as time)."""
    kinds = node.kinds
    if kinds & ~(K_STR | K_INT | K_FLOAT):
        return []
    formats: list[str] = []
    if kinds & K_STR:
        if not node.mask & S_RFC3339:
            return []
        formats.append("rfc3339")
    if kinds & (K_INT | K_FLOAT):
        unit = _unix_unit(node, name)
        if unit is None:
            return []
        formats.append(unit)
    return formats


def _unix_unit(node: Node, name: str) -> str | None:
    if not _TIME_TOKENS.intersection(_tokens(name)):
        return None
    units = _UNIX_RANGES[:1] if node.kinds & K_FLOAT else _UNIX_RANGES
    for unit, lo, hi in units:
        if lo <= node.num_min <= node.num_max < hi:  # type: ignore[operator]
            return unit
    return None


def _indicators(node: Node, name: str) -> list[str]:
    mask = node.mask
    if node.kinds != K_STR:
        return []
    tokens = _tokens(name)
    found = [
        indicator
        for bit, indicator in (
            (S_IP, "ip"),
            (S_EMAIL, "email"),
            (S_URL, "url"),
            (S_ARN, "aws_arn"),
            (S_DOMAIN, "domain"),
            (S_MD5, "md5"),
            (S_SHA1, "sha1"),
            (S_SHA256, "sha256"),
            (S_INSTANCE, "aws_instance_id"),
        )
        if mask & bit
    ]
    if mask & S_NET_ADDR and not found:
        found.append("net_addr")
    if mask & S_ACCOUNT and "account" in tokens:
        found.append("aws_account_id")
    last = tokens[-1] if tokens else ""
    if last in {"host", "hostname", "server"} and not {"url", "email"} & set(found):
        found = [i for i in found if i not in ("ip", "domain")] + ["hostname"]
    if not found and last in {"user", "username", "login", "principal"}:
        found.append("username")
    if not found and "trace" in tokens:
        found.append("trace_id")
    if mask & S_RFC3339:  # a time-looking string column: indicators would be noise
        return []
    return found


def _mark_event_time(fields: list[dict[str, Any]]) -> None:
    """isEventTime on the most plausible top-level timestamp: named like one, required, first."""
    best: tuple[int, int, int] | None = None
    chosen: dict[str, Any] | None = None
    for index, field in enumerate(fields):
        if field["type"] != "timestamp":
            continue
        plain = re.sub(r"[^a-z0-9]", "", field["name"].lower())
        named = (
            2 if plain in _EVENT_TIME_NAMES else int(bool(_DATE_TOKENS & {*_tokens(field["name"])}))
        )
        score = (named, 1 if field.get("required") else 0, -index)
        if best is None or score > best:
            best, chosen = score, field
    if chosen is not None:
        chosen["isEventTime"] = True


# --- merging an inferred schema into one a person wrote ---------------------------------------

_NUMBERS = ("smallint", "int", "bigint", "float")  # each holds the ones before it
_UNIX_FORMATS = frozenset({"unix", "unix_ms", "unix_us", "unix_ns"})
_INFERRED_TIME_FORMATS = _UNIX_FORMATS | {"rfc3339"}
_TYPE_KEYS = ("type", "timeFormats", "fields", "element", "isEmbeddedJSON")


def merge_schema(
    existing: dict[str, Any], inferred: dict[str, Any], widen: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """`existing` (a schema mapping someone edited) widened to hold what `inferred` saw: its
    fields keep their names, order, descriptions, indicators and other edits; a type only ever
    widens (int -> bigint -> float -> string, anything else that differs -> string or json);
    `required` only goes away (also from fields the sample lacks); fields it lacks are
    appended, not required (stored data did not have them) and not the event time when it
    already has one. An int the person chose narrower than inference's bigint stays (inference
    writes bigint for any integers) unless its top-level name is in `widen` (the caller saw a
    sample value it does not take)."""
    out = dict(existing)
    fields = existing.get("fields") or []
    has_event_time = any(f.get("isEventTime") for f in fields if isinstance(f, dict))
    out["fields"] = _merge_fields(
        fields, inferred.get("fields") or [], event_time=has_event_time, widen=widen
    )
    return out


def _merge_fields(
    existing: list[dict[str, Any]],
    inferred: list[dict[str, Any]],
    *,
    event_time: bool,
    widen: frozenset[str] = frozenset(),
    clashes: list[Any] | None = None,
) -> list[dict[str, Any]]:
    clashes = [] if clashes is None else clashes  # names left out: their columns clash
    seen = {f.get("name"): f for f in inferred if isinstance(f, dict)}
    merged = [
        _widen(field, seen[field["name"]], field.get("name") in widen)
        if field.get("name") in seen
        else _optional(field)
        for field in existing
    ]
    names = {field.get("name") for field in existing}
    columns = {column_name(str(field.get("name"))) for field in existing}
    for field in inferred:
        name = field.get("name")
        if name in names:
            continue
        if column_name(str(name)) in columns:  # a clash: its values go to p_extra
            clashes.append(name)
            continue
        columns.add(column_name(str(name)))
        added = _optional(field)
        if event_time:
            added.pop("isEventTime", None)
        merged.append(added)
    return merged


def _optional(field: dict[str, Any]) -> dict[str, Any]:
    """A field the sample never had (or only as null) cannot be required of it."""
    return {k: v for k, v in field.items() if k != "required"}


def _widen(mine: dict[str, Any], seen: dict[str, Any], misfit: bool = False) -> dict[str, Any]:
    """One field of `existing` holding the values `seen` describes."""
    out = dict(mine)
    if out.get("required") and not seen.get("required"):
        del out["required"]
    mine_type, seen_type = mine.get("type"), seen.get("type")
    if mine_type == seen_type == "timestamp":
        formats = list(mine.get("timeFormats") or [])
        out["timeFormats"] = formats + [
            f for f in seen.get("timeFormats") or [] if f not in formats
        ]
    elif mine_type == seen_type == "object":
        clashes: list[Any] = []
        fields = _merge_fields(
            mine.get("fields") or [], seen.get("fields") or [], event_time=True, clashes=clashes
        )
        if clashes:  # an unknown sub-key would send the whole object to p_extra
            for key in _TYPE_KEYS:
                out.pop(key, None)
            out["type"] = "json"
        else:
            out["fields"] = fields
    elif mine_type == seen_type == "array":
        out["element"] = _widen(mine.get("element") or {}, seen.get("element") or {})
    elif mine_type != seen_type and not _holds(mine, seen_type, misfit):
        for key in _TYPE_KEYS:
            out.pop(key, None)
        out["type"] = _wider(mine_type, seen_type)
        out.pop("isEventTime", None)
        if out["type"] not in ("string", "bigint"):  # json and float take no indicators
            out.pop("indicators", None)
        if out["type"] != "string":
            out.pop("validate", None)
    return out


def _holds(mine: dict[str, Any], seen_type: Any, misfit: bool = False) -> bool:
    """Whether the person's field already takes the values of a field inferred as `seen_type`."""
    mine_type = mine.get("type")
    if mine_type in ("string", "json"):
        return True  # strings take numbers, booleans and objects as their JSON text
    if mine_type in _NUMBERS and seen_type in _NUMBERS:
        if seen_type == "bigint" and mine_type != "float":  # any integers: maybe in range
            return not misfit
        return _NUMBERS.index(mine_type) >= _NUMBERS.index(seen_type)
    if mine_type == "timestamp":
        formats = set(mine.get("timeFormats") or ())
        if seen_type in ("bigint", "float"):  # numbers not named like a time
            return bool(formats & _UNIX_FORMATS)
        # formats inference does not write (strftime...) are the person's knowledge: kept
        return seen_type == "string" and not formats <= _INFERRED_TIME_FORMATS
    return False


def _wider(mine: Any, seen: Any) -> str:
    if mine in _NUMBERS and seen in _NUMBERS:
        return seen  # _holds said the person's is the narrower
    structured = ("object", "array")
    return (
        "json" if mine in structured or seen in structured or "json" in (mine, seen) else "string"
    )
