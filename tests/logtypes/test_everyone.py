"""A schema dropped into SLUICE_SCHEMAS_DIR is known everywhere, without a restart: a wizard tile,
the settings form and the API accept it, search knows its columns, workers parse with it."""

import pytest
from django.urls import reverse

from audit.models import ApiToken
from events.filters import schema_columns
from events.models import Event, Failure
from ingestion.process import ingest_body
from ingestion.reprocess import reprocess_failures
from sources.models import Source
from sources.transports.s3.forms import S3SourceForm
from sources.transports.sqs import SqsSourceForm
from tests.factories import EventFactory, SourceFactory
from tests.logtypes.conftest import FIREWALL, FIREWALL_SCHEMA
from tests.sources.conftest import s3_form_data, s3_payload, sqs_form_data

pytestmark = pytest.mark.django_db

LINES = [
    b'{"time":"2026-11-27T10:00:00Z","action":"deny","rule":"ssh","src.ip":"203.0.113.9",'
    b'"dst.port":22,"allowed":false}',
    b'{"time":"2026-11-27T10:00:01Z","action":"allow","rule":"web","src.ip":"198.51.100.7",'
    b'"dst.port":"8443","allowed":true,"conn.opened":1764237600}',
    b'{"time":"2026-11-27T10:00:02Z","action":"allow","src.ip":"198.51.100.8","dst.port":443}',
]


def test_the_wizard_shows_a_tile_and_its_overview(firewall, admin_client):
    page = admin_client.get(reverse("sources:new")).content.decode()
    assert "Acme Firewall" in page
    assert reverse("sources:new_overview", args=[FIREWALL]) in page
    network = admin_client.get(reverse("sources:new"), {"category": "Network"}).content.decode()
    assert "Acme Firewall" in network
    assert reverse("sources:new_overview", args=["Gravitational.TeleportAudit"]) not in network
    found = admin_client.get(reverse("sources:new"), {"q": "edge firewall"}).content.decode()
    assert "Acme Firewall" in found
    overview = admin_client.get(reverse("sources:new_overview", args=[FIREWALL]))
    assert overview.status_code == 200
    assert "acme.example/docs/firewall-log" in overview.content.decode()
    configure = admin_client.get(reverse("sources:new_configure", args=[FIREWALL, "s3"]))
    assert f'value="{FIREWALL}"' in configure.content.decode()


def test_the_wizard_forgets_a_schema_removed_from_the_folder(firewall, admin_client):
    firewall.unlink()
    assert "Acme Firewall" not in admin_client.get(reverse("sources:new")).content.decode()
    assert admin_client.get(reverse("sources:new_overview", args=[FIREWALL])).status_code == 404


