"""The HTTP push transport on its own: typed settings, the form and its secret (generated, kept,
replaced, encrypted), authentication (bearer, HMAC), and decoding (content types, gzip, zstd,
limits, origin versions)."""

import gzip
import hashlib
import hmac

import pytest
import zstandard

from sources import crypto, transports
from sources.transports.base import Push, PushRejected, SettingsError
from sources.transports.http import HttpSettings
from tests.factories import SourceFactory
from tests.sources.conftest import TELEPORT

HTTP = transports.get("http")
SECRET = "s3cret-s3cret-s3cret-s3cret"
LINES = b'{"event":"user.login","code":"T1000I","time":"2026-11-27T10:00:00Z"}\n' * 3


def form_data(**overrides) -> dict:
    data = {
        "name": "teleport-http",
        "log_types": [TELEPORT],
        "auth": "bearer",
        "secret": "",
        "stream_type": "auto",
        "envelope": "",
    }
    data.update(overrides)
    return data


def settings_with(auth: str = "bearer", secret: str = SECRET) -> HttpSettings:
    return HTTP.settings({"auth": auth, "secret_encrypted": crypto.encrypt(secret)})


def push(body: bytes = LINES, max_bytes: int = 1 << 20, **headers) -> Push:
    headers = {"Content-Type": "application/x-ndjson", **headers}
    return Push(headers={k.replace("_", "-"): v for k, v in headers.items()}, body=body,
                max_bytes=max_bytes)  # fmt: skip


# --- settings and form -----------------------------------------------------------------------
def test_settings_are_typed_with_defaults_and_refuse_an_unknown_auth():
    settings = HTTP.settings({})
    assert (settings.auth, settings.stream_type, settings.envelope) == ("bearer", "auto", None)
    with pytest.raises(SettingsError, match="auth"):
        HTTP.settings({"auth": "basic"})


@pytest.mark.django_db
def test_an_omitted_secret_is_generated_and_stored_only_encrypted():
    form = HTTP.bind_form(form_data())
    assert form.is_valid(), form.errors

    config = HTTP.config_from(form)

    secret = HTTP.reveal(HTTP.settings(config))
    assert len(secret) >= 40
    assert secret not in str(config)
    assert set(config) == {"auth", "secret_encrypted", "stream_type", "envelope"}
    assert HTTP.public_config(config) == {"auth": "bearer", "stream_type": "auto", "envelope": ""}


@pytest.mark.django_db
def test_editing_keeps_the_secret_unless_a_new_one_is_given():
    first = HTTP.config_from(_valid(form_data(secret=SECRET)))
    source = SourceFactory(transport="http", config=first)

    kept = HTTP.config_from(_valid(form_data(name=source.name), instance=source))
    replaced = HTTP.config_from(
        _valid(form_data(name=source.name, secret="another-secret-0123456789"), instance=source)
    )

    assert kept["secret_encrypted"] == first["secret_encrypted"]
    assert not HTTP.secret_changed(first, kept)
    assert HTTP.reveal(HTTP.settings(replaced)) == "another-secret-0123456789"
    assert HTTP.secret_changed(first, replaced)


@pytest.mark.django_db
def test_a_short_secret_or_unknown_auth_gets_a_message_on_its_field():
    form = HTTP.bind_form(form_data(secret="short", auth="basic"))

    assert not form.is_valid()
    assert "at least 16 characters" in form.errors["secret"][0]
    assert "Select a valid choice" in form.errors["auth"][0]


def test_the_check_reads_the_secret():
    [(name, check)] = HTTP.checks(settings_with())
    assert name == "Secret"
    assert "27 characters" in check()
    [result] = HTTP.verify(HTTP.settings({"auth": "bearer", "secret_encrypted": "garbage"}))
    assert result.ok is False
    assert "cannot be read" in result.message


# --- authentication ---------------------------------------------------------------------------
def test_bearer_accepts_the_secret_and_refuses_anything_else():
    settings = settings_with()
    HTTP.authenticate_push(None, settings, push(Authorization=f"Bearer {SECRET}"))
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {SECRET}"}):
        with pytest.raises(PushRejected) as refused:
            HTTP.authenticate_push(None, settings, push(**headers))
        assert refused.value.status == 401


def test_hmac_accepts_the_signature_of_the_raw_body_only():
    settings = settings_with("hmac")
    signature = "sha256=" + hmac.new(SECRET.encode(), LINES, hashlib.sha256).hexdigest()
    HTTP.authenticate_push(None, settings, push(X_Sluice_Signature=signature))
    for headers in (
        {},
        {"X-Sluice-Signature": signature[:-1] + "0"},
        {"Authorization": f"Bearer {SECRET}"},  # a bearer token is not a signature
    ):
        with pytest.raises(PushRejected) as refused:
            HTTP.authenticate_push(None, settings, push(**headers))
        assert refused.value.status == 401
    with pytest.raises(PushRejected):  # the same signature over another body
        HTTP.authenticate_push(None, settings, push(LINES + b"\n", X_Sluice_Signature=signature))


# --- decoding ---------------------------------------------------------------------------------
def test_ndjson_and_json_bodies_get_their_stream_type_and_others_415():
    settings = settings_with()
    assert HTTP.decode_push(None, settings, push()).stream_type == "lines"
    as_json = push(b"[{}]", Content_Type="application/json; charset=utf-8")
    assert HTTP.decode_push(None, settings, as_json).stream_type == "auto"
    for content_type in ("application/x-www-form-urlencoded", ""):
        with pytest.raises(PushRejected) as refused:
            HTTP.decode_push(None, settings, push(Content_Type=content_type))
        assert refused.value.status == 415


def test_gzip_and_zstd_bodies_are_decompressed_within_the_limit():
    settings = settings_with()
    packed = gzip.compress(LINES)
    assert HTTP.decode_push(None, settings, push(packed, Content_Encoding="gzip")).data == LINES
    zst = zstandard.ZstdCompressor().compress(LINES)
    assert HTTP.decode_push(None, settings, push(zst, Content_Encoding="zstd")).data == LINES

    bomb = gzip.compress(b"\n" * (1 << 20))
    with pytest.raises(PushRejected) as refused:
        HTTP.decode_push(None, settings, push(bomb, max_bytes=1000, Content_Encoding="gzip"))
    assert refused.value.status == 413
    for encoding, body, status in (("br", LINES, 415), ("gzip", b"not gzip", 400)):
        with pytest.raises(PushRejected) as refused:
            HTTP.decode_push(None, settings, push(body, Content_Encoding=encoding))
        assert refused.value.status == status


def test_the_origin_version_is_the_idempotency_key_else_the_content_hash():
    settings = settings_with()
    keyed = HTTP.decode_push(None, settings, push(Idempotency_Key="batch-42"))
    plain = HTTP.decode_push(None, settings, push())
    packed = HTTP.decode_push(None, settings, push(gzip.compress(LINES), Content_Encoding="gzip"))

    assert keyed.version == "key:batch-42"
    assert plain.version == "sha256:" + hashlib.sha256(LINES).hexdigest()
    assert packed.version == plain.version  # the same content, however it was compressed
    assert plain.origin_key == keyed.origin_key == "http-push"
    with pytest.raises(PushRejected) as refused:
        HTTP.decode_push(None, settings, push(b"  \n"))
    assert refused.value.status == 400


def _valid(data, instance=None):
    form = HTTP.bind_form(data, instance=instance)
    assert form.is_valid(), form.errors
    return form
