"""The console shell: login everywhere, navigation, and the home dashboard."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ingestion.health import add_hourly
from sources import stats
from tests.factories import EventFactory, FailureFactory, SourceFactory

TELEPORT = "Gravitational.TeleportAudit"

pytestmark = pytest.mark.django_db

PAGES = ["dashboard", "sources:list", "events:search"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visit_redirects_to_login(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_admin_site_requires_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/login/" in response.url


def test_healthz_is_public(client):
    assert client.get(reverse("healthz")).json() == {"status": "ok"}


def test_login_form_signs_in_and_lands_on_dashboard(client, viewer):
    response = client.post(
        reverse("login"), {"username": "viewer", "password": "correct-horse-battery"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert b"Overview" in response.content


def test_wrong_password_gets_a_message(client, viewer):
    response = client.post(reverse("login"), {"username": "viewer", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_navigation_names_the_sections_and_the_user(viewer_client):
    html = viewer_client.get(reverse("dashboard")).content.decode()
    for label in ["Configure › Log Sources", "Search", "Admin", "viewer", "Log out"]:
        assert label in html


def test_empty_dashboard_tells_a_new_user_what_to_do(viewer_client):
    html = viewer_client.get(reverse("dashboard")).content.decode()
    assert "No log sources yet" in html
    assert reverse("sources:list") in html


def test_dashboard_counts_sources_and_events_received_and_failures_of_the_last_24h(viewer_client):
    source = SourceFactory()
    EventFactory.create_batch(3, source=source)
    add_hourly(source.pk, events_by_log_type={TELEPORT: 3})
    add_hourly(source.pk, events_by_log_type={TELEPORT: 9}, when=timezone.now() - timedelta(days=2))
    FailureFactory.create_batch(2, source=source)

    response = viewer_client.get(reverse("dashboard"))

    assert response.context["source_count"] == 1
    assert response.context["events_24h"] == 3
    assert response.context["failures_24h"] == 2


def test_the_dashboard_count_is_the_sum_of_the_sources_list_whatever_the_events_times(
    viewer_client,
):
    """One definition (events received this hour and the 23 before it, sources.stats): the
    dashboard showed events by event time, which differs whenever logs arrive late or early."""
    window_start = stats.hour_buckets(stats.RECEIVED_HOURS)[0]
    backfilled, live = SourceFactory(name="backfilled"), SourceFactory(name="live")
    EventFactory.create_batch(5, source=backfilled, p_event_time=timezone.now() - timedelta(days=3))
    add_hourly(backfilled.pk, events_by_log_type={TELEPORT: 5})
    EventFactory.create_batch(4, source=live)
    add_hourly(live.pk, events_by_log_type={TELEPORT: 4}, when=window_start + timedelta(minutes=1))
    add_hourly(live.pk, events_by_log_type={TELEPORT: 7}, when=window_start - timedelta(minutes=1))

    dashboard = viewer_client.get(reverse("dashboard"))
    listed = viewer_client.get(reverse("sources:list")).content.decode()

    column = [int(n.replace(",", "")) for n in re.findall(r'class="events-24h">([\d,]+)<', listed)]
    assert sorted(column) == [4, 5]
    assert dashboard.context["events_24h"] == sum(column) == 9
    assert "Events received, last 24 h" in dashboard.content.decode()


def test_dashboard_lists_unhealthy_sources_first(viewer_client):
    SourceFactory(name="aaa-healthy", health="healthy")
    SourceFactory(name="zzz-broken", health="unhealthy", health_reason="AccessDenied on GetObject")

    sources = list(viewer_client.get(reverse("dashboard")).context["sources"])

    assert [s.name for s in sources] == ["zzz-broken", "aaa-healthy"]


def test_log_out_ends_the_session(viewer_client):
    viewer_client.post(reverse("logout"))
    assert viewer_client.get(reverse("dashboard")).status_code == 302


def test_favicon_ico_is_the_sluice_icon_for_anyone(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/img/sluice.svg")


def test_the_dashboard_and_the_sources_list_name_the_clock_of_their_24_h_counts(viewer_client):
    SourceFactory()
    dashboard = viewer_client.get(reverse("dashboard")).content.decode()
    assert "Events received, last 24 h" in dashboard
    assert "the sum of the Log Sources list" in dashboard
    sources = viewer_client.get(reverse("sources:list")).content.decode()
    assert "Received (24 h)" in sources
    assert "by the hour they arrived" in sources


@pytest.mark.parametrize("name", PAGES)
def test_no_page_shows_template_comments(viewer_client, name):
    """A {# #} comment spans one line only: the base template's two-line one was shown as text
    at the top of every page."""
    html = viewer_client.get(reverse(name)).content.decode()
    assert "{#" not in html
    assert "#}" not in html
