"""/api/v1/schemas: list, create, new versions, versions, test and infer; 422 on the field."""

import base64
import gzip
import threading

import pytest
from django.db import connection, connections  # noqa: F401 - connection: skipif
from django.test import Client

from logtypes.models import SchemaVersion
from tests.logtypes.test_custom import APP, LINES
from tests.sources.test_api import admin_api, bearer, viewer_api  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
API = "/api/v1/schemas"
JSON = "application/json"
postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


def test_everyone_lists_and_reads_log_types(schemas_dir, viewer_api):  # noqa: F811
    listed = viewer_api.get(API).json()
    assert [t["name"] for t in listed] == ["Gravitational.TeleportAudit", "Sluice.SSHAuth"]
    assert listed[1]["custom"] is False
    one = viewer_api.get(f"{API}/Sluice.SSHAuth").json()
    assert one["text"].startswith("schema: Sluice.SSHAuth")
    assert viewer_api.get(f"{API}/Nope.Nope").status_code == 404
    assert viewer_api.post(API, {"text": APP}, content_type=JSON).status_code == 403


def test_create_then_a_new_version_then_the_versions(schemas_dir, admin_api):  # noqa: F811
    created = admin_api.post(API, {"text": APP}, content_type=JSON)
    assert created.status_code == 201, created.content
    assert created.json()["version"] == 1
    assert admin_api.post(API, {"text": APP}, content_type=JSON).status_code == 422
    wider = APP + "  - name: path\n    type: string\n"
    updated = admin_api.put(f"{API}/Custom.App", {"text": wider}, content_type=JSON)
    assert updated.json()["fields"] == 4
    versions = admin_api.get(f"{API}/Custom.App/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["author"] == "admin"
    assert "+  - name: path" in versions[0]["diff"]


def test_a_breaking_version_answers_422_on_the_text(schemas_dir, admin_api):  # noqa: F811
    admin_api.post(API, {"text": APP}, content_type=JSON)
    narrowed = APP.replace("type: int", "type: boolean")
    response = admin_api.put(f"{API}/Custom.App", {"text": narrowed}, content_type=JSON)
    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert detail["loc"] == ["body", "text"]
    assert "changes type from int to boolean" in detail["msg"]


def test_an_invalid_schema_says_where(schemas_dir, admin_api):  # noqa: F811
    bad = APP.replace("type: int", "type: nope")
    (detail,) = admin_api.post(API, {"text": bad}, content_type=JSON).json()["detail"]
    assert (detail["line"], detail["column"], detail["path"]) == (12, 5, "fields[2] (status).type")


def test_built_ins_cannot_be_changed(schemas_dir, admin_api):  # noqa: F811
    text = admin_api.get(f"{API}/Sluice.SSHAuth").json()["text"]
    response = admin_api.put(f"{API}/Sluice.SSHAuth", {"text": text}, content_type=JSON)
    assert response.status_code == 403


def test_testing_a_compressed_sample(schemas_dir, viewer_api):  # noqa: F811
    sample = base64.b64encode(gzip.compress(LINES)).decode()
    body = {"text": APP, "sample_base64": sample}
    result = viewer_api.post(f"{API}/test", body, content_type=JSON).json()
    assert (result["event_count"], result["failure_count"]) == (2, 1)
    assert result["extra_keys"] == {"status": 1, "who": 1}


def test_bad_samples_answer_422_on_the_sample(schemas_dir, viewer_api):  # noqa: F811
    for body in ({"text": APP}, {"text": APP, "sample_base64": "%%%"}):
        response = viewer_api.post(f"{API}/test", body, content_type=JSON)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "sample"]


def test_infer(schemas_dir, viewer_api):  # noqa: F811
    body = {"sample": LINES.decode(), "name": "Custom.Api"}
    text = viewer_api.post(f"{API}/infer", body, content_type=JSON).json()["text"]
    assert text.startswith("schema: Custom.Api")
    edited = APP.replace("  - name: level\n", "  - name: level\n    description: Severity.\n")
    merged = viewer_api.post(f"{API}/infer", {**body, "text": edited}, content_type=JSON)
    assert merged.json()["text"].startswith("schema: Custom.App")  # the given schema's name
    assert "description: Severity." in merged.json()["text"]
    broken = viewer_api.post(f"{API}/infer", {**body, "text": "fields: 3"}, content_type=JSON)
    assert broken.status_code == 422
    assert broken.json()["detail"][0]["loc"] == ["body", "text"]


def test_a_body_that_is_not_a_json_object_answers_422(schemas_dir, admin_api):  # noqa: F811
    for url in (API, f"{API}/test", f"{API}/infer"):
        answer = admin_api.post(url, ["text"], content_type=JSON)
        assert answer.status_code == 422, (url, answer.content)


def test_an_unknown_stream_type_answers_422_on_its_field(schemas_dir, viewer_api):  # noqa: F811
    answer = viewer_api.post(
        f"{API}/infer", {"sample": "a", "stream_type": "xml"}, content_type=JSON
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == "stream_type"


def at_once(*calls):
    """Run the calls in threads (each its own database connection) released together."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            start.wait()
            results[index] = call()
        except Exception as exc:  # reported by the caller's assertions
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_saves_of_one_log_type_at_the_same_moment(schemas_dir, admin_user):
    """Two PUTs of new versions at once both land, numbered one after the other (the second
    waits for the first); two creates of one new type at once: one 201, one 422 that says so.
    Neither is a 500 from the unique (name, version) constraint."""
    authorization = bearer(admin_user)["Authorization"]

    def request(method, path, text):
        client = Client(HTTP_AUTHORIZATION=authorization, raise_request_exception=False)
        return getattr(client, method)(path, {"text": text}, content_type=JSON)

    created = at_once(*[lambda: request("post", API, APP)] * 2)
    assert sorted(r.status_code for r in created) == [201, 422], [r.content for r in created]
    (refused,) = [r for r in created if r.status_code == 422]
    assert "Custom.App exists" in refused.json()["detail"][0]["msg"]

    wider = APP + "  - name: path\n    type: string\n"
    saved = at_once(*[lambda: request("put", f"{API}/Custom.App", wider)] * 2)
    assert [r.status_code for r in saved] == [200, 200], [r.content for r in saved]
    assert sorted(r.json()["version"] for r in saved) == [2, 3]
    assert list(SchemaVersion.objects.values_list("version", flat=True)) == [3, 2, 1]


def test_log_types_named_like_an_action_are_read_and_saved(schemas_dir, admin_api):  # noqa: F811
    """A log type's name needs no dot, so /schemas/test may name one: the POST-only action of
    the same path must not answer its GET or PUT with a 405."""
    assert admin_api.get(f"{API}/infer").status_code == 404
    text = "schema: test\nfields:\n  - name: msg\n    type: string\n"
    (schemas_dir / "test.yml").write_text(text)
    assert admin_api.get(f"{API}/test").json()["text"] == text
    changed = text + "  - name: host\n    type: string\n"
    saved = admin_api.put(f"{API}/test", {"text": changed}, content_type=JSON)
    assert saved.status_code == 200, saved.content
    assert admin_api.get(f"{API}/test").json()["text"] == changed