def test_the_wizard_saves_a_draft_for_it(firewall, admin_client):
    response = admin_client.post(
        reverse("sources:new_configure", args=[FIREWALL, "s3"]),
        s3_form_data(name="acme-fw", **{"prefixes-0-log_types": [FIREWALL]}),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert "/permissions/" in response["Location"]


def test_the_settings_forms_accept_it(firewall, schemas_dir):
    s3 = S3SourceForm(s3_form_data(**{"prefixes-0-log_types": [FIREWALL]}))
    assert s3.is_valid(), s3.error_dict()
    assert s3.prefix_rows()[0]["log_types"] == [FIREWALL]
    sqs = SqsSourceForm(
        sqs_form_data(
            log_types=[FIREWALL], queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/q"
        )
    )
    assert sqs.is_valid(), sqs.error_dict()
    firewall.unlink()  # gone from the folder: refused again
    refused = SqsSourceForm(
        sqs_form_data(
            log_types=[FIREWALL], queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/q"
        )
    )
    assert not refused.is_valid()
    assert FIREWALL in refused.error_dict()["log_types"][0]


def test_the_settings_page_saves_it(firewall, admin_client):
    source = SourceFactory(name="acme-fw")
    url = reverse("sources:settings", args=[source.pk])
    data = s3_form_data(name="acme-fw", **{"prefixes-0-log_types": [FIREWALL]})
    assert admin_client.post(url, data).status_code == 302
    source.refresh_from_db()
    assert source.config["prefixes"][0]["log_types"] == [FIREWALL]


def test_the_api_accepts_it(firewall, admin_client, admin_user):
    headers = {"Authorization": f"Bearer {ApiToken.objects.issue(admin_user, 'tests')[1]}"}
    payload = s3_payload(prefixes=[{"prefix": "fw/", "log_types": [FIREWALL]}])
    payload["log_types"] = [FIREWALL]
    created = admin_client.post(
        "/api/v1/sources", payload, content_type="application/json", headers=headers
    )
    assert created.status_code == 201, created.content
    assert created.json()["config"]["prefixes"][0]["log_types"] == [FIREWALL]
    unknown = s3_payload(prefixes=[{"prefix": "fw/", "log_types": ["Acme.Router"]}])
    refused = admin_client.post(
        "/api/v1/sources", unknown, content_type="application/json", headers=headers
    )
    assert refused.status_code == 422
    assert "Acme.Router" in refused.content.decode()


def test_search_knows_its_columns_and_types(firewall, viewer_client):
    columns = schema_columns()
    assert (columns["dst_zone"], columns["conn_opened"], columns["allowed"]) == (
        "string",
        "timestamp",
        "boolean",
    )
    for port, zone, opened in (
        (22, "dmz", "2026-11-27T08:00:00.000000Z"),
        (443, "lan", "2026-11-27T10:00:00.000000Z"),
    ):
        EventFactory(
            p_log_type=FIREWALL,
            fields={"action": "allow", "dst_port": port, "dst_zone": zone, "conn_opened": opened},
        )

    def ports_found(query: str) -> list[int]:
        html = viewer_client.get("/search/", {"q": query, "hist": "1"}).content.decode()
        assert "query-error" not in html, html
        return sorted(e.fields["dst_port"] for e in Event.objects.all() if e.p_row_id in html)

    # `dst.zone` is the column dst_zone only because the schema says so (else: a nested path)
    assert ports_found("dst.zone:dmz") == [22]
    # a timestamp field compares with a date (untyped, ">" would need a number)
    assert ports_found("conn.opened>2026-11-27T09:00:00Z") == [443]
    page = viewer_client.get("/search/").content.decode()
    assert f'<option value="{FIREWALL}"' in page  # the log type filter lists it


def test_workers_parse_with_it_and_reprocess_after_a_schema_fix(firewall):
    source = SourceFactory(name="acme-fw", log_types=[FIREWALL], config={"stream_type": "lines"})
    outcome = ingest_body(source, b"\n".join(LINES), object_key="fw/1.jsonl", version="v1")
    assert (outcome.events, outcome.failures) == (2, 1)  # the third line has no rule
    stored = Event.objects.get(fields__rule="web")
    assert (stored.p_log_type, stored.fields["dst_port"], stored.fields["allowed"]) == (
        FIREWALL,
        8443,
        True,
    )
    assert stored.fields["conn_opened"] == "2025-11-27T10:00:00.000000Z"
    assert stored.p_any_ip_addresses == ["198.51.100.7"]
    firewall.write_text(
        FIREWALL_SCHEMA.replace("  - name: rule\n    required: true\n", "  - name: rule\n")
    )
    result = reprocess_failures(source)
    assert (result.parsed, result.still_failing) == (1, 0)
    assert not Failure.objects.exists()
    assert Event.objects.filter(p_log_type=FIREWALL).count() == 3
    assert Source.objects.get(pk=source.pk).health == Source.Health.HEALTHY


EXPORT = """\
schema: Custom.Export
parser:
  csv: {hasHeader: true}
fields:
  - {name: time, type: timestamp, timeFormats: [rfc3339], isEventTime: true, required: true}
  - {name: user, type: string, required: true}
  - {name: bytes, type: bigint}
"""


def test_failed_lines_of_a_csv_that_learns_its_header_reprocess_once_columns_are_given(
    schemas_dir,
):
    """A stored failed line does not hold the object's header line: reprocessing says what to do
    (on the failure itself), and with the columns in the schema the line parses."""
    schema_file = schemas_dir / "export.yml"
    schema_file.write_text(EXPORT)
    source = SourceFactory(name="export", log_types=["Custom.Export"], config={})
    body = b"time,user,bytes\n2026-11-27T10:00:00Z,alice,12\n2026-11-27T10:00:01Z,,7\n"
    outcome = ingest_body(source, body, object_key="export/1.csv", version="v1")
    assert (outcome.events, outcome.failures) == (1, 1)  # line 3 has no user

    schema_file.write_text(EXPORT.replace("type: string, required: true", "type: string"))
    assert (reprocess_failures(source).parsed, Failure.objects.count()) == (0, 1)
    assert "list the columns in the schema (columns: [...]" in Failure.objects.get().error

    schema_file.write_text(
        EXPORT.replace(
            "{hasHeader: true}", "{hasHeader: true, columns: [time, user, bytes]}"
        ).replace("type: string, required: true", "type: string")
    )
    result = reprocess_failures(source)
    assert (result.parsed, result.still_failing) == (1, 0)
    fixed = Event.objects.get(line=3)
    assert fixed.fields == {"time": "2026-11-27T10:00:01.000000Z", "bytes": 7}


def test_search_shows_a_custom_log_types_own_columns_by_default(firewall, viewer_client):
    """Until the user picks columns, a log type's rows show its schema's scalar fields (required
    first, the event time being the row's time already); Teleport keeps its catalog's columns."""
    from events.search import SearchState
    from logtypes.registry import default_columns

    assert default_columns(FIREWALL) == (
        "action",
        "rule",
        "src_ip",
        "dst_port",
        "dst_zone",
        "conn_opened",
    )
    assert default_columns("Gravitational.TeleportAudit")[:3] == ("event", "code", "user")
    assert default_columns("Nope.Nope") == ("event", "user")
    assert SearchState(log_type=FIREWALL).shown_columns() == default_columns(FIREWALL)

    EventFactory(
        p_log_type=FIREWALL,
        fields={"action": "deny", "rule": "ssh-guard", "src_ip": "203.0.113.9", "dst_port": 22},
    )
    html = viewer_client.get("/search/", {"log_type": FIREWALL}).content.decode()
    assert "<th>rule " in html
    assert "ssh-guard" in html
    assert "203.0.113.9" in html
    chosen = viewer_client.get("/search/", {"log_type": FIREWALL, "cols": "rule"}).content
    assert "<th>action " not in chosen.decode()  # the user's pick wins
