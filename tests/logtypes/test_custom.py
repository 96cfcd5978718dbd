"""Custom log types: checking as typed, saving versions, refusing breaking changes, the tester."""

import gzip

import pytest
import yaml

from audit.models import AuditEntry
from logtypes import custom
from logtypes import registry as logtypes
from logtypes.models import SchemaVersion
from tests.logtypes.conftest import FIREWALL, FIREWALL_SCHEMA

pytestmark = pytest.mark.django_db

APP = """\
schema: Custom.App
description: An app's JSON log.
fields:
  - name: time
    required: true
    type: timestamp
    timeFormats: [rfc3339]
    isEventTime: true
  - name: level
    type: string
  - name: status
    type: int
"""
LINES = (
    b'{"time":"2026-11-27T10:00:00Z","level":"info","status":200}\n'
    b'{"time":"2026-11-27T10:00:01Z","level":"warn","status":"x","who":"bob"}\n'
    b'{"level":"error"}\n'
)


def test_check_places_a_problem_at_its_line_and_column():
    text = APP.replace("type: int", "type: integer")
    schema, problems = custom.check(text)
    assert schema is None
    (problem,) = problems
    assert problem.path == "fields[2] (status).type"
    assert "unknown type 'integer'" in problem.message
    assert (problem.line, problem.column) == (12, 5)


def test_check_places_invalid_yaml_at_its_line():
    _, (problem,) = custom.check(APP + "  - name: [unclosed\n")
    assert problem.line == 13
    assert "invalid YAML" in problem.message


def test_a_saved_schema_is_a_log_type_for_everyone(schemas_dir, admin_user):
    version = custom.save(APP, user=admin_user)
    assert (version.name, version.version, version.author) == ("Custom.App", 1, admin_user)
    assert (schemas_dir / "Custom.App.yml").read_text() == APP
    app = logtypes.get("Custom.App")
    assert app.field_count == 3
    assert app.category == "Custom"
    entry = AuditEntry.objects.get(object_type="schemaversion")
    assert (entry.action, entry.object_label, entry.actor) == (
        "created",
        "Custom.App v1",
        admin_user,
    )


def test_each_save_is_a_new_version_with_its_diff(schemas_dir, admin_user):
    custom.save(APP, user=admin_user)
    second = custom.save(APP + "  - name: path\n    type: string\n", user=admin_user)
    assert second.version == 2
    assert "+  - name: path" in second.diff
    assert [v.version for v in custom.versions("Custom.App")] == [2, 1]
    assert logtypes.get("Custom.App").field_count == 4
    assert AuditEntry.objects.filter(object_type="schemaversion", action="updated").count() == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda t: t.replace("  - name: level\n    type: string\n", ""), "'level' was removed"),
        (lambda t: t.replace("type: int", "type: boolean"), "'status' changes type from int"),
    ],
)
def test_a_change_that_breaks_stored_data_is_refused(schemas_dir, admin_user, change, reason):
    custom.save(APP, user=admin_user)
    with pytest.raises(custom.SaveRefused, match=reason):
        custom.save(change(APP), user=admin_user)
    assert SchemaVersion.objects.count() == 1
    assert logtypes.get("Custom.App").field_count == 3


def test_widening_a_type_is_allowed(schemas_dir, admin_user):
    custom.save(APP, user=admin_user)
    assert custom.save(APP.replace("type: int", "type: bigint"), user=admin_user).version == 2


def test_new_names_start_with_custom_and_built_ins_stay(schemas_dir, admin_user):
    with pytest.raises(custom.SaveRefused, match=r"starts with 'Custom\.'"):
        custom.save(APP.replace("Custom.App", "Acme.App"), user=admin_user)
    teleport = logtypes.get("Gravitational.TeleportAudit").schema.text
    with pytest.raises(custom.SaveRefused, match="built in"):
        custom.save(teleport, user=admin_user)


