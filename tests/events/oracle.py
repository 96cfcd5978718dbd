"""A brute-force evaluation of the search query language over events loaded into Python: the
independent computation the search is checked against (tests/events/test_search_oracle.py, the
hostile end-to-end test). It reads each event's stored values and applies the documented meaning
term by term (docs/search.md): no SQL and no ORM filter."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from events.models import Event
from events.query import And, Not, Or, Term
from logtypes.registry import current_registry
from parsers import column_name
from parsers.timestamps import format_utc

INDICATORS = {
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
INDICATORS.update({column: column for column in list(INDICATORS.values())})
NUMERIC = {"smallint", "int", "bigint", "float"}
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
MISSING = object()


def schema_types() -> dict[str, str | None]:
    """Column → type over every registered log type (None where two disagree)."""
    types: dict[str, str | None] = {}
    for log_type in current_registry().all():
        for field in log_type.schema.fields:
            known = types.get(field.column, field.type)
            types[field.column] = field.type if known == field.type else None
    return types


def dig(data, path: tuple[str, ...]):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return MISSING
        data = data[key]
    return data


def wildcard(parts: tuple[str, ...], text: str, *, anchored: bool = True) -> bool:
    pattern = ".*".join(re.escape(part) for part in parts)
    found = re.fullmatch if anchored else re.search
    return found(pattern, text, re.IGNORECASE | re.DOTALL) is not None


def when(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def as_number(text: str) -> float:
    return float(text)


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Oracle:
    """The query language's meaning, evaluated on one event at a time."""

    COMPARE = {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }

    def __init__(self) -> None:
        self.types = schema_types()

    def matches(self, node, event: Event) -> bool:
        if node is None:
            return True
        if isinstance(node, Not):
            return not self.matches(node.child, event)
        if isinstance(node, And):
            return all(self.matches(child, event) for child in node.children)
        if isinstance(node, Or):
            return any(self.matches(child, event) for child in node.children)
        return self.term(node, event)

    def term(self, term: Term, event: Event) -> bool:
        name, value = term.field, term.value
        if name is None:
            texts = [json.dumps(event.fields), json.dumps(event.p_extra or {})]
            parts = value.parts if value.is_wildcard else (value.text,)
            return any(wildcard(parts, text, anchored=False) for text in texts)
        if name in INDICATORS:
            return value.text in getattr(event, INDICATORS[name])
        if name in {"log_type", "p_log_type", "p_row_id", "source"}:
            return self.column(name, value, event)
        if name == "p_event_time":
            if term.op == ":":
                return event.p_event_time == when(value.text)
            return self.COMPARE[term.op](event.p_event_time, when(value.text))
        return any(
            self.json_value(found, kind, term)
            for found, kind in self.locate(name, event)
            if found is not MISSING
        )

    def column(self, name: str, value, event: Event) -> bool:
        if name == "source":
            if event.source is None:
                return False
            if value.is_wildcard:
                return wildcard(value.parts, event.source.name)
            by_id = value.text.isdigit() and int(value.text) == event.source_id
            return event.source.name == value.text or by_id
        text = event.p_log_type if name.endswith("log_type") else event.p_row_id
        return wildcard(value.parts, text) if value.is_wildcard else text == value.text

    def locate(self, name: str, event: Event):
        """(value or MISSING, schema type) of each place `name` may name."""
        if name.startswith("p_extra."):
            return [(dig(event.p_extra or {}, tuple(name.split(".")[1:])), None)]
        if column_name(name) in self.types:
            return [(dig(event.fields, (column_name(name),)), self.types[column_name(name)])]
        head, _, rest = name.partition(".")
        if rest and column_name(head) in self.types:
            return [(dig(event.fields, (column_name(head), *rest.split("."))), None)]
        path = tuple(name.split("."))
        return [(dig(event.fields, path), None), (dig(event.p_extra or {}, path), None)]

    def json_value(self, found, kind: str | None, term: Term) -> bool:
        value = term.value
        if term.op != ":" and kind == "timestamp":  # stored as UTC text: compared as text
            bound = format_utc(when(value.text))
            return isinstance(found, str) and self.COMPARE[term.op](found, bound)
        if term.op != ":":
            return is_number(found) and self.COMPARE[term.op](found, as_number(value.text))
        if value.is_wildcard:
            return isinstance(found, str) and wildcard(value.parts, found)
        if kind == "boolean":
            return isinstance(found, bool) and found == (value.text.lower() in TRUE)
        if kind in NUMERIC:
            return is_number(found) and found == as_number(value.text)
        if kind == "array":
            return isinstance(found, list) and value.text in found
        if found == value.text and isinstance(found, str):
            return True
        if kind is not None or value.quoted:
            return False
        return (
            (isinstance(found, list) and value.text in found)
            or (NUMBER.fullmatch(value.text) is not None and is_number(found)
                and found == as_number(value.text))
            or (isinstance(found, bool) and value.text.lower() in TRUE | FALSE
                and found == (value.text.lower() in TRUE))
        )  # fmt: skip


def count(query: str, events: list[Event]) -> int:
    """How many of `events` the query matches."""
    from events.query import parse

    node, oracle = parse(query), Oracle()
    return sum(1 for event in events if oracle.matches(node, event))
