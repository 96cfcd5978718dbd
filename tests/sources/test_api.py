"""/api/v1/sources with Bearer tokens: CRUD, verification, 422 field messages, roles."""

import pytest
from django.core.management import call_command

from audit.models import ApiToken, AuditEntry
from sources import aws as aws_clients
from sources.models import Source, VerificationRun
from tests.conftest import wait_until
from tests.factories import SourceFactory
from tests.sources.conftest import TELEPORT, s3_payload

API = "/api/v1/sources"


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {ApiToken.objects.issue(user, 'tests')[1]}"}


@pytest.fixture
def admin_api(client, admin_user):
    client.defaults.update({"HTTP_AUTHORIZATION": bearer(admin_user)["Authorization"]})
    return client


@pytest.fixture
def viewer_api(client, viewer):
    client.defaults.update({"HTTP_AUTHORIZATION": bearer(viewer)["Authorization"]})
    return client


def errors_by_field(response) -> dict:
    assert response.status_code == 422, response.content
    return {tuple(item["loc"]): item["msg"] for item in response.json()["detail"]}


@pytest.mark.django_db
def test_without_a_valid_token_every_endpoint_answers_401(client, source):
    calls = [
        ("get", API),
        ("post", API),
        ("get", f"{API}/{source.pk}"),
        ("patch", f"{API}/{source.pk}"),
        ("delete", f"{API}/{source.pk}"),
        ("post", f"{API}/{source.pk}/verify"),
        ("get", f"{API}/{source.pk}/verifications"),
        ("get", f"{API}/{source.pk}/verifications/1"),
    ]
    for method, url in calls:
        for headers in ({}, {"Authorization": "Bearer slc_wrong"}):
            response = getattr(client, method)(
                url, headers=headers, content_type="application/json"
            )
            assert response.status_code == 401, (method, url)
    # a session login is not enough for the API either
    assert Source.objects.filter(pk=source.pk).exists()


@pytest.mark.django_db
def test_viewers_read_but_cannot_change(viewer_api, source):
    assert [s["name"] for s in viewer_api.get(API).json()] == ["teleport-prod"]
    assert viewer_api.get(f"{API}/{source.pk}").json()["config"]["bucket"] == "teleport-audit"
    assert viewer_api.get(f"{API}/{source.pk}/verifications").json() == []
    forbidden = [
        viewer_api.post(API, s3_payload(), content_type="application/json"),
        viewer_api.patch(f"{API}/{source.pk}", {"paused": True}, content_type="application/json"),
        viewer_api.delete(f"{API}/{source.pk}"),
        viewer_api.post(f"{API}/{source.pk}/verify"),
    ]
    for response in forbidden:
        assert response.status_code == 403
        assert "Only source admins" in response.json()["detail"]
    source.refresh_from_db()
    assert not source.paused
    assert not VerificationRun.objects.exists()


@pytest.mark.django_db
def test_bad_input_is_422_with_a_message_per_field_and_nothing_saved(admin_api):
    payload = s3_payload(
        account_id="1234567890123",
        bucket="Not_A_Bucket",
        role_arn="arn:aws:iam::123:role/x",
        discovery="notifications",
        queue_url="https://queue.example.com/1/q",
        prefixes=[{"prefix": "/abs", "log_types": ["No.Such"]}],
    )
    fields = errors_by_field(admin_api.post(API, payload, content_type="application/json"))
    assert "exactly 12 digits" in fields[("body", "config", "account_id")]
    assert "not a valid S3 bucket name" in fields[("body", "config", "bucket")]
    assert "IAM role ARN like" in fields[("body", "config", "role_arn")]
    assert "SQS queue URL like" in fields[("body", "config", "queue_url")]
    assert "do not start with '/'" in fields[("body", "config", "prefixes", 0, "prefix")]
    assert "No.Such" in fields[("body", "config", "prefixes", 0, "log_types")]
    schema_error = admin_api.post(
        API, {**s3_payload(), "transport": "ftp"}, content_type="application/json"
    )
    assert schema_error.status_code == 422
    alarm = admin_api.post(
        API, {**s3_payload(), "alarm_minutes": 5}, content_type="application/json"
    )
    assert alarm.status_code == 422
    assert not Source.objects.exists()


