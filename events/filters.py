"""The one place a parsed query (events.query AST) becomes ORM filters on the events table.

Values always travel as query parameters: nothing typed by a user is ever spliced into SQL.
Field names are resolved against the log types' schemas: `addr.remote` → column `addr_remote`,
schema types decide how a value compares (`success:false` is the JSON boolean, `exitCode>0` a
number); names the schemas do not know are looked up in `fields` and in `p_extra`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from django.db import models
from django.db.models import BooleanField, Expression, F, Func, Q, TextField, Value
from django.db.models.fields.json import HasKey, KeyTextTransform, KeyTransform, compile_json_path
from django.db.models.functions import Cast
from django.db.models.lookups import Lookup

from events.query import And, Node, Not, Or, QueryError, Term, parse
from logtypes.registry import Registry, current_registry
from parsers import column_name
from parsers.indicators import indicator_entry
from parsers.timestamps import format_utc

INDICATOR_ALIASES = {
    "ip": "p_any_ip_addresses",
    "domain": "p_any_domain_names",
    "username": "p_any_usernames",
    "email": "p_any_emails",
    "trace_id": "p_any_trace_ids",
    "aws_arn": "p_any_aws_arns",
    "aws_account_id": "p_any_aws_account_ids",
    "aws_instance_id": "p_any_aws_instance_ids",
    "aws_tag": "p_any_aws_tags",
    "md5": "p_any_md5_hashes",
    "sha1": "p_any_sha1_hashes",
    "sha256": "p_any_sha256_hashes",
}
INDICATOR_FIELDS = {**INDICATOR_ALIASES, **{v: v for v in INDICATOR_ALIASES.values()}}
NUMERIC_TYPES = {"smallint", "int", "bigint", "float"}
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


# --- SQL building blocks (each compiles to parameters, never to user text) -----------------


class ILike(Lookup):
    """Case-insensitive LIKE against a pattern built by like_pattern() (escape char: backslash)."""

    lookup_name = "sluice_ilike"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"({lhs})::text ILIKE {rhs}", [*lhs_params, *rhs_params]
        return f"{lhs} LIKE {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]


class JSONArrayHas(Lookup):
    """The JSON array at lhs holds the string rhs."""

    lookup_name = "sluice_array_has"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            lhs, lhs_params = self.process_lhs(compiler, connection)
            return (
                f"COALESCE({lhs} @> jsonb_build_array(({rhs})::text), false)",
                [*lhs_params, *rhs_params],
            )
        # SQLite: json_each(column, path) walks the value at the path (no row when it is
        # missing); a non-array value yields one row without a key, so `key IS NOT NULL` keeps
        # array members only. (json_each of the extracted value would fail on a plain string.)
        column, column_params, keys = self.lhs.preprocess_lhs(compiler, connection)
        return (
            f"EXISTS (SELECT 1 FROM json_each({column}, %s) WHERE json_each.key IS NOT NULL "  # noqa: S608 - column is a column, rhs a placeholder
            f"AND json_each.type = 'text' AND json_each.value = {rhs})",
            [*column_params, compile_json_path(keys), *rhs_params],
        )


class IsJSONNumber(Func):
    """The JSON value is a number (so a numeric comparison means what it says)."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        key = self.source_expressions[0]
        if connection.vendor == "postgresql":
            inner, params = compiler.compile(key)
            return f"COALESCE(jsonb_typeof({inner}) = 'number', false)", params
        # SQLite: json_type(column, path); JSON_EXTRACT would already have unwrapped the value.
        lhs, params, keys = key.preprocess_lhs(compiler, connection)
        path = compile_json_path(keys)
        return f"COALESCE(json_type({lhs}, %s) IN ('integer', 'real'), 0)", [*params, path]


