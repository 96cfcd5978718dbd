"""The dashboard's Workers panel: the live workers (from their Redis announcements), how many
tasks wait in each queue, and one sentence saying whether every queue is served."""

import re

import pytest
import redis
from django.urls import reverse

from sources import runtime

pytestmark = pytest.mark.django_db
QUEUES = ("receive", "ingest", "interactive")


@pytest.fixture
def queues(worker_registry):
    """The three Celery queues in Redis, empty; fill(name, n) puts n placeholder messages."""
    client = runtime.connection()
    client.delete(*QUEUES)

    def fill(name: str, n: int) -> None:
        client.rpush(name, *[b"{}"] * n)

    yield fill
    client.delete(*QUEUES)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def dashboard(client) -> str:
    return client.get(reverse("dashboard")).content.decode()


def test_the_panel_lists_live_workers_and_queue_depths(viewer_client, worker_registry, queues):
    worker_registry.announce("receive@web-1", ["receive"], concurrency=8, active=2)
    worker_registry.announce("ingest@web-1", ["ingest"], concurrency=2, active=2)
    worker_registry.announce("interactive@web-1", ["interactive"], concurrency=4)
    queues("ingest", 37)

    html = dashboard(viewer_client)
    page = text(html)

    assert "Workers" in page
    assert "All queues are served." in page
    assert 'data-worker="ingest@web-1"' in html
    assert "ingest@web-1 ingest 2 2" in page  # name, queues, processes, busy
    assert "receive@web-1 receive 8 2" in page
    assert "ingest 37 1 2" in page  # queue, tasks waiting, workers, processes
    assert "interactive 0 1 4" in page


def test_no_worker_at_all_is_an_empty_state_that_says_how_to_start_them(viewer_client, queues):
    page = text(dashboard(viewer_client))

    assert (
        "No worker serves the receive, ingest and interactive queues: start them "
        "(./run starts them)." in page
    )
    assert "No worker is running. Start them with ./run" in page


def test_a_missing_interactive_worker_says_verifications_will_wait(
    viewer_client, worker_registry, queues
):
    worker_registry.announce("receive@web-1", ["receive"])
    worker_registry.announce("ingest@web-1", ["ingest"])
    queues("interactive", 3)

    page = text(dashboard(viewer_client))

    assert "No worker serves the interactive queue: verifications will wait." in page
    assert "interactive 3 none 0" in page


def test_the_panel_refreshes_itself_with_htmx(viewer_client, worker_registry, queues):
    worker_registry.announce_layout()

    response = viewer_client.get(
        reverse("dashboard"), headers={"HX-Request": "true", "HX-Target": "workers-panel"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="workers-panel"')
    assert "All queues are served." in html
    assert "<h1>" not in html


def test_when_redis_does_not_answer_the_panel_says_so(viewer_client, monkeypatch):
    def away():
        raise redis.ConnectionError("refused")

    monkeypatch.setattr(runtime, "workers", away)

    page = text(dashboard(viewer_client))

    assert "Redis does not answer: the workers and queues are unknown." in page
    assert "Overview" in page
