"""Search answers checked against a brute-force evaluation in Python over the same events.

A few thousand generated Teleport events (three origins: two sources and none, 36 days around a
fixed `now`, some of them in the future) are stored by the ingestion writer. For each query the
search's count, first page and histogram must equal what `Oracle` computes by reading every
event and applying the query language's documented meaning term by term (docs/search.md): no
SQL, no ORM filter, only the events' stored values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.generate import generate_lines
from events.models import Event
from events.query import parse
from events.search import PAGE_SIZE, SearchState, histogram, page
from events.store import write_batch
from logtypes.registry import current_registry
from parsers import Origin, ParsedEvent
from tests.events.oracle import Oracle
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

EVENTS = 3000


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
