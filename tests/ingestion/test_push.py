"""The push endpoint (/api/v1/ingest/<id>) with an HTTP source: committed before it answers,
exactly once across retries, refused with the right status otherwise."""

import gzip
import hashlib
import hmac
import json

import pytest
from django.urls import reverse

from devtools.generate import generate_lines
from events.models import Event, Failure
from sources import crypto, runtime
from sources.models import HourlyStats, Source
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db
SECRET = "push-secret-0123456789abcdef"
NDJSON = "application/x-ndjson"


@pytest.fixture
def http_source():
    return SourceFactory(
        name="teleport-http",
        transport="http",
        config={"auth": "bearer", "secret_encrypted": crypto.encrypt(SECRET)},
    )


def url(source) -> str:
    return reverse("api:push", kwargs={"source_id": source.pk})


def body(count: int = 5, seed: int = 1, bad: int = 0) -> bytes:
    lines = list(generate_lines(count, seed)) + [b'{"broken": '] * bad
    return b"\n".join(lines) + b"\n"


def post(client, source, data: bytes, *, content_type=NDJSON, secret=SECRET, **headers):
    if secret is not None:
        headers.setdefault("Authorization", f"Bearer {secret}")
    return client.generic("POST", url(source), data, content_type=content_type, headers=headers)


def test_a_push_is_parsed_and_committed_before_the_answer(client, http_source):
    response = post(client, http_source, body(5, bad=1))

    assert response.status_code == 200, response.content
    assert response.json() == {"events": 5, "failures": 1, "duplicates": 0}
    assert Event.objects.filter(source=http_source).count() == 5
    failure = Failure.objects.get(source=http_source)
    assert (failure.raw_text, failure.line, failure.object_key) == ('{"broken": ', 6, "http-push")
    http_source.refresh_from_db()
    assert http_source.health == Source.Health.HEALTHY
    assert http_source.last_event_at
    assert HourlyStats.objects.filter(source=http_source).exists()
    assert runtime.last_received(http_source.pk) is not None  # the receive time: this push


def test_a_retry_adds_nothing_by_idempotency_key_or_by_content(client, http_source):
    keyed, unkeyed = body(4, seed=2), body(3, seed=3)
    first = post(client, http_source, keyed, Idempotency_Key="batch-1")
    again = post(client, http_source, keyed, Idempotency_Key="batch-1")
    plain = post(client, http_source, unkeyed)
    plain_again = post(client, http_source, gzip.compress(unkeyed), Content_Encoding="gzip")

    assert first.json()["duplicates"] == 0
    assert again.json() == {"events": 4, "failures": 0, "duplicates": 4}
    assert plain_again.json() == {"events": 3, "failures": 0, "duplicates": 3}
    assert plain.status_code == 200
    assert Event.objects.filter(source=http_source).count() == 7


def test_json_arrays_and_hmac_signatures(client, http_source):
    http_source.config = {**http_source.config, "auth": "hmac"}
    http_source.save()
    events = [json.loads(line) for line in generate_lines(3, 4)]
    raw = json.dumps(events).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()

    ok = post(client, http_source, raw, content_type="application/json", secret=None,
              X_Sluice_Signature=signature)  # fmt: skip
    bearer = post(client, http_source, raw, content_type="application/json")

    assert ok.status_code == 200, ok.content
    assert ok.json()["events"] == 3
    assert bearer.status_code == 401


def test_refusals_401_413_415_and_unknown_sources_404(client, http_source, settings):
    settings.SLUICE_HTTP_MAX_BODY_BYTES = 1000
    assert post(client, http_source, body(1), secret="wrong-secret").status_code == 401
    missing = post(client, http_source, body(1), secret=None)
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == "Bearer"
    assert post(client, http_source, b"x" * 1001).status_code == 413
    bomb = gzip.compress(b"\n" * 5000)
    assert post(client, http_source, bomb, Content_Encoding="gzip").status_code == 413
    form = post(client, http_source, body(1), content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415
    assert post(client, SourceFactory(), body(1)).status_code == 404  # an S3 source
    assert client.get(url(http_source)).status_code == 405
    assert not Event.objects.exists()


def test_past_the_rate_limit_a_source_gets_429(client, http_source, settings):
    settings.SLUICE_HTTP_RATE_LIMIT = 2
    runtime.connection().delete(
        *runtime.connection().keys(f"sluice:push-rate:{http_source.pk}:*") or ["-"]
    )

    statuses = [post(client, http_source, body(1, seed=n)).status_code for n in range(3)]

    assert statuses == [200, 200, 429]
    assert post(client, http_source, body(1), secret="wrong").status_code == 401  # no budget used


def test_a_paused_source_asks_the_client_to_come_back(client, http_source):
    Source.objects.filter(pk=http_source.pk).update(paused=True)

    response = post(client, http_source, body(1))

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert not Event.objects.exists()


def test_no_session_or_csrf_token_is_needed(http_source):
    from django.test import Client

    response = post(Client(enforce_csrf_checks=True), http_source, body(2))

    assert response.status_code == 200