def test_a_schema_from_the_folder_is_saved_into_its_own_file(firewall, admin_user):
    assert custom.editable(FIREWALL)
    custom.save(FIREWALL_SCHEMA + "  - name: note\n    type: string\n", user=admin_user)
    assert "name: note" in firewall.read_text()
    assert sorted(p.name for p in firewall.parent.glob("*.yml")) == [
        "acme_firewall.yml",
        "catalog.yml",
    ]
    assert logtypes.get(FIREWALL).title == "Acme Firewall"


def test_the_tester_shows_events_failures_and_unknown_keys(schemas_dir):
    schema, _ = custom.check(APP)
    result = custom.parse_sample(schema, custom.read_sample(gzip.compress(LINES)), "auto")
    assert (result.event_count, result.failure_count) == (2, 1)
    assert result.events[0]["level"] == "info"
    assert result.events[1]["p_extra"] == {"status": "x", "who": "bob"}
    assert dict(result.extra_keys) == {"status": 1, "who": 1}
    assert "required field 'time' is missing" in result.failures[0]["error"]


def test_a_sample_over_the_limit_is_refused(settings):
    settings.SLUICE_SAMPLE_MAX_BYTES = 100
    with pytest.raises(ValueError, match="larger than 100 bytes"):
        custom.read_sample(gzip.compress(LINES * 3))


def test_inference_from_a_sample_gives_an_editable_schema():
    text = custom.infer(LINES, "Custom.Inferred")
    schema, problems = custom.check(text)
    assert problems == []
    assert schema.name == "Custom.Inferred"
    assert [f.name for f in schema.fields] == ["time", "level", "status", "who"]
    with pytest.raises(ValueError, match="nothing to infer"):
        custom.infer(b"[1,2]\n", "Custom.X")


def test_inferring_into_a_schema_keeps_an_int_the_sample_fits_and_widens_one_it_does_not():
    narrow = APP.replace("type: int", "type: smallint")
    fits = b'{"time":"2026-11-27T10:00:00Z","status":200}\n'
    kept = yaml.safe_load(custom.infer(fits, "Custom.App", into=narrow))
    assert {f["name"]: f["type"] for f in kept["fields"]}["status"] == "smallint"
    too_big = fits + b'{"time":"2026-11-27T10:00:01Z","status":70000}\n'
    widened = yaml.safe_load(custom.infer(too_big, "Custom.App", into=narrow))
    assert {f["name"]: f["type"] for f in widened["fields"]}["status"] == "bigint"


NGINX_SCHEMA = """\
schema: Custom.Nginx
parser:
  fastmatch:
    match:
      - '%{remote_addr} - %{remote_user} [%{time_local}] "%{request}" %{status} %{bytes}'
    emptyValues: ["-"]
fields:
  - name: remote_addr
    required: true
    type: string
    indicators: [ip]
  - name: remote_user
    type: string
  - name: time_local
    required: true
    type: timestamp
    timeFormats: ["%d/%b/%Y:%H:%M:%S %z"]
    isEventTime: true
  - name: request
    type: string
  - name: status
    type: int
  - name: bytes
    type: bigint
"""


def test_the_workers_parse_a_saved_text_log_type_and_search_knows_its_columns(
    schemas_dir, admin_user
):
    from events.filters import schema_columns
    from events.models import Event, Failure
    from ingestion.process import ingest_body
    from tests.factories import SourceFactory

    custom.save(NGINX_SCHEMA, user=admin_user)
    source = SourceFactory(name="nginx", log_types=["Custom.Nginx"])
    body = b'203.0.113.9 - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612\ngarbage\n'
    outcome = ingest_body(source, gzip.compress(body), object_key="nginx/1.gz", version="v1")
    assert (outcome.events, outcome.failures) == (1, 1)
    event = Event.objects.get(source=source)
    assert event.p_log_type == "Custom.Nginx"
    assert event.fields["status"] == 200
    assert event.p_any_ip_addresses == ["203.0.113.9"]
    assert "does not match the fastmatch pattern" in Failure.objects.get(source=source).error
    assert "remote_addr" in schema_columns()