class HasPath(Func):
    """The nested key path exists: true or false, never NULL (`fields -> 'a' ? 'b'` is NULL
    when `a` is missing, which NOT would drop)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, path: tuple[str, ...]):
        super().__init__(F(column))
        self.path = path

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"(({column} #> %s) IS NOT NULL)", [*params, list(self.path)]
        return f"(json_type({column}, %s) IS NOT NULL)", [*params, compile_json_path(self.path)]


def like_pattern(parts: tuple[str, ...], *, anchored: bool = True) -> str:
    """LIKE pattern from wildcard parts (`adm*` → 'adm%'); %, _ and \\ in the parts are literal."""
    escaped = [re.sub(r"([\\%_])", r"\\\1", part) for part in parts]
    pattern = "%".join(escaped)
    return pattern if anchored else f"%{pattern}%"


# --- Field resolution ------------------------------------------------------------------------


@dataclass(frozen=True)
class JSONField:
    """A path inside a JSON column, with the schema type when one is known."""

    column: str  # "fields" or "p_extra"
    path: tuple[str, ...]
    type: str | None = None

    def compare(self, lookup_name: str, value: object) -> Q:
        """The value at this path compared by a JSON lookup (exact, gt, ...) chosen here.

        Built from expressions, never from a `column__key__lookup` string: a key named like a
        lookup (`user__gt`, `user.isnull`) stays a key and never becomes an ORM lookup.
        """
        key = self.key()
        return Q(key.get_lookup(lookup_name)(key, Value(value, output_field=models.JSONField())))

    def key(self) -> Expression:
        expression: Expression = F(self.column)
        for part in self.path:
            expression = KeyTransform(part, expression)
        return expression

    def text(self) -> Expression:
        expression: Expression = F(self.column)
        for part in self.path[:-1]:
            expression = KeyTransform(part, expression)
        return KeyTextTransform(self.path[-1], expression)

    def present(self) -> Q:
        """The key exists (so a comparison on it is true or false, never NULL)."""
        if len(self.path) == 1:
            return Q(HasKey(F(self.column), self.path[0]))
        return Q(HasPath(self.column, self.path))


def schema_columns() -> dict[str, str | None]:
    """Top-level column → type across all log types (None where two log types disagree), those
    of SLUICE_SCHEMAS_DIR included: recomputed when the registry reloads."""
    return _schema_columns(current_registry())


@lru_cache(maxsize=2)
def _schema_columns(registry: Registry) -> dict[str, str | None]:
    types: dict[str, str | None] = {}
    for log_type in registry.all():
        for field in log_type.schema.fields:
            known = types.get(field.column, field.type)
            types[field.column] = field.type if known == field.type else None
    return types


def resolve_json_fields(name: str) -> list[JSONField]:
    """Where a field name may live: a schema column (dots normalized) or fields/p_extra paths."""
    if name.startswith("p_extra."):
        return [JSONField("p_extra", tuple(name.split(".")[1:]))]
    columns = schema_columns()
    normalized = column_name(name)
    if normalized in columns:
        return [JSONField("fields", (normalized,), columns[normalized])]
    head, _, rest = name.partition(".")
    if rest and column_name(head) in columns:
        return [JSONField("fields", (column_name(head), *rest.split(".")))]
    path = tuple(name.split("."))
    return [JSONField("fields", path), JSONField("p_extra", path)]


# --- Values ----------------------------------------------------------------------------------


def _number(term: Term) -> int | float:
    text = term.value.text.strip()
    if term.value.is_wildcard or not _NUMBER.fullmatch(text):
        raise QueryError(f"'{term.field}{term.op}' needs a number", term.value_position)
    number = float(text)
    return int(number) if number.is_integer() and abs(number) < 2**63 else number


def _boolean(term: Term) -> bool:
    text = term.value.text.lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise QueryError(f"'{term.field}' is true or false", term.value_position)


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)  # room above for histogram buckets and rounding
SUPPORTED_DATES = "use a date between 1900-01-01 and 2999-12-31"


class DateOutOfRange(ValueError):
    """A valid ISO 8601 date outside the years search supports (SUPPORTED_DATES)."""


def utc_datetime(text: str) -> datetime:
    """ISO 8601 text (UTC without an offset) as an aware UTC datetime within the supported
    years; ValueError for text that is not a date, DateOutOfRange for one outside them."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is in year 0
        raise DateOutOfRange(SUPPORTED_DATES) from None
    if not EARLIEST <= parsed < LATEST:
        raise DateOutOfRange(SUPPORTED_DATES)
    return parsed


def _datetime(term: Term) -> datetime:
    try:
        return utc_datetime(term.value.text.strip())
    except DateOutOfRange:
        raise QueryError(f"'{term.field}': {SUPPORTED_DATES}", term.value_position) from None
    except ValueError:
        raise QueryError(
            f"'{term.field}' compares with a date like 2026-11-27T10:00:00Z", term.value_position
        ) from None


_COMPARISONS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}


# --- Leaves ----------------------------------------------------------------------------------


def json_leaf(field: JSONField, term: Term) -> Q:
    """One JSON field compared to one value; true or false, never NULL (safe under NOT)."""
    value = term.value
    if term.op != ":":
        return field.present() & _json_comparison(field, term)
    if value.is_wildcard:
        pattern = like_pattern(value.parts)
        return field.present() & Q(ILike(field.text(), Value(pattern)))
    if field.type == "boolean":
        return field.present() & field.compare("exact", _boolean(term))
    if field.type in NUMERIC_TYPES:
        return field.present() & field.compare("exact", _number(term))
    if field.type == "array":
        return Q(JSONArrayHas(field.key(), Value(value.text)))
    matches = field.compare("exact", value.text)
    if field.type is None and not value.quoted:
        matches |= _untyped_alternatives(field, value.text)
    return field.present() & matches


