"""Hostile search parameters (source ids, dates, ranges) on every page and API that takes them:
a 400 naming the parameter, or the page with its message, never a 500 and never a silent result."""

from datetime import UTC, datetime, timedelta

import pytest

from audit.models import ApiToken
from tests.factories import EventFactory, SourceFactory

pytestmark = pytest.mark.django_db

HUGE_ID = "2683563254908927868928"
API_URLS = ["/api/v1/events", "/api/v1/events/histogram"]
PAGE_URLS = ["/search/rows/", "/search/histogram/", "/search/export.csv", "/search/export.jsonl"]
EXTREME_WINDOWS = [
    {"start": "0001-01-01"},
    {"start": "0001-01-01T00:00:00+14:00"},
    {"start": "9999-12-31T23:59:59", "end": "9999-12-31T23:59:59.999999"},
    {"start": "2026-01-01", "end": "9999-12-31T23:59:59.999999"},
    {"start": "1000-01-01", "end": "2026-01-01"},
]


@pytest.fixture
def auth(viewer):
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.objects.issue(viewer, 'tests')[1]}"}


@pytest.mark.parametrize("source", [HUGE_ID, "-1", "١٢", "1.0", str(2**63)])
@pytest.mark.parametrize("url", API_URLS)
def test_api_refuses_a_source_that_cannot_be_an_id(client, auth, url, source):
    response = client.get(url, {"source": source}, **auth)
    assert response.status_code == 400
    assert response.json()["param"] == "source"


@pytest.mark.parametrize("url", PAGE_URLS)
def test_pages_refuse_a_source_that_cannot_be_an_id(viewer_client, url):
    response = viewer_client.get(url, {"source": HUGE_ID})
    assert response.status_code == 400
    assert b"log source" in response.content


def test_search_page_reports_an_impossible_source_and_runs_nothing(viewer_client):
    EventFactory(p_event_time=datetime.now(UTC) - timedelta(minutes=1))
    response = viewer_client.get("/search/", {"source": HUGE_ID})
    assert response.status_code == 200
    html = response.content.decode()
    assert "pick a log source from the list" in html
    assert 'aria-label="Results"' not in html


def test_a_source_id_that_exists_still_filters(client, auth):
    mine = SourceFactory()
    EventFactory(source=mine, p_event_time=datetime.now(UTC) - timedelta(minutes=1))
    EventFactory(p_event_time=datetime.now(UTC) - timedelta(minutes=1))
    body = client.get("/api/v1/events", {"source": str(mine.pk)}, **auth).json()
    assert body["count"] == 1


@pytest.mark.parametrize("window", EXTREME_WINDOWS)
@pytest.mark.parametrize("url", API_URLS)
def test_api_refuses_dates_outside_the_supported_years(client, auth, url, window):
    response = client.get(url, window, **auth)
    assert response.status_code == 400
    body = response.json()
    assert body["param"] in {"start", "end"}
    assert "between" in body["detail"]


@pytest.mark.parametrize("window", EXTREME_WINDOWS)
def test_search_page_reports_dates_outside_the_supported_years(viewer_client, window):
    response = viewer_client.get("/search/", {"range": "custom", **window})
    assert response.status_code == 200
    assert "between 1900-01-01 and 2999-12-31" in response.content.decode()


@pytest.mark.parametrize("url", ["/search/rows/", "/search/histogram/"])
def test_partials_refuse_extreme_dates(viewer_client, url):
    response = viewer_client.get(url, {"start": "0001-01-01"})
    assert response.status_code == 400


def test_a_long_custom_range_keeps_the_histogram_small(client, auth):
    body = client.get(
        "/api/v1/events/histogram", {"start": "1900-01-01", "end": "2999-12-31"}, **auth
    ).json()
    assert len(body["buckets"]) <= 61


def test_query_language_dates_outside_the_supported_years_are_query_errors(client, auth):
    response = client.get("/api/v1/events", {"q": "p_event_time>0001-01-01T00:00:00+14:00"}, **auth)
    assert response.status_code == 400
    assert response.json()["param"] == "q"


def test_end_before_start_keeps_what_was_typed_and_runs_nothing(viewer_client):
    EventFactory(p_event_time=datetime.now(UTC) - timedelta(minutes=1))
    typed = {"q": "user:alice", "range": "custom", "start": "2026-11-02T08:00:00"}
    typed["end"] = "2026-11-01T09:30:00"
    html = viewer_client.get("/search/", typed).content.decode()
    assert "the end must be after the start" in html
    assert 'value="2026-11-02T08:00:00"' in html
    assert 'value="2026-11-01T09:30:00"' in html
    assert 'value="user:alice"' in html
    assert '<option value="custom" selected>' in html
    assert 'aria-label="Results"' not in html
    assert 'id="histogram"' not in html
