"""Configure > Schemas: analysts read, admins edit; each editor action with and without htmx."""

import gzip
import html
import re

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from logtypes import registry as logtypes
from tests.logtypes.test_custom import APP, LINES

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_analysts_see_the_list_and_a_schema_but_cannot_edit(schemas_dir, viewer_client):
    page = viewer_client.get(reverse("logtypes:list")).content.decode()
    assert "Gravitational.TeleportAudit" in page
    assert reverse("logtypes:new") not in page
    detail = viewer_client.get(reverse("logtypes:detail", args=["Sluice.SSHAuth"]))
    assert "schema: Sluice.SSHAuth" in detail.content.decode()
    assert viewer_client.get(reverse("logtypes:new")).status_code == 403
    assert (
        viewer_client.post(reverse("logtypes:new"), {"text": APP, "action": "save"}).status_code
        == 403
    )


def test_validation_as_you_type_answers_the_problems_partial(schemas_dir, admin_client):
    url = reverse("logtypes:new")
    ok = admin_client.post(url, {"text": APP, "action": "check"}, **HTMX).content.decode()
    assert ok.startswith('<div id="problems"')
    assert "Valid schema" in ok
    bad = admin_client.post(
        url, {"text": APP.replace("type: int", "type: nope"), "action": "check"}, **HTMX
    ).content.decode()
    assert "line 12, column 5" in bad
    assert "fields[2] (status).type" in bad


def test_the_tester_reads_an_uploaded_compressed_sample(schemas_dir, admin_client):
    upload = SimpleUploadedFile("app.log.gz", gzip.compress(LINES))
    page = admin_client.post(
        reverse("logtypes:new"), {"text": APP, "action": "test", "sample_file": upload}, **HTMX
    ).content.decode()
    assert "2 events, 1 failure" in page
    assert "required field" in page
    assert "<code>who</code> (1)" in page


def test_the_tester_without_a_sample_says_so_on_the_field(schemas_dir, admin_client):
    response = admin_client.post(reverse("logtypes:new"), {"text": APP, "action": "test"})
    assert response.status_code == 400
    assert "paste sample lines" in response.content.decode()


def test_infer_fills_the_editor_from_pasted_lines(schemas_dir, admin_client):
    response = admin_client.post(
        reverse("logtypes:new"),
        {"text": APP, "action": "infer", "sample": LINES.decode()},
        **HTMX,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith('<div id="editor"')
    assert "schema: Custom.App" in page
    assert "name: who" in page


def editor_text(page: str) -> dict:
    """The schema in the editor's textarea."""
    found = re.search(r'<textarea id="id_text"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    return yaml.safe_load(html.unescape(found.group(1)))


def test_infer_merges_into_the_schema_in_the_editor_keeping_its_edits(schemas_dir, admin_client):
    edited = APP.replace("  - name: level\n", "  - name: level\n    description: Severity.\n")
    response = admin_client.post(
        reverse("logtypes:new"),
        {"text": edited, "action": "infer", "sample": LINES.decode()},
        **HTMX,
    )
    assert response.status_code == 200
    schema = editor_text(response.content.decode())
    by_name = {f["name"]: f for f in schema["fields"]}
    assert schema["description"] == "An app's JSON log."
    assert list(by_name) == ["time", "level", "status", "who"]
    assert by_name["level"] == {"name": "level", "description": "Severity.", "type": "string"}
    assert by_name["status"]["type"] == "string"  # 200 and "x": int widened
    assert "required" not in by_name["time"]  # the third line has no time


def test_infer_replaces_the_untouched_starter_schema(schemas_dir, admin_client):
    page = admin_client.get(reverse("logtypes:new")).content.decode()
    starter = html.unescape(
        re.search(r'<textarea id="id_text"[^>]*>(.*?)</textarea>', page, re.DOTALL).group(1)
    )
    response = admin_client.post(
        reverse("logtypes:new"),
        {"text": starter.replace("\n", "\r\n"), "action": "infer", "sample": LINES.decode()},
        **HTMX,
    )
    names = [f["name"] for f in editor_text(response.content.decode())["fields"]]
    # no "message" from the starter (a browser posts a textarea's lines with CRLF)
    assert names == ["time", "level", "status", "who"]


def test_saving_makes_a_tile_and_a_version_page(schemas_dir, admin_client):
    response = admin_client.post(reverse("logtypes:new"), {"text": APP, "action": "save"})
    assert response.status_code == 302
    assert response["Location"] == reverse("logtypes:detail", args=["Custom.App"])
    assert "Custom.App" in logtypes.names()
    assert "Custom.App" in admin_client.get(reverse("sources:new")).content.decode()
    detail = admin_client.get(response["Location"]).content.decode()
    assert "v1" in detail
    assert "admin" in detail
    edit = admin_client.post(
        reverse("logtypes:edit", args=["Custom.App"]),
        {"text": APP.replace("type: int", "type: boolean"), "action": "save"},
    )
    assert edit.status_code == 400
    assert "changes type from int to boolean" in edit.content.decode()


def test_built_ins_have_no_editor(schemas_dir, admin_client):
    url = reverse("logtypes:edit", args=["Gravitational.TeleportAudit"])
    assert admin_client.get(url).status_code == 404


def test_the_audit_log_links_a_version_to_its_log_type(schemas_dir, admin_client):
    admin_client.post(reverse("logtypes:new"), {"text": APP, "action": "save"})
    page = admin_client.get(reverse("audit")).content.decode()
    assert reverse("logtypes:detail", args=["Custom.App"]) + "#v1" in page
    assert "Custom.App v1" in page