@pytest.mark.e2e
def test_create_and_verify_an_s3_source_through_the_api(client, celery_worker, bucket):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("api-admin", "a@example.com", "pw-123456")
    headers = bearer(admin)
    created = client.post(API, s3_payload(), content_type="application/json", headers=headers)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["health"] == "waiting"
    assert body["config"]["prefixes"] == [
        {"prefix": "teleport/", "log_types": [TELEPORT], "exclude": []}
    ]
    assert body["alarm_minutes"] == 60
    source_id = body["id"]

    queued = client.post(f"{API}/{source_id}/verify", headers=headers)
    assert queued.status_code == 202
    run_url = f"{API}/{source_id}/verifications/{queued.json()['id']}"
    run = wait_until(
        lambda: (r := client.get(run_url, headers=headers).json())["done"] and r,
        what="verification through the API",
    )
    assert run["status"] == "passed"
    assert [c["ok"] for c in run["checks"]] == [True, True, True]

    changed = client.patch(
        f"{API}/{source_id}",
        {"config": {"bucket": "no-such-bucket"}},
        content_type="application/json",
        headers=headers,
    )
    assert changed.json()["config"]["bucket"] == "no-such-bucket"
    queued = client.post(f"{API}/{source_id}/verify", headers=headers)
    run_url = f"{API}/{source_id}/verifications/{queued.json()['id']}"
    run = wait_until(lambda: (r := client.get(run_url, headers=headers).json())["done"] and r)
    assert run["status"] == "failed"
    assert "Bucket no-such-bucket does not exist" in run["checks"][0]["message"]
    source = client.get(f"{API}/{source_id}", headers=headers).json()
    assert source["health"] == "unhealthy"
    assert [
        c.action
        for c in AuditEntry.objects.filter(object_type="source", object_id=str(source_id)).order_by(
            "at", "id"
        )
    ] == [
        "created",
        "verified",
        "updated",
        "verified",
    ]


@pytest.mark.e2e
def test_create_an_sqs_source_with_a_new_queue_and_verify_it(client, celery_worker):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("api-admin", "a@example.com", "pw-123456")
    headers = bearer(admin)
    payload = {
        "name": "teleport-raw",
        "transport": "sqs",
        "log_types": [TELEPORT],
        "config": {
            "queue_name": "teleport-raw-events",
            "region": "us-east-1",
            "stream_type": "lines",
            "allowed_source_arns": ["arn:aws:sns:us-east-1:123456789012:teleport"],
        },
    }
    created = client.post(API, payload, content_type="application/json", headers=headers)
    assert created.status_code == 201, created.content
    config = created.json()["config"]
    assert config["created_by_console"] is True
    assert config["queue_url"].endswith("/123456789012/teleport-raw-events")
    queue = aws_clients.client("sqs", region="us-east-1").get_queue_attributes(
        QueueUrl=config["queue_url"], AttributeNames=["Policy"]
    )
    assert "arn:aws:sns:us-east-1:123456789012:teleport" in queue["Attributes"]["Policy"]

    queued = client.post(f"{API}/{created.json()['id']}/verify", headers=headers)
    run_url = f"{API}/{created.json()['id']}/verifications/{queued.json()['id']}"
    run = wait_until(lambda: (r := client.get(run_url, headers=headers).json())["done"] and r)
    assert run["status"] == "passed", run
    assert [c["name"] for c in run["checks"]] == ["Queue reachable", "Queue policy"]