def _untyped_alternatives(field: JSONField, text: str) -> Q:
    """For fields no schema types: `1` also matches the number 1, `true` the boolean."""
    alternatives = Q(JSONArrayHas(field.key(), Value(text)))
    if _NUMBER.fullmatch(text):
        number = float(text)
        alternatives |= field.compare("exact", int(number) if number.is_integer() else number)
    if text.lower() in _TRUE | _FALSE:
        alternatives |= field.compare("exact", text.lower() in _TRUE)
    return alternatives


def _json_comparison(field: JSONField, term: Term) -> Q:
    lookup = _COMPARISONS[term.op]
    if field.type == "timestamp":
        return field.compare(lookup, format_utc(_datetime(term)))
    if field.type is not None and field.type not in NUMERIC_TYPES:
        raise QueryError(
            f"'{term.field}' is a {field.type} field: {term.op} compares numbers",
            term.position,
        )
    return Q(IsJSONNumber(field.key())) & field.compare(lookup, _number(term))


def indicator_leaf(column: str, term: Term) -> Q:
    if term.op != ":":
        raise QueryError(f"'{term.field}' takes a value, not a comparison", term.position)
    if term.value.is_wildcard:
        raise QueryError(
            f"'{term.field}' matches whole values: wildcards are not supported here",
            term.value_position,
        )
    return Q(p_any__has=indicator_entry(column, term.value.text))


def column_leaf(column: str, term: Term) -> Q:
    """p_log_type / p_row_id: exact or wildcard."""
    if term.op != ":":
        raise QueryError(f"'{term.field}' takes a value, not a comparison", term.position)
    if term.value.is_wildcard:
        return Q(ILike(F(column), Value(like_pattern(term.value.parts))))
    return Q(**{column: term.value.text})


def source_leaf(term: Term) -> Q:
    if term.op != ":":
        raise QueryError("'source' takes a name, not a comparison", term.position)
    if term.value.is_wildcard:
        return Q(source__isnull=False) & Q(
            ILike(F("source__name"), Value(like_pattern(term.value.parts)))
        )
    match = Q(source__name=term.value.text)
    if term.value.text.isdigit():
        match |= Q(source_id=int(term.value.text))
    return Q(source__isnull=False) & match


def time_leaf(term: Term) -> Q:
    when = _datetime(term)
    if term.op == ":":
        return Q(p_event_time=when)
    return Q(**{f"p_event_time__{_COMPARISONS[term.op]}": when})


def text_leaf(term: Term) -> Q:
    """A bare word or phrase: a case-insensitive substring of the event's JSON text."""
    parts = term.value.parts if term.value.is_wildcard else (term.value.text,)
    pattern = like_pattern(parts, anchored=False)
    return Q(ILike(Cast("fields", TextField()), Value(pattern))) | Q(
        ILike(Cast("p_extra", TextField()), Value(pattern))
    )


# Fields the apps above events add to the query language (detections' `p_alert_id:`): name →
# the leaf building its filter. Registered at startup (AppConfig.ready), read by term_q.
_EXTENSION_FIELDS: dict[str, Callable[[Term], Q]] = {}


def register_field(name: str, leaf: Callable[[Term], Q]) -> None:
    """Add a field to the query language: `leaf(term)` is its filter (values as parameters)."""
    _EXTENSION_FIELDS[name] = leaf


def term_q(term: Term) -> Q:
    name = term.field
    if name is None:
        return text_leaf(term)
    if name in _EXTENSION_FIELDS:
        return _EXTENSION_FIELDS[name](term)
    if name in INDICATOR_FIELDS:
        return indicator_leaf(INDICATOR_FIELDS[name], term)
    if name in {"log_type", "p_log_type"}:
        return column_leaf("p_log_type", term)
    if name == "p_row_id":
        return column_leaf("p_row_id", term)
    if name == "source":
        return source_leaf(term)
    if name == "p_event_time":
        return time_leaf(term)
    candidates = resolve_json_fields(name)
    combined = Q()
    for candidate in candidates:
        combined |= json_leaf(candidate, term)
    return combined


def to_q(node: Node | None) -> Q:
    """The AST as one Q (empty Q for an empty query); raises QueryError for invalid terms."""
    if node is None:
        return Q()
    if isinstance(node, Term):
        return term_q(node)
    if isinstance(node, Not):
        return ~to_q(node.child)
    if isinstance(node, And):
        combined = Q()
        for child in node.children:
            combined &= to_q(child)
        return combined
    if isinstance(node, Or):
        combined = to_q(node.children[0])
        for child in node.children[1:]:
            combined |= to_q(child)
        return combined
    raise TypeError(f"not a query node: {node!r}")


def query_q(text: str) -> Q:
    """Parse query text and build its filter; raises QueryError with a position."""
    return to_q(parse(text))
