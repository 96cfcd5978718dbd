"""The search page, its partials, export, saved searches, event page and session timeline."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from django.db import connection
from django.urls import reverse

from events.models import Event, SavedSearch
from events.search import PAGE_SIZE
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)  # reset as each test starts (conftest.py)
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=1">'


def login_event(user="alice", minutes_ago=5, **fields):
    return EventFactory(
        p_event_time=NOW - timedelta(minutes=minutes_ago),
        fields={"event": "user.login", "code": "T1000I", "user": user, **fields},
    )


def test_anonymous_users_are_sent_to_login(client):
    for url in ["/search/", "/search/rows/", "/search/export.csv", "/search/sessions/x/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_search_page_lists_newest_first_with_default_teleport_columns(viewer_client):
    old = login_event("old-user", minutes_ago=50)
    new = login_event("new-user", minutes_ago=1, addr_remote="10.1.2.3:4000")
    html = viewer_client.get("/search/", {"hist": "1"}).content.decode()
    assert html.index(new.p_row_id) < html.index(old.p_row_id)
    for column in ["event", "code", "user", "login", "addr_remote", "server_hostname", "sid"]:
        assert f"<th>{column} " in html
    assert "2 events" in html


def test_query_and_time_range_filter_results(viewer_client):
    login_event("alice")
    login_event("bob")
    login_event("carol", minutes_ago=60 * 30)  # outside the default 24 hours
    html = viewer_client.get(
        "/search/", {"q": "user:bob OR user:carol", "hist": "1"}
    ).content.decode()
    assert "1 event<" in html
    assert ">bob<" in html
    assert ">carol<" not in html
    html = viewer_client.get("/search/", {"q": "user:carol", "range": "7d"}).content.decode()
    assert ">carol<" in html


def test_invalid_query_shows_inline_error_at_its_position(viewer_client):
    response = viewer_client.get("/search/", {"q": "user:alice (login:root"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "a closing parenthesis is missing" in html
    assert "(at character 12)" in html
    assert '<mark class="query-at">(</mark>' in html
    assert 'aria-invalid="true"' in html


def test_bad_custom_range_is_reported_on_its_field(viewer_client):
    html = viewer_client.get(
        "/search/", {"range": "custom", "start": "2026-11-02T00:00", "end": "2026-11-01T00:00"}
    ).content.decode()
    assert "the end must be after the start" in html


def test_htmx_request_gets_only_the_search_body(viewer_client):
    login_event()
    response = viewer_client.get("/search/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="search-body"')
    assert "<html" not in html


def test_histogram_bars_link_to_narrower_ranges(viewer_client):
    login_event(minutes_ago=30)
    html = viewer_client.get("/search/histogram/", {"range": "1h"}).content.decode()
    bars = re.findall(r'<a href="/search/\?([^"]+)"[^>]*class="bar-link" data-count="(\d+)"', html)
    assert len(bars) in {60, 61}  # one-minute buckets aligned to the minute, over an hour
    assert sum(int(count) for _, count in bars) == 1
    params = parse_qs(bars[0][0].replace("&amp;", "&"))
    start = datetime.fromisoformat(params["start"][0])
    end = datetime.fromisoformat(params["end"][0])
    assert timedelta(0) < end - start <= timedelta(minutes=1)


def test_filtered_search_loads_its_histogram_after_the_rows(viewer_client):
    login_event("alice")
    html = viewer_client.get("/search/", {"q": "user:alice"}).content.decode()
    assert 'hx-get="/search/histogram/?q=user%3Aalice" hx-trigger="load"' in html
    assert 'href="/search/?q=user%3Aalice&amp;hist=1"' in html  # without JavaScript
    partial = viewer_client.get("/search/histogram/", {"q": "user:alice"}).content.decode()
    assert '<strong id="total-count">1 event</strong>' in partial


def test_load_more_pages_with_a_cursor_without_gaps_or_repeats(viewer_client):
    events = [login_event(f"u{i}", minutes_ago=1) for i in range(PAGE_SIZE + 7)]  # same minute
    first = viewer_client.get("/search/").content.decode()
    seen = re.findall(r'data-row-id="([0-9a-f]+)"', first)
    cursor_url = re.search(r'hx-get="(/search/rows/\?[^"]+)"', first).group(1).replace("&amp;", "&")
    more = viewer_client.get(cursor_url).content.decode()
    seen += re.findall(r'data-row-id="([0-9a-f]+)"', more)
    assert sorted(seen) == sorted(e.p_row_id for e in events)
    assert "Load more" not in more
    assert "End of results" in more


def test_field_sidebar_top_values_with_filter_and_exclude_links(viewer_client):
    for user in ["alice", "alice", "alice", "bob"]:
        login_event(user)
    html = viewer_client.get("/search/fields/", {"field": "user"}).content.decode()
    values = re.findall(r'class="facet-value" title="([^"]*)">', html)
    assert values == ["alice", "bob"]
    assert '<span class="facet-count">3</span>' in html
    include = re.search(r'class="facet-include"', html)
    assert include
    links = re.findall(r'href="/search/\?([^"]+)"', html)
    queries = [parse_qs(link.replace("&amp;", "&"))["q"][0] for link in links]
    assert "user:alice" in queries
    assert "-user:alice" in queries


def test_columns_can_be_added_and_removed_through_the_url(viewer_client):
    login_event(method="local")
    html = viewer_client.get("/search/", {"cols": "event,method"}).content.decode()
    assert "<th>method " in html
    assert "<th>code " not in html
    assert ">local<" in html


def test_sid_cell_links_to_the_session_timeline(viewer_client):
    EventFactory(fields={"event": "session.start", "sid": "abc-123", "user": "alice"})
    html = viewer_client.get("/search/").content.decode()
    assert 'href="/search/sessions/abc-123/"' in html


def test_hostile_field_values_are_escaped_everywhere(viewer_client):
    EventFactory(
        fields={
            "event": HOSTILE,
            "user": 'javascript:alert(1)" hx-get="/admin/',
            "login": "<b>root</b>",
            HOSTILE: "key",
        },
        p_extra={"note": HOSTILE},
    )
    html = viewer_client.get("/search/", {"facet": "event"}).content.decode()
    assert "<script>window.pwned" not in html
    assert "<img src=x" not in html
    assert "<b>root</b>" not in html
    assert 'hx-get="/admin/' not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html


def test_export_csv_streams_shown_columns_and_neutralizes_formulas(viewer_client):
    login_event('=HYPERLINK("http://evil")')
    login_event("bob")
    response = viewer_client.get("/search/export.csv", {"limit": "5"})
    assert response.status_code == 200
    assert response.streaming
    assert response["X-Export-Limit"] == "5"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["p_event_time", "p_log_type", "p_row_id", "event", "code"]
    users = {row[5] for row in rows[1:]}
    assert users == {"bob", '\'=HYPERLINK("http://evil")'}


def test_export_jsonl_respects_the_limit(viewer_client):
    for i in range(5):
        login_event(f"u{i}")
    response = viewer_client.get("/search/export.jsonl", {"limit": "3", "q": "event:user.login"})
    lines = b"".join(response.streaming_content).splitlines()
    assert len(lines) == 3
    assert {"user", "p_row_id", "p_event_time"} <= set(orjson.loads(lines[0]))


@pytest.mark.parametrize(
    ("params", "status"),
    [({"limit": "0"}, 400), ({"limit": "1000000"}, 400), ({"q": "(a"}, 400)],
)
def test_export_refuses_bad_limits_and_queries(viewer_client, params, status):
    assert viewer_client.get("/search/export.csv", params).status_code == status


def test_unknown_export_format_is_404(viewer_client):
    assert viewer_client.get("/search/export.xml").status_code == 404


def test_saved_searches_are_private_unless_shared(client, viewer):
    other = UserFactory(username="other")
    client.force_login(other)
    client.post("/search/saved/", {"name": "mine", "query_string": "q=user%3Aalice"})
    client.post(
        "/search/saved/", {"name": "team", "query_string": "q=ip%3A10.0.0.1", "shared": "on"}
    )
    client.force_login(viewer)
    html = client.get("/search/").content.decode()
    assert ">team<" in html
    assert ">mine<" not in html
    assert 'href="/search/?q=ip%3A10.0.0.1"' in html


def test_saving_twice_with_one_name_is_refused_with_a_message(viewer_client, viewer):
    viewer_client.post("/search/saved/", {"name": "logins", "query_string": "q=a"})
    response = viewer_client.post(
        "/search/saved/", {"name": "logins", "query_string": "q=b"}, follow=True
    )
    assert "already have a saved search named" in response.content.decode()
    assert SavedSearch.objects.get(user=viewer).query_string == "q=a"


def test_only_the_owner_deletes_a_saved_search(client, viewer):
    saved = SavedSearch.objects.create(user=UserFactory(username="owner"), name="x", shared=True)
    client.force_login(viewer)
    assert client.post(f"/search/saved/{saved.pk}/delete/").status_code == 404
    assert SavedSearch.objects.filter(pk=saved.pk).exists()


def test_event_page_shows_fields_origin_and_related_pivots(viewer_client):
    event = EventFactory(
        fields={"event": "session.start", "user": "alice", "sid": "s-1", "login": "root"},
        p_extra={"user_kind": 1},
        p_any_ip_addresses=["10.0.0.9"],
        object_key="teleport/logs/2026/11/27/10/x.json.gz",
        object_version="v1",
        line=42,
    )
    html = viewer_client.get(f"/search/events/{event.p_row_id}/").content.decode()
    assert "teleport/logs/2026/11/27/10/x.json.gz" in html
    assert ">42<" in html
    assert event.source.name in html
    assert "p_extra.user_kind" in html
    assert 'href="/search/sessions/s-1/"' in html
    pivots = {
        parse_qs(urlsplit(href.replace("&amp;", "&")).query)["q"][0]
        for href in re.findall(r'href="(/search/\?[^"]+)"', html)
    }
    assert {"sid:s-1", "user:alice", "login:root", "ip:10.0.0.9"} <= pivots
    assert "p_any_ip_addresses:10.0.0.9" in pivots


def test_event_page_404_for_unknown_row(viewer_client):
    assert viewer_client.get("/search/events/nope/").status_code == 404


def test_session_timeline_orders_events_with_kinds_and_durations(viewer_client):
    start = NOW - timedelta(hours=1)
    steps = [
        (0, "session.start", {"user": "alice", "login": "root", "server_hostname": "web-1"}),
        (5, "session.command", {"path": "/usr/bin/id", "argv": ["-u"]}),
        (7, "session.network", {"dst_addr": "10.9.9.9", "dst_port": 443, "program": "curl"}),
        (9, "scp", {"path": "/tmp/dump.sql", "action": "download"}),
        (70, "session.end", {"user": "alice"}),
    ]
    for offset, name, extra in reversed(steps):
        EventFactory(
            p_event_time=start + timedelta(seconds=offset),
            fields={"event": name, "sid": "sess-9", **extra},
        )
    EventFactory(fields={"event": "session.start", "sid": "other"})
    html = viewer_client.get("/search/sessions/sess-9/").content.decode()
    kinds = re.findall(r'<li class="kind-(\w+)">', html)
    assert kinds == ["start", "command", "network", "file", "end"]
    assert "/usr/bin/id -u" in html
    assert "curl → 10.9.9.9:443" in html
    assert "download /tmp/dump.sql" in html
    assert "+1m 10.0s" in html
    assert '<dd id="session-duration">1m 10.0s</dd>' in html


def test_unfiltered_histogram_equals_counting_the_events(viewer_client):
    """On PostgreSQL the unfiltered histogram reads per-minute counts kept by triggers (plus the
    partial minutes at the edges); it must agree with counting events one by one."""
    from events.models import Event
    from events.search import SearchState, histogram

    for minutes in [0, 1, 1, 59, 61, 60 * 5, 60 * 23, 60 * 24 + 5]:
        login_event(minutes_ago=minutes)
    Event.objects.filter(fields__user="alice").order_by("id").first().delete()
    login_event(minutes_ago=2)
    for range_ in ["1h", "24h", "7d"]:
        state = SearchState(range=range_)
        assert state.uses_minute_counts() == (connection.vendor == "postgresql")
        by_minutes = [(b.start, b.count) for b in histogram(state)]
        filtered = SearchState(range=range_, q="event:user.login", now=state.now)
        assert not filtered.uses_minute_counts()  # the other path: counting the events
        assert by_minutes == [(b.start, b.count) for b in histogram(filtered)]


def test_top_values_count_numbers_arrays_and_end_with_the_missing_bucket():
    from events.search import SearchState, top_values

    for ei, argv in [(1, ["ls", "-l"]), (1, ["ls", "-l"]), (2, ["id"])]:
        EventFactory(fields={"event": "session.command", "ei": ei, "argv": argv})
    EventFactory(fields={"event": "user.login"})
    values, examined = top_values(SearchState(), "ei")
    assert [(v.value, v.count, v.missing) for v in values] == [
        (1, 2, False),
        (2, 1, False),
        (None, 1, True),
    ]
    assert examined == 4
    values, _ = top_values(SearchState(), "argv", sample=None, limit=1)
    assert [(v.value, v.count) for v in values] == [(["ls", "-l"], 2), (None, 1)]
    assert not values[0].filterable
    assert not values[-1].filterable


def test_the_facet_panel_shows_the_missing_bucket(viewer_client):
    login_event("alice")
    login_event("bob", login="root")
    html = viewer_client.get("/search/fields/", {"field": "login"}).content.decode()
    assert "(missing)" in html


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)  # retention drops partitions: the writes are committed
def test_minute_counts_follow_the_ingestion_writer_retries_and_retention():
    from events.models import EventMinuteCount
    from events.retention import purge_expired
    from events.seed import Chunk, parsed_events
    from events.store import write_batch

    chunk = Chunk(0, 40, 1, NOW - timedelta(days=2), timedelta(days=1), None)
    events = list(parsed_events(chunk))
    for _ in range(2):  # a retried object: the second write inserts nothing
        write_batch(events, [], source_id=None, object_key="k", object_version="v")
    counted = sum(EventMinuteCount.objects.values_list("count", flat=True))
    assert counted == len(events) == 40
    purge_expired(NOW - timedelta(days=1, hours=12))
    assert sum(EventMinuteCount.objects.values_list("count", flat=True)) == Event.objects.count()


def test_an_event_whose_session_id_has_a_slash_renders_without_a_timeline_link(admin_client):
    event = EventFactory(fields={"event": "session.start", "sid": "a/b<script>"})
    response = admin_client.get(reverse("events:detail", args=[event.p_row_id]))
    assert response.status_code == 200
    assert "Session timeline" not in response.content.decode()
    linked = EventFactory(fields={"event": "session.start", "sid": "abc-123"})
    page = admin_client.get(reverse("events:detail", args=[linked.p_row_id])).content.decode()
    assert 'href="/search/sessions/abc-123/">Session timeline' in page


def test_a_zoom_into_the_newest_bar_keeps_its_last_fraction_of_a_second(viewer_client):
    """URLs carry whole seconds; the window's end rounds up, so the newest event stays inside."""
    from events.search import CUSTOM_RANGE, SearchState

    start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    end = datetime(2026, 11, 27, 12, 0, 14, 600_000, tzinfo=UTC)
    EventFactory(p_event_time=end - timedelta(microseconds=100_000))

    params = SearchState(range=CUSTOM_RANGE, start=start, end=end).params()
    partial = viewer_client.get("/search/histogram/", params).content.decode()

    assert (params["start"], params["end"]) == ("2026-11-27T12:00:00", "2026-11-27T12:00:15")
    assert '<strong id="total-count">1 event</strong>' in partial


def test_counts_have_thousands_separators(viewer_client):
    EventFactory.create_batch(
        1234, p_event_time=NOW - timedelta(minutes=5), fields={"event": "user.login"}
    )
    html = viewer_client.get("/search/", {"hist": "1"}).content.decode()
    assert ">1,234 events<" in html
    partial = viewer_client.get("/search/histogram/", {"q": "event:user.login"}).content.decode()
    assert ">1,234 events<" in partial