@pytest.mark.django_db
def test_update_pause_and_delete(admin_api, admin_user):
    source = SourceFactory(
        name="old-name", config={**s3_payload()["config"], "discovery": "listing"}
    )
    renamed = admin_api.patch(
        f"{API}/{source.pk}", {"name": "new-name"}, content_type="application/json"
    )
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "new-name"
    paused = admin_api.patch(
        f"{API}/{source.pk}", {"paused": True}, content_type="application/json"
    )
    assert paused.json()["health"] == "paused"
    taken = SourceFactory(name="taken")
    clash = admin_api.patch(
        f"{API}/{source.pk}", {"name": "TAKEN"}, content_type="application/json"
    )
    assert errors_by_field(clash)[("body", "name")] == "A source named 'TAKEN' already exists."
    assert admin_api.delete(f"{API}/{source.pk}").status_code == 204
    assert not Source.objects.filter(pk=source.pk).exists()
    assert Source.objects.filter(pk=taken.pk).exists()
    actions = list(
        AuditEntry.objects.filter(
            object_type="source", object_label__in=["old-name", "new-name"]
        ).values_list("action", "actor__username", "via")
    )
    assert ("deleted", admin_user.username, "api") in actions
    assert ("paused", admin_user.username, "api") in actions
    assert admin_api.get(f"{API}/{source.pk}").status_code == 404


