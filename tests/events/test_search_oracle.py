"""Search answers checked against a brute-force evaluation in Python over the same events.

A few thousand generated Teleport events (three origins: two sources and none, 36 days around a
fixed `now`, some of them in the future) are stored by the ingestion writer. For each query the
search's count, first page and histogram must equal what `Oracle` computes by reading every
event and applying the query language's documented meaning term by term (docs/search.md): no
SQL, no ORM filter, only the events' stored values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.generate import generate_lines
from events.models import Event
from events.query import And, Not, Or, Term, parse
from events.search import PAGE_SIZE, SearchState, histogram, page
from events.store import write_batch
from logtypes.registry import current_registry
from parsers import Origin, ParsedEvent, column_name
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

EVENTS = 3000
INDICATORS = {
    "ip": "p_any_ip_addresses",
    "domain": "p_any_domain_names",
    "username": "p_any_usernames",
    "trace_id": "p_any_trace_ids",
}
NUMERIC = {"smallint", "int", "bigint", "float"}
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
MISSING = object()


@dataclass
class Stored:
    now: datetime
    events: list[Event]
    sources: dict[str, int]


@pytest.fixture
def stored() -> Stored:
    """EVENTS generated events from 35 days before `now` to a day after, in three origins."""
    now = datetime.now(UTC).replace(microsecond=0)
    sources = {"prod": SourceFactory(name="prod-teleport"), "lab": SourceFactory(name="lab")}
    parser = current_registry().get("Gravitational.TeleportAudit").parser
    lines = generate_lines(EVENTS, seed=11, start=now - timedelta(days=35), span=timedelta(days=36))
    origins = [sources["prod"].pk, sources["lab"].pk, None]
    batches: dict[int | None, list[ParsedEvent]] = {pk: [] for pk in origins}
    for number, line in enumerate(lines, start=1):
        source_id = origins[number % 3]
        event = parser.parse(line, Origin(str(source_id or 0), "oracle", ""), number)
        assert isinstance(event, ParsedEvent), event
        batches[source_id].append(event)
    for source_id, events in batches.items():
        write_batch(events, [], source_id=source_id, object_key="oracle", object_version="")
    events = list(Event.objects.select_related("source"))
    assert len(events) == EVENTS
    return Stored(now, events, {name: source.pk for name, source in sources.items()})


# --- the oracle ---------------------------------------------------------------------------------
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
            when = datetime.fromisoformat(value.text)
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            if term.op == ":":
                return event.p_event_time == when
            return self.COMPARE[term.op](event.p_event_time, when)
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


# --- comparing the search with the oracle ----------------------------------------------------
def check(stored: Stored, q: str, **params: str) -> int:
    """The search's count, first page and histogram equal the oracle's; returns the count."""
    state = SearchState.from_params({"q": q, **params}, now=stored.now)
    start, end = state.window()
    oracle, node = Oracle(), parse(q)
    expected = sorted(
        (
            e
            for e in stored.events
            if start <= e.p_event_time < end
            and (not state.source or e.source_id == int(state.source))
            and oracle.matches(node, e)
        ),
        key=lambda e: (e.p_event_time, e.pk),
        reverse=True,
    )
    found, count = state.events(), len(expected)
    assert found.count() == count, q
    rows, _ = page(found)
    assert [e.pk for e in rows] == [e.pk for e in expected[:PAGE_SIZE]], q
    bars = histogram(state)
    assert sum(bar.count for bar in bars) == count, q
    assert [bar.count for bar in bars] == [
        sum(1 for e in expected if bar.start <= e.p_event_time < bar.end) for bar in bars
    ], q
    return count


def sample(stored: Stored, getter) -> str:
    """A value that some stored event has (the 100th found), so the query matches something."""
    values = [v for e in stored.events if (v := getter(e))]
    return values[min(99, len(values) - 1)]


QUERIES = [
    "",
    "event:user.login",
    "event:user.login success:false",
    "event:user.login AND success:true",
    "success:no",
    "-event:session.data",
    "NOT event:session.command",
    "event:user.login OR event:exec",
    "(event:user.login OR event:exec) -success:true",
    "user:adm*",
    "user:*admin*",
    "server_hostname:*.staging.example.com",
    "code:T10*",
    "exitCode>0",
    "exitCode:0",
    "return_code>=1",
    "dst_port<1000",
    "pid>1000 pid<=40000",
    "argv:ls",
    "participants:teleport-admin",
    "server_labels.env:staging",
    "server_labels.role:batch OR server_labels.env:prod",
    "p_extra.user_kind:1",
    "user_kind:2",
    "private_key_policy:none",
    "mfa_device.mfa_device_type:*",
    "addr.remote:*:3022",
    "kubectl",
    "staging*",
    '"prod.example.com"',
    "log_type:Gravitational.TeleportAudit",
    "log_type:gravitational.*",
    "source:prod-teleport",
    "source:lab*",
    "-source:prod-teleport",
    "no_such_field:x",
    "-no_such_field:x",
]


def test_fixed_queries_agree_with_the_oracle_over_30_days(stored):
    counts = {q: check(stored, q, range="30d") for q in QUERIES}
    # the corpus is varied enough that the queries are not trivially empty or total
    assert sum(1 for n in counts.values() if 0 < n < counts[""]) >= len(QUERIES) * 2 // 3, counts


@pytest.mark.parametrize("range_", ["1h", "24h", "7d"])
def test_preset_ranges_agree_with_the_oracle(stored, range_):
    for q in ["", "event:user.login", "-event:session.command", "user:*a*"]:
        check(stored, q, range=range_)


def test_custom_ranges_sources_and_time_terms_agree_with_the_oracle(stored):
    start = (stored.now - timedelta(days=10, minutes=7)).strftime("%Y-%m-%dT%H:%M:%S")
    end = (stored.now + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%S")  # holds future events
    check(stored, "", range="custom", start=start, end=end)
    check(stored, "event:session.command", range="custom", start=start)
    check(stored, "", range="30d", source=str(stored.sources["lab"]))
    check(stored, "-user:alice", range="7d", source=str(stored.sources["prod"]))
    middle = (stored.now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
    check(stored, f"p_event_time>={middle}", range="30d")
    check(stored, f"p_event_time<{middle} event:user.login", range="30d")


def test_indicator_and_exact_values_taken_from_the_events_agree_with_the_oracle(stored):
    ip = sample(stored, lambda e: e.p_any_ip_addresses and e.p_any_ip_addresses[0])
    domain = sample(stored, lambda e: e.p_any_domain_names and e.p_any_domain_names[-1])
    sid = sample(stored, lambda e: e.fields.get("sid"))
    row = sample(stored, lambda e: e.p_row_id)
    for q in [f"ip:{ip}", f"domain:{domain}", f"sid:{sid}", f"trace_id:{sid}", f"p_row_id:{row}"]:
        assert check(stored, q, range="30d") >= 1, q
    assert check(stored, f"ip:{ip} OR domain:{domain}", range="30d") >= 1


# --- generated queries -------------------------------------------------------------------------
WORDS = st.sampled_from(["login", "root", "prod", "kube", "T10", "example", "node", "zz-none"])
LEAVES = st.one_of(
    st.sampled_from(
        [
            "event:user.login",
            "event:session.command",
            "event:exec",
            "success:true",
            "success:false",
            "user:alice",
            "user:adm*",
            "login:root",
            "login:ubuntu",
            "code:T3*",
            "exitCode>0",
            "return_code:0",
            "dst_port>=5432",
            "argv:ls",
            "server_labels.env:prod",
            "p_extra.user_kind:1",
            "private_key_policy:none",
            "source:lab",
            "source:prod*",
            "log_type:Gravitational.*",
            "missing_field:1",
        ]
    ),
    WORDS,
    WORDS.map(lambda word: word + "*"),
)


def combine(children):
    return st.one_of(
        children.map(lambda q: f"-{q}" if q[0] != "-" else f"NOT {q}"),
        st.lists(children, min_size=2, max_size=3).map(" ".join),
        st.lists(children, min_size=2, max_size=3).map(" AND ".join),
        st.lists(children, min_size=2, max_size=3).map(lambda qs: "(" + " OR ".join(qs) + ")"),
    )


QUERY_TEXT = st.recursive(LEAVES, combine, max_leaves=6)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=QUERY_TEXT, range_=st.sampled_from(["24h", "7d", "30d"]))
def test_generated_queries_agree_with_the_oracle(stored, q, range_):
    check(stored, q, range=range_)
