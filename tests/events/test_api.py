"""GET /api/v1/events and /api/v1/events/histogram: token auth, the page's query language."""

from datetime import UTC, datetime, timedelta

import pytest

from audit.models import ApiToken
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)  # reset as each test starts (conftest.py)


@pytest.fixture
def auth(viewer):
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.objects.issue(viewer, 'tests')[1]}"}


def login(user, minutes_ago=1, ip="10.0.0.1"):
    return EventFactory(
        p_event_time=NOW - timedelta(minutes=minutes_ago),
        fields={"event": "user.login", "user": user},
        p_any_ip_addresses=[ip],
    )


def test_events_require_a_token(client, viewer_client):
    assert client.get("/api/v1/events").status_code == 401
    # a browser session is not an API credential
    assert viewer_client.get("/api/v1/events").status_code == 401


def test_search_returns_count_results_and_next_cursor(client, auth):
    events = [login(f"u{i}", minutes_ago=i + 1) for i in range(5)]
    body = client.get("/api/v1/events", {"q": "event:user.login", "limit": 2}, **auth).json()
    assert body["count"] == 5
    assert [r["user"] for r in body["results"]] == ["u0", "u1"]
    seen = [r["p_row_id"] for r in body["results"]]
    while body["next"]:
        body = client.get(
            "/api/v1/events", {"q": "event:user.login", "limit": 2, "cursor": body["next"]}, **auth
        ).json()
        seen += [r["p_row_id"] for r in body["results"]]
    assert seen == [e.p_row_id for e in events]


def test_indicator_query_and_time_window(client, auth):
    hit = login("alice", ip="192.0.2.7")
    login("bob", ip="192.0.2.8")
    login("old", minutes_ago=60 * 24 * 3, ip="192.0.2.7")
    body = client.get("/api/v1/events", {"q": "ip:192.0.2.7"}, **auth).json()
    assert [r["p_row_id"] for r in body["results"]] == [hit.p_row_id]
    start = (NOW - timedelta(days=4)).isoformat()
    body = client.get("/api/v1/events", {"q": "ip:192.0.2.7", "start": start}, **auth).json()
    assert body["count"] == 2


def test_invalid_query_is_400_with_position(client, auth):
    response = client.get("/api/v1/events", {"q": "user:alice)"}, **auth)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "unbalanced ')': there is no '(' to close",
        "position": 10,
        "param": "q",
    }


def test_bad_range_and_limit_are_rejected(client, auth):
    assert client.get("/api/v1/events", {"range": "2y"}, **auth).status_code == 422
    assert client.get("/api/v1/events", {"limit": 0}, **auth).status_code == 422


def test_histogram_counts_per_bucket(client, auth):
    login("a", minutes_ago=5)
    login("b", minutes_ago=6)
    login("c", minutes_ago=50)
    body = client.get(
        "/api/v1/events/histogram", {"range": "1h", "q": "event:user.login"}, **auth
    ).json()
    assert body["interval_seconds"] == 60
    assert body["total"] == 3
    assert sum(b["count"] for b in body["buckets"]) == 3
    assert len([b for b in body["buckets"] if b["count"]]) == 3


def test_events_endpoints_are_in_the_openapi_document(client, auth):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/v1/events" in paths
    assert "/api/v1/events/histogram" in paths