@pytest.mark.django_db
def test_openapi_document_lists_the_sources_endpoints_and_bearer_auth(client):
    doc = client.get("/api/openapi.json").json()
    assert "/api/v1/sources" in doc["paths"]
    assert "/api/v1/sources/{source_id}/verify" in doc["paths"]
    assert doc["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in docs.content.decode()
    assert "cdn.jsdelivr.net" not in docs.content.decode()


@pytest.mark.django_db
def test_tokens_are_hashed_at_rest_and_shown_once(client, viewer):
    client.force_login(viewer)
    page = client.post("/account/", {"name": "ci"}).content.decode()
    token = ApiToken.objects.get(user=viewer)
    raw = page.split('id="new-token" tabindex="0">')[1].split("<")[0]
    assert raw.startswith("slc_")
    assert raw[:10] == token.prefix
    assert raw not in token.digest
    assert len(token.digest) == 64
    assert raw not in client.get("/account/").content.decode()
    assert client.get(API, headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    client.post(f"/account/tokens/{token.pk}/revoke/")
    assert client.get(API, headers={"Authorization": f"Bearer {raw}"}).status_code == 401


@pytest.mark.django_db
def test_create_api_token_command_prints_a_working_token(client, viewer, capsys):
    call_command("create_api_token", "viewer", "--name", "cli")
    raw = capsys.readouterr().out.strip()
    assert ApiToken.objects.get(user=viewer).name == "cli"
    assert client.get(API, headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    with pytest.raises(Exception, match="No user named 'nobody'"):
        call_command("create_api_token", "nobody")


@pytest.mark.django_db
def test_source_admins_group_members_manage_sources_through_the_api(client, source_admin):
    payload = s3_payload(discovery="listing")
    response = client.post(
        API, payload, content_type="application/json", headers=bearer(source_admin)
    )
    assert response.status_code == 201, response.content
    change = AuditEntry.objects.get(object_type="source", object_id=str(response.json()["id"]))
    assert change.actor == source_admin
    assert change.via == "api"


# --- HTTP push sources -----------------------------------------------------------------------
def http_payload(**config) -> dict:
    return {
        "name": "teleport-http",
        "transport": "http",
        "log_types": [TELEPORT],
        "config": {"auth": "bearer", **config},
    }


@pytest.mark.django_db
def test_an_http_source_shows_its_generated_secret_once_and_its_ingest_url(admin_api):
    created = admin_api.post(API, http_payload(), content_type="application/json")

    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["secret"]
    assert len(secret) >= 40
    assert body["ingest_url"] == f"http://testserver/api/v1/ingest/{body['id']}"
    assert body["config"] == {"auth": "bearer", "stream_type": "auto", "envelope": ""}
    for again in (
        admin_api.get(f"{API}/{body['id']}"),
        admin_api.get(API),
        admin_api.patch(
            f"{API}/{body['id']}", {"config": {"auth": "hmac"}}, content_type="application/json"
        ),
    ):
        assert again.status_code == 200
        assert secret not in again.content.decode()
        assert "secret" not in again.content.decode()  # neither it nor its ciphertext
    source = Source.objects.get(pk=body["id"])
    assert source.config["auth"] == "hmac"
    assert source.transport_impl.reveal(source.settings) == secret  # kept by the change
    assert secret not in str(source.config)
    assert secret not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


@pytest.mark.django_db
def test_an_http_source_takes_a_given_secret_and_checks_it(admin_api):
    given = admin_api.post(
        API, http_payload(secret="my-own-secret-0123456789"), content_type="application/json"
    )
    short = admin_api.post(
        API,
        {**http_payload(secret="short", auth="basic"), "name": "other"},
        content_type="application/json",
    )

    assert given.json()["secret"] == "my-own-secret-0123456789"
    assert errors_by_field(short) == {
        ("body", "config", "secret"): "Ensure this value has at least 16 characters (it has 5).",
        ("body", "config", "auth"): "Select a valid choice. basic is not one of the available "
        "choices.",
    }


@pytest.mark.django_db
def test_other_transports_have_no_ingest_url_and_the_schema_documents_it(admin_api, source):
    assert admin_api.get(f"{API}/{source.pk}").json()["ingest_url"] is None
    doc = admin_api.get("/api/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert "ingest_url" in schemas["SourceOut"]["properties"]
    assert "secret" in schemas["SourceCreatedOut"]["properties"]
    assert "http" in schemas["SourceIn"]["properties"]["transport"]["enum"]
    push = doc["paths"]["/api/v1/ingest/{source_id}"]["post"]
    assert "application/x-ndjson" in push["requestBody"]["content"]
    assert {"200", "401", "413", "415", "429"} <= set(push["responses"])
    assert push.get("security") in (None, [])  # the source's secret, not an API token


@pytest.mark.django_db
def test_ids_too_large_for_the_database_are_404(admin_api, source):
    huge = "2683563254908927868928"
    for url in [
        f"{API}/{huge}",
        f"{API}/{huge}/verifications",
        f"{API}/{huge}/verifications/1",
        f"{API}/{source.pk}/verifications/{huge}",
        f"{API}/{2**63}",
    ]:
        assert admin_api.get(url).status_code == 404, url
    assert admin_api.delete(f"{API}/{huge}").status_code == 404
    assert admin_api.post(f"{API}/{huge}/verify").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["[null, null]", "[]", "null", "1", '"name"'])
def test_a_body_that_is_not_an_object_is_422(admin_api, source, body):
    response = admin_api.patch(f"{API}/{source.pk}", body, content_type="application/json")
    assert response.status_code == 422, response.content
    response = admin_api.post(API, body, content_type="application/json")
    assert response.status_code == 422, response.content


# changes every signed-in role may make (tests/console/test_permission_matrix.py): no 403
EVERY_ROLE = {
    ("patch", "/api/v1/alerts/{alert_id}"),
    ("post", "/api/v1/schemas/test"),
    ("post", "/api/v1/schemas/infer"),
}


@pytest.mark.django_db
def test_openapi_documents_every_status_the_api_answers(client):
    doc = client.get("/api/openapi.json").json()
    for path, methods in doc["paths"].items():
        if path.startswith("/api/v1/ingest"):
            continue
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert "401" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in {"post", "patch", "delete"} and (method, path) not in EVERY_ROLE:
                assert "403" in codes, (method, path)
            if method in {"post", "patch"} or operation.get("parameters"):
                assert "422" in codes, (method, path)


@pytest.mark.django_db
def test_openapi_range_is_an_enum_and_source_config_needs_settings(client):
    doc = client.get("/api/openapi.json").json()
    params = {p["name"]: p for p in doc["paths"]["/api/v1/events"]["get"]["parameters"]}
    schema = params["range"]["schema"]
    enum = schema.get("enum") or next(s["enum"] for s in schema.get("anyOf", []) if "enum" in s)
    assert set(enum) >= {"15m", "1h", "24h", "7d", "30d"}
    source_in = doc["components"]["schemas"]["SourceIn"]
    assert source_in["properties"]["config"].get("minProperties") == 1
