"""Query text → ORM filter → the right events, on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.filters import query_q
from events.models import Event
from events.query import QueryError
from tests.factories import EventFactory, SourceFactory

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)  # reset as each test starts (conftest.py)


@pytest.fixture
def corpus():
    """A handful of Teleport-shaped events, each named so tests can say which should match."""
    prod = SourceFactory(name="prod-teleport")
    events = {
        "alice_login_ok": EventFactory(
            fields={
                "event": "user.login",
                "code": "T1000I",
                "user": "alice@example.com",
                "success": True,
                "addr_remote": "10.0.0.1:3022",
                "mfa_device": {"mfa_device_type": "WebAuthn"},
            },
            p_any_ip_addresses=["10.0.0.1"],
            p_any_emails=["alice@example.com"],
            source=prod,
        ),
        "admin_login_failed": EventFactory(
            fields={
                "event": "user.login",
                "code": "T1000W",
                "user": "admin",
                "success": False,
                "error": "invalid credentials",
                "addr_remote": "203.0.113.9:51000",
            },
            p_any_ip_addresses=["203.0.113.9"],
        ),
        "adm_command": EventFactory(
            fields={
                "event": "session.command",
                "code": "T4000I",
                "user": "administrator",
                "login": "root",
                "sid": "sess-1",
                "argv": ["cat", "/etc/shadow"],
                "path": "/usr/bin/cat",
                "return_code": 1,
            },
            p_extra={"user_kind": 1},
        ),
        "exec_ok": EventFactory(
            fields={
                "event": "exec",
                "code": "T3002I",
                "user": "bob",
                "login": "ubuntu",
                "command": "uptime",
                "exitCode": "0",
            },
        ),
        "exec_failed": EventFactory(
            fields={
                "event": "exec",
                "code": "T3002E",
                "user": "bob",
                "login": "root",
                "command": "rm -rf 100%_done",
                "exitCode": "2",
            },
        ),
        "session_data": EventFactory(
            fields={"event": "session.data", "code": "T2006I", "sid": "sess-1", "tx": 10, "rx": 20},
            p_log_type="Sluice.SSHAuth",
        ),
    }
    return events


def matching(query: str, corpus) -> set[str]:
    ids = set(Event.objects.filter(query_q(query)).values_list("pk", flat=True))
    return {name for name, event in corpus.items() if event.pk in ids}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("event:user.login", {"alice_login_ok", "admin_login_failed"}),
        ("event:user.login success:false", {"admin_login_failed"}),
        ("success:true", {"alice_login_ok"}),
        ('user:"alice@example.com"', {"alice_login_ok"}),
        ("user:adm*", {"admin_login_failed", "adm_command"}),
        ("user:*@example.com", {"alice_login_ok"}),
        ("user:ADM*", {"admin_login_failed", "adm_command"}),
        ("-event:user.login", {"adm_command", "exec_ok", "exec_failed", "session_data"}),
        ("-login:root", {"alice_login_ok", "admin_login_failed", "exec_ok", "session_data"}),
        ("(user:bob OR user:admin) login:root", {"exec_failed"}),
        ("user:bob (login:root OR login:nobody)", {"exec_failed"}),
        ("-(user:bob OR event:user.login)", {"adm_command", "session_data"}),
        ("return_code>0", {"adm_command"}),
        ("return_code>=1 return_code<=1", {"adm_command"}),
        ("tx<11", {"session_data"}),
        ("addr.remote:10.0.0.1:3022", {"alice_login_ok"}),
        ('addr_remote:"203.0.113.9:51000"', {"admin_login_failed"}),
        ("mfa_device.mfa_device_type:WebAuthn", {"alice_login_ok"}),
        ("argv:/etc/shadow", {"adm_command"}),
        ("user_kind:1", {"adm_command"}),
        ("p_extra.user_kind:1", {"adm_command"}),
        ("ip:10.0.0.1", {"alice_login_ok"}),
        ("p_any_ip_addresses:203.0.113.9", {"admin_login_failed"}),
        ("email:alice@example.com", {"alice_login_ok"}),
        ("log_type:Sluice.SSHAuth", {"session_data"}),
        ("log_type:sluice*", {"session_data"}),
        ("source:prod-teleport", {"alice_login_ok"}),
        ("credentials", {"admin_login_failed"}),
        ('"INVALID CRED"', {"admin_login_failed"}),
        ("shad*", {"adm_command"}),
        ("100%_done", {"exec_failed"}),
        ("100%", {"exec_failed"}),
        ("code:T3002?", set()),
        ("sid:sess-1", {"adm_command", "session_data"}),
    ],
)
def test_query_matches_exactly_the_expected_events(corpus, query, expected):
    assert matching(query, corpus) == expected


def test_like_metacharacters_in_values_are_literal(corpus):
    """`_` and `%` in a wildcard value match only themselves, not any character."""
    assert matching("command:rm*100%_done", corpus) == {"exec_failed"}
    assert matching("command:rm*100%xdone", corpus) == set()
    assert matching("command:*_*", corpus) == {"exec_failed"}


def test_numeric_comparison_skips_text_values(corpus):
    """exitCode is a string in this corpus: a numeric comparison must not match text."""
    assert matching("exitCode>0", corpus) == set()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("success:maybe", "true or false"),
        ("return_code>abc", "needs a number"),
        ("user>3", "compares numbers"),
        ("ip:10.0.*", "wildcards are not supported"),
        ("ip>1", "not a comparison"),
        ("p_event_time>yesterday", "compares with a date"),
    ],
)
def test_invalid_terms_raise_query_error_with_position(query, message):
    with pytest.raises(QueryError, match=message) as caught:
        query_q(query)
    assert 0 <= caught.value.position < len(query)


def test_event_time_comparison():
    old = EventFactory(p_event_time=NOW - timedelta(days=3))
    new = EventFactory(p_event_time=NOW)
    since = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert list(Event.objects.filter(query_q(f"p_event_time>{since}"))) == [new]
    assert list(Event.objects.filter(query_q(f"p_event_time<{since}"))) == [old]


LOOKUP_NAMES = ["gt", "isnull", "regex", "contains", "range", "in", "has_key", "exact"]


@pytest.mark.parametrize("lookup", LOOKUP_NAMES)
@pytest.mark.parametrize(
    "spelling", ["user__{}", "user.{}", "mfa_device.{}.x", "p_extra.user_kind__{}"]
)
def test_field_names_are_key_paths_never_orm_lookups(corpus, spelling, lookup):
    """`user__gt:a` names the key "user__gt" (absent here), never the `gt` lookup on `user`."""
    for value in ["a", "true", '".*"', "1"]:
        assert matching(f"{spelling.format(lookup)}:{value}", corpus) == set()
        assert matching(f"-{spelling.format(lookup)}:{value}", corpus) == set(corpus)


def test_a_key_with_double_underscores_is_found_by_its_name():
    odd = EventFactory(fields={"weird__gt": "x", "nested": {"in": {"contains": 5}}})
    EventFactory(fields={"weird": "y"})
    assert list(Event.objects.filter(query_q("weird__gt:x"))) == [odd]
    assert list(Event.objects.filter(query_q("nested.in.contains>4"))) == [odd]
    assert list(Event.objects.filter(query_q("weird__gt:y"))) == []
    assert set(Event.objects.filter(query_q("-weird__gt:y"))) == set(Event.objects.all())


def test_values_are_data_never_sql(corpus):
    assert matching('user:"\' OR 1=1 --"', corpus) == set()
    assert matching('"\'; DROP TABLE events_event; --"', corpus) == set()
    assert Event.objects.count() == len(corpus)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.sampled_from(
            ["user:", "ip:", "exitCode>", "-", "(", ")", " OR ", " ", "a", "*", '"', "1", "%", "_"]
        ),
        max_size=12,
    ).map("".join)
)
def test_any_query_runs_or_raises_query_error(corpus, text):
    """Whatever is typed, the database never sees an invalid statement."""
    try:
        q = query_q(text)
    except QueryError:
        return
    list(Event.objects.filter(q)[:5])
