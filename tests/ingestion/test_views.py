"""The ingestion panel: what a viewer sees, and the admin actions (Retry, Reprocess, Backfill)."""

import gzip
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from console.celery import app
from devtools.generate import generate_lines
from events.models import Event, Failure
from ingestion.models import BackfillRun, ObjectLedger, StageError
from sources import aws as aws_module
from tests.factories import FailureFactory, SourceFactory

BUCKET = "teleport-backfill"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def eager_tasks():
    """Tasks run in the request (these tests are about the views, not the worker)."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def bucket_source(db, aws):
    s3 = aws_module.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    source = SourceFactory(
        config={
            "bucket": BUCKET,
            "region": "us-east-1",
            "prefixes": [{"prefix": "teleport/", "log_types": [], "exclude": []}],
            "discovery": "listing",
        }
    )
    return source, s3


def lines(count: int, seed: int) -> bytes:
    return b"\n".join(generate_lines(count, seed)) + b"\n"


def test_the_panel_shows_failed_objects_failed_lines_and_stage_errors(viewer_client):
    source = SourceFactory()
    ObjectLedger.objects.create(
        source=source,
        bucket="b",
        key="teleport/x.json.gz",
        version="e1",
        status="failed",
        attempts=3,
        error="AccessDenied: Access Denied (s3://b/teleport/x.json.gz)",
    )
    FailureFactory(source=source, raw=b'{"event": "user.lo')
    StageError.objects.create(
        source=source, stage="get_object", message="AccessDenied: Access Denied", at=timezone.now()
    )

    page = viewer_client.get(f"/ingestion/sources/{source.pk}/")
    partial = viewer_client.get(f"/ingestion/sources/{source.pk}/", **HTMX)

    html = page.content.decode()
    assert page.status_code == 200
    assert "<html" in html
    assert "<html" not in partial.content.decode()
    assert "teleport/x.json.gz" in html
    assert "AccessDenied: Access Denied" in html
    assert "{&quot;event&quot;: &quot;user.lo" in html
    assert "Retry" not in html
    assert "Reprocess failures" not in html


def test_some_lines_that_did_not_parse_are_a_warning_not_a_stage_error(viewer_client):
    source = SourceFactory()
    StageError.objects.create(
        source=source,
        stage="parse",
        message="3 of 400 lines of teleport/a.json.gz did not parse (see Failures)",
        at=timezone.now(),
    )

    html = viewer_client.get(f"/ingestion/sources/{source.pk}/").content.decode()

    parse_row = html.split("<td>Parse</td>")[1].split("</tr>")[0]
    assert "Warning" in parse_row
    assert "Error" not in parse_row


def test_a_viewer_cannot_retry_reprocess_or_backfill(viewer_client):
    source = SourceFactory()
    row = ObjectLedger.objects.create(source=source, bucket="b", key="k", version="v")

    assert viewer_client.post(f"/ingestion/objects/{row.pk}/retry/").status_code == 403
    assert viewer_client.post(f"/ingestion/sources/{source.pk}/reprocess/").status_code == 403
    assert viewer_client.post(f"/ingestion/sources/{source.pk}/backfill/").status_code == 403


def test_backfill_from_date_reads_the_bucket_and_reports_progress(
    admin_client, bucket_source, eager_tasks
):
    source, s3 = bucket_source
    for hour, count in ((1, 20), (2, 30), (3, 10)):
        key = f"teleport/2026/11/27/{hour:02}/part.json.gz"
        s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(lines(count, hour)))

    started = admin_client.post(
        f"/ingestion/sources/{source.pk}/backfill/", {"since": "2026-01-01"}, **HTMX
    )

    run = BackfillRun.objects.get()
    assert started.status_code == 200
    assert 'id="backfill-progress"' in started.content.decode()
    assert run.since == datetime(2026, 1, 1, tzinfo=UTC)
    progress = admin_client.get(f"/ingestion/backfills/{run.pk}/", **HTMX).content.decode()
    assert "3 of 3 objects" in progress
    assert "60 events" in progress
    assert "every 2s" not in progress  # finished: the partial stops polling
    assert Event.objects.filter(source=source).count() == 60


def test_backfill_needs_a_date(admin_client, db):
    source = SourceFactory()

    response = admin_client.post(f"/ingestion/sources/{source.pk}/backfill/", {"since": "soon"})

    assert response.status_code == 302
    assert not BackfillRun.objects.exists()


def test_retry_reads_a_failed_object_again(admin_client, bucket_source, eager_tasks):
    source, s3 = bucket_source
    key = "teleport/2026/11/27/04/late.json"
    body = lines(12, 9)
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"].strip('"')
    row = ObjectLedger.objects.create(
        source=source,
        bucket=BUCKET,
        key=key,
        version=etag,
        status="failed",
        attempts=3,
        error="NoSuchKey: The specified key does not exist.",
    )

    response = admin_client.post(f"/ingestion/objects/{row.pk}/retry/")

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.events, row.error) == ("done", 12, "")
    assert Event.objects.filter(source=source, object_key=key).count() == 12


def test_reprocess_moves_lines_that_now_parse_into_events(admin_client, db, eager_tasks):
    source = SourceFactory()
    good = next(iter(generate_lines(1, 5)))
    FailureFactory(
        source=source,
        object_key="teleport/a.json",
        object_version="v1",
        line=7,
        raw=good,
        error="schema said no (older schema)",
    )
    FailureFactory(
        source=source,
        object_key="teleport/a.json",
        object_version="v1",
        line=8,
        raw=b"still not json",
    )

    admin_client.post(f"/ingestion/sources/{source.pk}/reprocess/")

    event = Event.objects.get(source=source)
    assert (event.object_key, event.object_version, event.line) == ("teleport/a.json", "v1", 7)
    assert list(Failure.objects.values_list("line", flat=True)) == [8]


def test_the_panel_included_with_only_a_source_loads_itself(db):
    from django.template.loader import render_to_string

    source = SourceFactory()

    html = render_to_string("ingestion/partials/source_ingestion.html", {"source": source})

    assert f'hx-get="/ingestion/sources/{source.pk}/"' in html
    assert f'href="/ingestion/sources/{source.pk}/"' in html  # works without JavaScript too


def test_the_ingestion_panel_is_a_tab_of_the_source(viewer_client):
    source = SourceFactory()
    FailureFactory(source=source, raw=b"not json")
    overview = viewer_client.get(f"/sources/{source.pk}/").content.decode()
    assert f'href="/ingestion/sources/{source.pk}/"' in overview
    html = viewer_client.get(f"/ingestion/sources/{source.pk}/").content.decode()
    assert f'<a href="/ingestion/sources/{source.pk}/"' in html
    tab = html.split(f'<a href="/ingestion/sources/{source.pk}/"')[1].split(">")[0]
    assert 'aria-current="page"' in tab
    assert f'href="/sources/{source.pk}/health/"' in html  # the other tabs are there too
    panel = viewer_client.get(
        f"/ingestion/sources/{source.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="tab-panel"
    ).content.decode()
    assert panel.lstrip().startswith('<section id="tab-panel"')
    assert "not json" in panel


def test_the_dashboards_failed_lines_card_links_to_the_source_with_most_failures(viewer_client):
    quiet, noisy = SourceFactory(name="quiet"), SourceFactory(name="noisy")
    FailureFactory(source=quiet)
    FailureFactory.create_batch(2, source=noisy)
    html = viewer_client.get("/").content.decode()
    before = html.split('data-testid="failures-24h"')[0]
    card = before[before.rindex("<a ") :]
    assert f'href="/ingestion/sources/{noisy.pk}/"' in card
